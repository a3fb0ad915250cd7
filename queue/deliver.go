package queue

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"sync"
	"time"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/channel"
	"github.com/heraldhq/herald/channel/senders"
	"github.com/heraldhq/herald/store"
	"github.com/riverqueue/river"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
)

type deliverWorker struct {
	river.WorkerDefaults[store.DeliverArgs]
	e *Engine
}

// Work claims the job's deliveries (leased to this node, and each to a
// rate-limited robot only with a free slot of its limit: the others wait
// as pending rows, holding no worker), sends them SendConcurrency at a
// time while a heartbeat keeps their lease, and records every outcome in
// one transaction.
func (w *deliverWorker) Work(ctx context.Context, job *river.Job[store.DeliverArgs]) error {
	ctx = tenantContext(ctx, job.Args.TenantID)
	notifiers := map[int64]*notifierOrErr{}
	var mu sync.Mutex
	notifier := func(id int64) (*herald.Notifier, error) {
		mu.Lock()
		defer mu.Unlock()
		n, ok := notifiers[id]
		if !ok {
			n = &notifierOrErr{}
			n.n, n.err = w.e.db.FindNotifierByID(ctx, id)
			notifiers[id] = n
		}
		return n.n, n.err
	}
	// Each notifier is read once per job, through the read pool, as the
	// claiming transaction paces by it.
	claimed, err := w.e.db.ClaimDeliveries(ctx, job.Args.DeliveryIDs, store.ClaimOptions{
		Lease: w.e.cfg.Lease,
		Pace: func(id int64) (store.Pace, error) {
			n, err := notifier(id)
			if err != nil {
				return store.Pace{}, err
			}
			return senders.Pace(n), nil
		},
		Deferred: func(d *store.ClaimedDelivery, until time.Time) {
			w.e.metrics.Delivery(d.Channel, OutcomeDeferred)
			w.e.metrics.RateLimitWait(d.Channel, d.NotifierID, time.Until(until))
		},
	})
	if err != nil || len(claimed) == 0 {
		return err
	}
	built := map[int64]*senderOrErr{}
	sender := func(id int64) (channel.Sender, error) {
		n, err := notifier(id)
		mu.Lock()
		defer mu.Unlock()
		s, ok := built[id]
		if !ok {
			s = &senderOrErr{}
			if err == nil {
				// A configuration the channel refuses (a secret that is
				// not base64, an SMS template that does not render JSON)
				// refuses every attempt alike: fail at once.
				if s.sender, err = w.e.senders.Sender(n); err != nil {
					err = channel.Permanent(fmt.Errorf("notifier %d: %w", id, err))
				}
			}
			s.err = err
			built[id] = s
		}
		return s.sender, s.err
	}
	stop := w.e.heartbeat(ctx, claimed)
	defer stop()
	results := make([]store.DeliveryResult, len(claimed))
	sem := make(chan struct{}, w.e.cfg.SendConcurrency)
	var wg sync.WaitGroup
	for i, d := range claimed {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			results[i] = w.e.send(ctx, d, sender)
		}()
	}
	wg.Wait()
	stop()
	return w.e.db.FinishDeliveries(context.WithoutCancel(ctx), results)
}

type notifierOrErr struct {
	n   *herald.Notifier
	err error
}

// heartbeat keeps the lease of claimed deliveries until stop is called, so
// that a slow batch is not taken over while this node still works on it.
func (e *Engine) heartbeat(ctx context.Context, claimed []*store.ClaimedDelivery) (stop func()) {
	ids := make([]int64, len(claimed))
	for i, d := range claimed {
		ids[i] = d.ID
	}
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(e.cfg.Lease / 3)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				if err := e.db.HeartbeatDeliveries(context.WithoutCancel(ctx), ids, e.cfg.Lease); err != nil {
					e.logger.Warn("delivery heartbeat", "err", err)
				}
			}
		}
	}()
	var once sync.Once
	return func() { once.Do(func() { close(done); <-finished }) }
}

type senderOrErr struct {
	sender channel.Sender
	err    error
}

