package queue

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/channel"
	"github.com/heraldhq/herald/channel/dingtalk"
	"github.com/heraldhq/herald/channel/email"
	"github.com/heraldhq/herald/channel/lark"
	"github.com/heraldhq/herald/channel/ratelimit"
	"github.com/heraldhq/herald/channel/sms"
	"github.com/heraldhq/herald/channel/webhook"
	"github.com/heraldhq/herald/channel/wecom"
	"github.com/heraldhq/herald/store"
	"github.com/riverqueue/river"
)

type deliverWorker struct {
	river.WorkerDefaults[store.DeliverArgs]
	e *Engine
}

// Timeout leaves room for a batch throttled by a robot's rate limit.
func (w *deliverWorker) Timeout(*river.Job[store.DeliverArgs]) time.Duration { return 10 * time.Minute }

// Work sends the job's deliveries, SendConcurrency at a time, and records
// every outcome in one transaction.
func (w *deliverWorker) Work(ctx context.Context, job *river.Job[store.DeliverArgs]) error {
	ctx = tenantContext(ctx, job.Args.TenantID)
	claimed, err := w.e.db.ClaimDeliveries(ctx, job.Args.DeliveryIDs)
	if err != nil || len(claimed) == 0 {
		return err
	}
	senders := map[int64]*senderOrErr{}
	var mu sync.Mutex
	sender := func(id int64) (channel.Sender, error) {
		mu.Lock()
		defer mu.Unlock()
		s, ok := senders[id]
		if !ok {
			s = &senderOrErr{}
			n, err := w.e.db.FindNotifierByID(ctx, id)
			if err == nil {
				// A configuration the channel refuses (a secret that is
				// not base64, an SMS template that does not render JSON)
				// refuses every attempt alike: fail at once.
				if s.sender, err = w.e.newSender(n); err != nil {
					err = channel.Permanent(fmt.Errorf("notifier %d: %w", id, err))
				}
			}
			s.err = err
			senders[id] = s
		}
		return s.sender, s.err
	}
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
	return w.e.db.FinishDeliveries(context.WithoutCancel(ctx), results)
}

type senderOrErr struct {
	sender channel.Sender
	err    error
}

// send makes one attempt and classifies its outcome.
func (e *Engine) send(ctx context.Context, d *store.ClaimedDelivery, sender func(int64) (channel.Sender, error)) store.DeliveryResult {
	r := store.DeliveryResult{ID: d.ID}
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
				_, err = s.Send(ctx, m)
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
	if err != nil {
		e.logger.Info("delivery attempt failed", "delivery", d.ID, "attempt", d.Attempts, "status", r.Status, "err", err)
	}
	return r
}

// limits converts a notifier's rate limit override.
func limits(n *herald.Notifier) []ratelimit.Limit {
	if r := n.Config.RateLimit; r != nil {
		return []ratelimit.Limit{{Count: r.Count, Per: time.Duration(r.Seconds) * time.Second}}
	}
	return nil
}

// newSender builds the channel sender for a notifier.
func (e *Engine) newSender(n *herald.Notifier) (channel.Sender, error) {
	c := n.Config
	switch n.Type {
	case herald.NotifierWebhook:
		return webhook.New(webhook.Config{URL: c.URL, Headers: c.HTTPHeaders, Secret: n.Secret, Client: e.http})
	case herald.NotifierDingTalk:
		return dingtalk.New(dingtalk.Config{URL: c.URL, Secret: n.Secret, Client: e.http, Limiter: e.limiter, Limits: limits(n)})
	case herald.NotifierLark:
		return lark.New(lark.Config{URL: c.URL, Secret: n.Secret, Client: e.http, Limiter: e.limiter, Limits: limits(n)})
	case herald.NotifierWeCom:
		return wecom.New(wecom.Config{URL: c.URL, Client: e.http, Limiter: e.limiter, Limits: limits(n)})
	case herald.NotifierSMS:
		return sms.New(sms.Config{URL: c.URL, Method: c.Method, Headers: c.HTTPHeaders, BodyTemplate: c.MessageBody, Client: e.http})
	case herald.NotifierEmail:
		return email.New(email.Config{Host: c.Host, Port: c.Port, Username: c.Username, Password: n.Secret, From: c.From, TLS: c.TLS,
			CAPEM: c.TLSCAPEM, InsecureSkipVerify: c.InsecureSkipVerify, Logger: e.logger.With("notifier", n.ID),
			AllowPrivate: e.cfg.AllowPrivateTargets})
	}
	return nil, channel.Permanent(fmt.Errorf("notifier type %q does not send over the network", n.Type))
}
