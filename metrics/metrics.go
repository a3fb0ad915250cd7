// Package metrics holds Herald's Prometheus series for what the delivery
// engine and one-time codes decide. New registers them and returns a Set;
// queue.Engine and otp.Service record through it by their own small
// Metrics interfaces, so the domain code never imports Prometheus. The
// HTTP series live with the server (package api), the queue's depth is
// read at scrape time (NewQueueCollector). docs/OPERATIONS.md lists every
// series.
package metrics

import (
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// NewRegistry returns a registry with the Go runtime and process
// collectors: the one /metrics serves.
func NewRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return reg
}

// Set records the engine's and one-time codes' outcomes. Its methods
// implement queue.Metrics and otp.Metrics.
type Set struct {
	deliveries  *prometheus.CounterVec
	attempts    *prometheus.CounterVec
	retries     *prometheus.CounterVec
	attemptTime *prometheus.HistogramVec
	latency     *prometheus.HistogramVec
	waits       *prometheus.CounterVec
	waitTime    *prometheus.CounterVec
	fanout      *prometheus.HistogramVec
	otpSends    *prometheus.CounterVec
	otpChecks   *prometheus.CounterVec
}

// New registers the series on reg and returns the Set that records them.
func New(reg prometheus.Registerer) *Set {
	s := &Set{
		deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "herald_deliveries_total",
			Help: "Deliveries reaching an outcome, by channel: delivered, failed (permanently), dead (out of attempts), skipped (no address), deferred (held back for a rate-limit slot, each time).",
		}, []string{"channel", "outcome"}),
		attempts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "herald_delivery_attempts_total",
			Help: "Send attempts by channel and result (ok or error).",
		}, []string{"channel", "result"}),
		retries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "herald_delivery_retries_total",
			Help: "Failed attempts after which the delivery is tried again, by channel.",
		}, []string{"channel"}),
		attemptTime: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "herald_delivery_attempt_duration_seconds",
			Help:    "How long one send attempt took, by channel.",
			Buckets: []float64{.01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 15, 30},
		}, []string{"channel"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "herald_delivery_latency_seconds",
			Help:    "Time from an event's acceptance to its delivery's success, retries included, by channel.",
			Buckets: []float64{.05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600, 14400},
		}, []string{"channel"}),
		waits: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "herald_ratelimit_waits_total",
			Help: "Sends held back because their rate-limited target had no free slot, by channel and notifier id.",
		}, []string{"channel", "notifier"}),
		waitTime: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "herald_ratelimit_wait_seconds_total",
			Help: "Time the held-back sends were told to wait for their slot, by channel and notifier id.",
		}, []string{"channel", "notifier"}),
		fanout: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "herald_fanout_deliveries",
			Help:    "Deliveries one event (kind event) or one push send (kind push) fanned out to.",
			Buckets: []float64{0, 1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000},
		}, []string{"kind"}),
		otpSends: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "herald_otp_sends_total",
			Help: "One-time code send requests by channel and outcome: sent, failed (the notifier could not send), rate_limited (resend interval or daily cap), rejected (bad request or no notifier), error.",
		}, []string{"channel", "outcome"}),
		otpChecks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "herald_otp_verifications_total",
			Help: "One-time code verifications by outcome: verified, wrong, expired, locked, used, replaced, not_found, conflict, rejected, error.",
		}, []string{"outcome"}),
	}
	reg.MustRegister(s.deliveries, s.attempts, s.retries, s.attemptTime, s.latency, s.waits, s.waitTime, s.fanout, s.otpSends, s.otpChecks)
	return s
}

// Delivery counts a delivery reaching outcome on channel.
func (s *Set) Delivery(channel, outcome string) {
	s.deliveries.WithLabelValues(channel, outcome).Inc()
}

// Attempt records one send attempt on channel: how long the send took
// (zero when none was made), whether it failed, and whether a retry
// follows.
func (s *Set) Attempt(channel string, took time.Duration, failed, retry bool) {
	result := "ok"
	if failed {
		result = "error"
	}
	s.attempts.WithLabelValues(channel, result).Inc()
	if took > 0 { // zero: no send was made (the notifier is gone)
		s.attemptTime.WithLabelValues(channel).Observe(took.Seconds())
	}
	if retry {
		s.retries.WithLabelValues(channel).Inc()
	}
}

// Latency records the time from an event's acceptance to its delivery on
// channel.
func (s *Set) Latency(channel string, d time.Duration) {
	s.latency.WithLabelValues(channel).Observe(max(d, 0).Seconds())
}

// RateLimitWait counts a send through notifier held back for wait.
func (s *Set) RateLimitWait(channel string, notifierID int64, wait time.Duration) {
	n := strconv.FormatInt(notifierID, 10)
	s.waits.WithLabelValues(channel, n).Inc()
	s.waitTime.WithLabelValues(channel, n).Add(max(wait, 0).Seconds())
}

// Fanout records how many deliveries an event or a push (kind) fanned out
// to.
func (s *Set) Fanout(kind string, deliveries int) {
	s.fanout.WithLabelValues(kind).Observe(float64(deliveries))
}

// OTPSend counts a one-time code send request's outcome on channel.
func (s *Set) OTPSend(channel, outcome string) {
	s.otpSends.WithLabelValues(channel, outcome).Inc()
}

// OTPVerify counts a verification's outcome.
func (s *Set) OTPVerify(outcome string) {
	s.otpChecks.WithLabelValues(outcome).Inc()
}