// send makes one attempt, classifies its outcome, and counts and logs it.
func (e *Engine) send(ctx context.Context, d *store.ClaimedDelivery, sender func(int64) (channel.Sender, error)) store.DeliveryResult {
	r := store.DeliveryResult{ID: d.ID, PaceKey: d.PaceKey, SlotAt: d.SlotAt}
	ctx, span := e.tracer.Start(ctx, "herald.delivery.attempt", trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(
		attribute.Int64("herald.delivery.id", d.ID), attribute.Int64("herald.event.id", d.EventID), attribute.Int64("herald.push.id", d.PushID),
		attribute.Int64("herald.notifier.id", d.NotifierID), attribute.String("herald.channel", d.Channel), attribute.Int("herald.attempt", d.Attempts)))
	defer span.End()
	var took time.Duration
	s, err := sender(d.NotifierID)
	if err == nil {
		var m channel.Message
		if err = json.Unmarshal(d.Message, &m); err == nil {
			// A message stored without a card holds "card": null, which
			// would read back as a 4-byte card and make Lark send an
			// interactive message with a null card instead of a post.
			if string(m.Card) == "null" {
				m.Card = nil
			}
			m.ID = d.MessageID // the same on every attempt: the webhook-id
			if m.Subject == "" && m.Text == "" && m.Markdown == "" && len(m.Body) == 0 && len(m.Card) == 0 {
				// A delivery whose message could not be rendered, retried.
				err = channel.Permanent(errors.New("there is no message to send: it could not be rendered"))
			} else {
				start := time.Now()
				_, err = s.Send(ctx, m)
				took = time.Since(start)
			}
		}
	}
	switch {
	case err == nil:
		r.Status = herald.StatusDelivered
	case herald.ErrorCode(err) == herald.ENOTFOUND:
		r.Status, r.Error = herald.StatusFailed, "the notifier no longer exists"
	case channel.IsPermanent(err):
		r.Status, r.Error = herald.StatusFailed, err.Error()
	case d.Attempts >= e.cfg.MaxAttempts:
		r.Status, r.Error = herald.StatusDead, err.Error()
	default:
		wait := max(channel.RetryAfterOf(err), e.backoff(d.Attempts))
		r.Status, r.Error, r.RetryAt = herald.StatusPending, err.Error(), time.Now().Add(wait)
	}
	if wait := senders.PauseOf(err); wait > 0 && d.PaceKey != "" {
		// The robot answered that it is rate limited: every node holds off.
		r.PauseUntil = time.Now().Add(wait)
	}
	e.record(ctx, d, r, took, err)
	span.SetAttributes(attribute.String("herald.delivery.status", r.Status))
	if err != nil {
		span.SetStatus(codes.Error, r.Error) // the text a tenant sees, no detail
	}
	return r
}

// record counts an attempt's outcome where it is decided, and logs a
// failure: at WARN when the delivery is failed or dead for good, at INFO
// when it is tried again.
func (e *Engine) record(ctx context.Context, d *store.ClaimedDelivery, r store.DeliveryResult, took time.Duration, err error) {
	retry := r.Status == herald.StatusPending
	e.metrics.Attempt(d.Channel, took, err != nil, retry)
	if !retry {
		e.metrics.Delivery(d.Channel, r.Status)
	}
	if r.Status == herald.StatusDelivered && !d.EventAt.IsZero() {
		e.metrics.Latency(d.Channel, time.Since(d.EventAt))
	}
	if err == nil {
		return
	}
	attrs := []any{"delivery", d.ID, "notifier", d.NotifierID, "channel", d.Channel, "attempt", d.Attempts, "status", r.Status,
		// The peer's answer as the channel reports it for the log: URLs
		// come masked (herald.RedactURL); any left in the text are masked
		// here too.
		"answer", redactURLs(channel.Detail(err))}
	if d.EventID != 0 {
		attrs = append([]any{"event", d.EventID}, attrs...)
	} else if d.PushID != 0 {
		attrs = append([]any{"push", d.PushID}, attrs...)
	}
	if retry {
		e.logger.InfoContext(ctx, "delivery attempt failed; retrying", append(attrs, "retry_at", r.RetryAt)...)
		return
	}
	e.logger.WarnContext(ctx, "delivery "+r.Status, attrs...)
}

// reURL finds URLs in free text.
var reURL = regexp.MustCompile(`[A-Za-z][A-Za-z0-9+.\-]*://[^\s"'<>()]+`)

// redactURLs masks the credentials of every URL in s as every read shows
// them (herald.RedactURL).
func redactURLs(s string) string {
	return reURL.ReplaceAllStringFunc(s, herald.RedactURL)
}
