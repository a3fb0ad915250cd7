// Package senders is Herald's one sender factory: it turns a notifier into
// the channel sender that reaches it, behind one outbound guard (HTTP and
// SMTP alike) and one rate limiter shared by every node through the
// database. The delivery engine, one-time codes and the console's
// test-send all build their senders here, so they follow the same rules.
package senders

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/channel"
	"github.com/heraldhq/herald/channel/dingtalk"
	"github.com/heraldhq/herald/channel/email"
	"github.com/heraldhq/herald/channel/lark"
	"github.com/heraldhq/herald/channel/netguard"
	"github.com/heraldhq/herald/channel/ratelimit"
	"github.com/heraldhq/herald/channel/sms"
	"github.com/heraldhq/herald/channel/webhook"
	"github.com/heraldhq/herald/channel/wecom"
	"github.com/heraldhq/herald/store"
)

// Limiter is the shared rate limiter: *store.DB.
type Limiter interface {
	// TakeRateSlot takes a send slot for key now, or reports when one frees.
	TakeRateSlot(ctx context.Context, key string, limits []store.RateLimit) (bool, time.Time, error)
	// PauseRateKey holds every send to key until until.
	PauseRateKey(ctx context.Context, key string, until time.Time) error
}

// Options configure a Factory.
type Options struct {
	// AllowPrivateTargets lets webhooks, robots and SMTP relays reach
	// loopback and private addresses (HERALD_ALLOW_PRIVATE_TARGETS; tests).
	AllowPrivateTargets bool
	// HTTPClient overrides the guarded client every HTTP channel uses.
	HTTPClient *http.Client
	// Limiter shares robots' rate limits between nodes; nil limits nothing.
	Limiter Limiter
	// Timeout bounds one send (default 15 s).
	Timeout time.Duration
	// MaxWait is how long a Paced send waits for its rate-limit slot before
	// answering rate_limited (default 10 s).
	MaxWait time.Duration
	// Now is the clock of senders that sign with the time; nil is time.Now.
	Now func() time.Time
	// Logger receives what senders log (an SMTP relay reached without
	// verifying its certificate); nil discards.
	Logger *slog.Logger
}

// Factory builds senders.
type Factory struct {
	o    Options
	http *http.Client
}

func (f *Factory) logger() *slog.Logger {
	if f.o.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return f.o.Logger
}

// New returns a Factory.
func New(o Options) *Factory {
	if o.Timeout <= 0 {
		o.Timeout = 15 * time.Second
	}
	if o.MaxWait <= 0 {
		o.MaxWait = 10 * time.Second
	}
	f := &Factory{o: o, http: o.HTTPClient}
	if f.http == nil {
		f.http = netguard.NewHTTPClient(netguard.Options{AllowPrivate: o.AllowPrivateTargets, Timeout: o.Timeout})
		if t, ok := f.http.Transport.(*http.Transport); ok {
			t.MaxIdleConnsPerHost = 64
		}
	}
	return f
}

// Limiter returns the shared limiter, or nil.
func (f *Factory) Limiter() Limiter { return f.o.Limiter }

// Vendors' published limits per robot, in the store's terms.
var (
	dingTalkLimits = []store.RateLimit{{Count: 20, Per: time.Minute}}
	weComLimits    = []store.RateLimit{{Count: 20, Per: time.Minute}}
	larkLimits     = []store.RateLimit{{Count: 5, Per: time.Second}, {Count: 100, Per: time.Minute}}
)

// Pace is the rate-limited target a notifier sends to: a robot (DingTalk,
// WeCom, Feishu/Lark), under its vendor's published limit or the
// notifier's own rate_limit. Other notifiers have none.
func Pace(n *herald.Notifier) store.Pace {
	var limits []store.RateLimit
	switch n.Type {
	case herald.NotifierDingTalk:
		limits = dingTalkLimits
	case herald.NotifierWeCom:
		limits = weComLimits
	case herald.NotifierLark:
		limits = larkLimits
	default:
		return store.Pace{}
	}
	if r := n.Config.RateLimit; r != nil {
		limits = []store.RateLimit{{Count: r.Count, Per: time.Duration(r.Seconds) * time.Second}}
	}
	return store.Pace{Key: store.PaceKey(n.Type, n.Config.URL), Limits: limits}
}

