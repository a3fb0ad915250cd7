package metrics

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/heraldhq/herald/store"
)

// The queue collector reports what the store reads at scrape time: jobs
// by kind and state, and the oldest available job's age by kind (0 for a
// kind with none available).
func TestQueueCollector(t *testing.T) {
	t.Parallel()
	c := NewQueueCollector(func(context.Context) ([]store.QueueStat, error) {
		return []store.QueueStat{
			{Kind: "herald.deliver", State: "available", Jobs: 3, OldestAge: 1500 * time.Millisecond},
			{Kind: "herald.deliver", State: "running", Jobs: 2},
			{Kind: "herald.push", State: "scheduled", Jobs: 1},
		}, nil
	}, nil)
	want := `
# HELP herald_queue_jobs Unfinished jobs in the queue (all nodes) by kind and state: available, pending, retryable, running, scheduled.
# TYPE herald_queue_jobs gauge
herald_queue_jobs{kind="herald.deliver",state="available"} 3
herald_queue_jobs{kind="herald.deliver",state="running"} 2
herald_queue_jobs{kind="herald.push",state="scheduled"} 1
# HELP herald_queue_oldest_job_age_seconds How long the oldest available job of a kind has waited to be worked (0 when none waits).
# TYPE herald_queue_oldest_job_age_seconds gauge
herald_queue_oldest_job_age_seconds{kind="herald.deliver"} 1.5
herald_queue_oldest_job_age_seconds{kind="herald.push"} 0
`
	if err := testutil.CollectAndCompare(c, strings.NewReader(want)); err != nil {
		t.Error(err)
	}
	if problems, err := testutil.CollectAndLint(c); err != nil || len(problems) > 0 {
		t.Errorf("lint: %v %+v", err, problems)
	}
}

// A failed read leaves the queue's series out of the scrape, logged,
// rather than failing the whole page.
func TestQueueCollector_ReadFails(t *testing.T) {
	t.Parallel()
	var logs bytes.Buffer
	reg := prometheus.NewRegistry()
	reg.MustRegister(NewQueueCollector(func(context.Context) ([]store.QueueStat, error) {
		return nil, errors.New("database is locked")
	}, slog.New(slog.NewTextHandler(&logs, nil))))
	New(reg).Delivery("webhook", "delivered")
	mfs, err := reg.Gather()
	if err != nil || len(mfs) != 1 || mfs[0].GetName() != "herald_deliveries_total" {
		t.Fatalf("gathered %v, %v; want the other series alone", mfs, err)
	}
	if !strings.Contains(logs.String(), "database is locked") {
		t.Errorf("the failure is not logged: %s", logs.String())
	}
}

// Every series of the set passes promtool's lint once it has values.
func TestSet_Lint(t *testing.T) {
	t.Parallel()
	reg := NewRegistry()
	s := New(reg)
	s.Delivery("webhook", "delivered")
	s.Attempt("webhook", time.Second, true, true)
	s.Latency("webhook", time.Second)
	s.RateLimitWait("dingtalk", 7, time.Minute)
	s.Fanout("event", 3)
	s.OTPSend("sms", "sent")
	s.OTPVerify("verified")
	problems, err := testutil.GatherAndLint(reg)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("%s: %s", p.Metric, p.Text)
	}
}
