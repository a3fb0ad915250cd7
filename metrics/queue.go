package metrics

import (
	"context"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/heraldhq/herald/store"
)

// queueCollector reads the job queue's depth when /metrics is scraped: one
// grouped query, bounded by a timeout, rather than counters kept in step
// by every node.
type queueCollector struct {
	stats   func(context.Context) ([]store.QueueStat, error)
	timeout time.Duration
	logger  *slog.Logger
	jobs    *prometheus.Desc
	age     *prometheus.Desc
}

// NewQueueCollector returns the collector of the job queue's depth by kind
// and state, and of the age of the oldest available job by kind, read with
// stats (store.DB.QueueStats) at each scrape. A failed read is logged and
// leaves these series out of that scrape.
func NewQueueCollector(stats func(context.Context) ([]store.QueueStat, error), logger *slog.Logger) prometheus.Collector {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &queueCollector{
		stats:   stats,
		timeout: 5 * time.Second,
		logger:  logger,
		jobs: prometheus.NewDesc("herald_queue_jobs",
			"Unfinished jobs in the queue (all nodes) by kind and state: available, pending, retryable, running, scheduled.",
			[]string{"kind", "state"}, nil),
		age: prometheus.NewDesc("herald_queue_oldest_job_age_seconds",
			"How long the oldest available job of a kind has waited to be worked (0 when none waits).",
			[]string{"kind"}, nil),
	}
}

func (c *queueCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.jobs
	ch <- c.age
}

func (c *queueCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()
	stats, err := c.stats(ctx)
	if err != nil {
		c.logger.Warn("metrics: read the queue's depth", "err", err)
		return
	}
	ages := map[string]time.Duration{}
	for _, s := range stats {
		ch <- prometheus.MustNewConstMetric(c.jobs, prometheus.GaugeValue, float64(s.Jobs), s.Kind, s.State)
		if _, ok := ages[s.Kind]; !ok {
			ages[s.Kind] = 0
		}
		if s.State == "available" {
			ages[s.Kind] = s.OldestAge
		}
	}
	for kind, age := range ages {
		ch <- prometheus.MustNewConstMetric(c.age, prometheus.GaugeValue, age.Seconds(), kind)
	}
}