// noWait turns the channel's own in-process pacing off: slots come from
// the shared limiter.
var noWait = []ratelimit.Limit{}

// Sender builds the sender of n. It does not wait for rate-limit slots:
// its caller takes them (the engine, in the claiming transaction) or uses
// Paced.
func (f *Factory) Sender(n *herald.Notifier) (channel.Sender, error) {
	c := n.Config
	switch n.Type {
	case herald.NotifierWebhook:
		return webhook.New(webhook.Config{URL: c.URL, Headers: c.HTTPHeaders, Secret: n.Secret, Client: f.http})
	case herald.NotifierDingTalk:
		return dingtalk.New(dingtalk.Config{URL: c.URL, Secret: n.Secret, Client: f.http, Limits: noWait})
	case herald.NotifierLark:
		return lark.New(lark.Config{URL: c.URL, Secret: n.Secret, Client: f.http, Limits: noWait})
	case herald.NotifierWeCom:
		return wecom.New(wecom.Config{URL: c.URL, Client: f.http, Limits: noWait})
	case herald.NotifierSMS:
		return sms.New(sms.Config{URL: c.URL, Method: c.Method, Headers: c.HTTPHeaders, BodyTemplate: c.MessageBody, Client: f.http, Now: f.o.Now})
	case herald.NotifierEmail:
		return email.New(email.Config{Host: c.Host, Port: c.Port, Username: c.Username, Password: n.Secret, From: c.From, TLS: c.TLS,
			CAPEM: c.TLSCAPEM, InsecureSkipVerify: c.InsecureSkipVerify, Logger: f.logger().With("notifier", n.ID),
			Timeout: f.o.Timeout, Now: f.o.Now, AllowPrivate: f.o.AllowPrivateTargets})
	}
	return nil, channel.Permanent(fmt.Errorf("notifier type %q does not send over the network", n.Type))
}

// Paced builds the sender of n that takes a shared rate-limit slot before
// each send, waiting up to MaxWait for one, and holds the target for every
// node when it answers that it is rate limited. One-time codes and the
// console's test-send use it.
func (f *Factory) Paced(n *herald.Notifier) (channel.Sender, error) {
	s, err := f.Sender(n)
	if err != nil {
		return nil, err
	}
	p := Pace(n)
	if p.Key == "" || f.o.Limiter == nil {
		return s, nil
	}
	return &paced{s: s, p: p, l: f.o.Limiter, maxWait: f.o.MaxWait}, nil
}

type paced struct {
	s       channel.Sender
	p       store.Pace
	l       Limiter
	maxWait time.Duration
}

func (p *paced) Send(ctx context.Context, m channel.Message) (channel.Receipt, error) {
	deadline := time.Now().Add(p.maxWait)
	for {
		ok, at, err := p.l.TakeRateSlot(ctx, p.p.Key, p.p.Limits)
		if err != nil {
			return channel.Receipt{}, err
		}
		if ok {
			break
		}
		if at.After(deadline) {
			return channel.Receipt{}, herald.Errorf(herald.ERATELIMITED, "", "the target is at its rate limit; try again in %s",
				time.Until(at).Round(time.Second))
		}
		t := time.NewTimer(time.Until(at))
		select {
		case <-ctx.Done():
			t.Stop()
			return channel.Receipt{}, ctx.Err()
		case <-t.C:
		}
	}
	r, err := p.s.Send(ctx, m)
	if wait := PauseOf(err); wait > 0 {
		_ = p.l.PauseRateKey(context.WithoutCancel(ctx), p.p.Key, time.Now().Add(wait))
	}
	return r, err
}

// PauseOf is how long a failed send's target asked every sender to hold
// off: the wait of a rate-limit answer (DingTalk 130101, WeCom 45009,
// Feishu 11232, HTTP 429 or 503 with Retry-After), or zero.
func PauseOf(err error) time.Duration {
	if err == nil || channel.IsPermanent(err) {
		return 0
	}
	return channel.RetryAfterOf(err)
}
