package queue

import (
	"time"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/store"
)

// Metrics receives the engine's outcomes where the engine decides them;
// package metrics implements it over Prometheus. A nil Config.Metrics
// records nothing.
type Metrics interface {
	// Delivery counts a delivery reaching an outcome on a channel: one of
	// the final statuses (delivered, failed, dead, skipped) or
	// OutcomeDeferred.
	Delivery(channel, outcome string)
	// Attempt records one send attempt: how long the send took (zero when
	// none was made: the notifier is gone or refuses its configuration),
	// whether it failed, and whether another attempt follows.
	Attempt(channel string, took time.Duration, failed, retry bool)
	// Latency records the time from an event's acceptance to the success
	// of one of its deliveries.
	Latency(channel string, d time.Duration)
	// RateLimitWait counts a send through a notifier held back for a
	// rate-limit slot that frees after wait.
	RateLimitWait(channel string, notifierID int64, wait time.Duration)
	// Fanout records how many deliveries an event or a push (kind "event"
	// or "push") fanned out to.
	Fanout(kind string, deliveries int)
}

// OutcomeDeferred is the outcome of a claimed delivery sent back to
// pending for want of a rate-limit slot; it is counted each time.
const OutcomeDeferred = "deferred"

type noMetrics struct{}

func (noMetrics) Delivery(string, string)                    {}
func (noMetrics) Attempt(string, time.Duration, bool, bool)  {}
func (noMetrics) Latency(string, time.Duration)              {}
func (noMetrics) RateLimitWait(string, int64, time.Duration) {}
func (noMetrics) Fanout(string, int)                         {}

// countCreated records a fan-out of kind: its size, and the deliveries
// settled as they were made (inbox messages delivered at once, recipients
// without an address skipped, messages that could not be rendered
// failed); the pending ones are counted when they are sent. acceptedAt is
// the event's acceptance (zero for a push).
func (e *Engine) countCreated(kind string, acceptedAt time.Time, ds []store.NewDelivery) {
	e.metrics.Fanout(kind, len(ds))
	for _, d := range ds {
		if d.Status == herald.StatusPending {
			continue
		}
		e.metrics.Delivery(d.Channel, d.Status)
		if d.Status == herald.StatusDelivered && !acceptedAt.IsZero() {
			e.metrics.Latency(d.Channel, time.Since(acceptedAt))
		}
	}
}
