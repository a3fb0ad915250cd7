// Package otp sends and verifies one-time codes over a project's SMS or
// email notifier (herald.OTPService). A code is a string of crypto/rand
// digits of the project's length, sent at once and synchronously through
// the channel sender of the notifier its settings name, and valid for the
// project's TTL.
//
// The code is never stored, logged or answered: the database keeps an
// HMAC-SHA256 of the code's id and the code, keyed with a key derived from
// the install's secret, and compares it in constant time. A code verifies
// once; wrong tries count, and the last allowed one voids it; a new code
// to the same destination and purpose replaces the old one; a destination
// gets at most one code per resend interval and a daily cap of them. A
// code whose send fails is deleted, so it can never verify.
//
// Destinations are normalised before any limit or look-up
// (herald.NormalizeOTPDestination): mobile numbers to E.164, read in the
// configured default region when written without a country code, email
// addresses lower-cased; so no spelling of a destination escapes its limits.
package otp

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net/http"
	"strings"
	"time"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/channel"
	"github.com/heraldhq/herald/channel/senders"
)

// Store keeps the codes' records; *store.DB implements it.
type Store interface {
	CreateOTP(ctx context.Context, o *herald.OTP, lim herald.OTPLimits) error
	DeleteOTP(ctx context.Context, id string) error
	CheckOTP(ctx context.Context, v herald.OTPVerify, now time.Time, maxAttempts int, match func(*herald.OTP) bool) (*herald.OTP, error)
}

// Config wires a Service; zero limits take herald's defaults.
type Config struct {
	Store     Store
	Settings  herald.NotificationSettingsService
	Notifiers herald.NotifierService
	Projects  herald.ProjectService

	// Key is the install's secret (HERALD_SECRET_KEY, at least 16 bytes);
	// the codes' hashes are keyed with a key derived from it, so every node
	// of one install must share it.
	Key []byte

	// AllowPrivateTargets lets SMS gateways and SMTP relays on loopback and private
	// addresses be reached (HERALD_ALLOW_PRIVATE_TARGETS; tests).
	AllowPrivateTargets bool
	// HTTPClient overrides the guarded client SMS gateways are called with
	// (when Senders is nil).
	HTTPClient *http.Client
	// Senders is the sender factory shared with the engine and the
	// console; nil builds one without a shared rate limiter.
	Senders *senders.Factory
	// SendTimeout bounds one send (default 20 s).
	SendTimeout time.Duration

	// DefaultRegion is the region (ISO 3166 code: CN, US, GB …) a mobile
	// number written without its country code is read in
	// (HERALD_OTP_DEFAULT_REGION; default herald.DefaultOTPRegion). Every
	// destination is normalised with it before any limit or look-up.
	DefaultRegion string

	ResendInterval time.Duration // default herald.DefaultOTPResendInterval
	DailyCap       int           // default herald.DefaultOTPDailyCap
	MaxAttempts    int           // default herald.DefaultOTPMaxAttempts

	// Now is the clock (default time.Now); Rand the source of codes and
	// ids (default crypto/rand).
	Now    func() time.Time
	Rand   io.Reader
	Logger *slog.Logger
	// Metrics counts sends and verifications by outcome (package
	// metrics); nil counts nothing.
	Metrics Metrics
}

// Metrics receives the outcomes of sends and verifications, decided
// here.
type Metrics interface {
	// OTPSend counts a send request on a channel (sms, email, or other
	// for a channel not known): sent, failed (the notifier could not
	// send), rate_limited, rejected (bad input, no notifier), or error.
	OTPSend(channel, outcome string)
	// OTPVerify counts a verification: verified, wrong, expired, locked,
	// used, replaced, not_found, conflict (checked twice at once),
	// rejected (bad input) or error.
	OTPVerify(outcome string)
}

type noMetrics struct{}

func (noMetrics) OTPSend(string, string) {}
func (noMetrics) OTPVerify(string)       {}

// Service implements herald.OTPService.
type Service struct {
	cfg  Config
	key  []byte
	http *http.Client
}

var _ herald.OTPService = (*Service)(nil)

// New checks cfg and returns a Service.
func New(cfg Config) (*Service, error) {
	if cfg.Store == nil || cfg.Settings == nil || cfg.Notifiers == nil || cfg.Projects == nil {
		return nil, errors.New("otp: Store, Settings, Notifiers and Projects are required")
	}
	if len(cfg.Key) < 16 {
		return nil, errors.New("otp: Key must be at least 16 bytes")
	}
	if cfg.DefaultRegion == "" {
		cfg.DefaultRegion = herald.DefaultOTPRegion
	}
	cfg.DefaultRegion = strings.ToUpper(cfg.DefaultRegion)
	if err := herald.ValidOTPRegion(cfg.DefaultRegion); err != nil {
		return nil, fmt.Errorf("otp: DefaultRegion: %s", herald.ErrorMessage(err))
	}
	if cfg.ResendInterval == 0 {
		cfg.ResendInterval = herald.DefaultOTPResendInterval
	}
	if cfg.DailyCap == 0 {
		cfg.DailyCap = herald.DefaultOTPDailyCap
	}
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = herald.DefaultOTPMaxAttempts
	}
	if cfg.SendTimeout <= 0 {
		cfg.SendTimeout = 20 * time.Second
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Rand == nil {
		cfg.Rand = rand.Reader
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Metrics == nil {
		cfg.Metrics = noMetrics{}
	}
	s := &Service{cfg: cfg, http: cfg.HTTPClient}
	// A key of its own, so the install secret is never used directly for
	// two purposes.
	m := hmac.New(sha256.New, cfg.Key)
	m.Write([]byte("herald otp code v1"))
	s.key = m.Sum(nil)
	if s.cfg.Senders == nil {
		s.cfg.Senders = senders.New(senders.Options{AllowPrivateTargets: cfg.AllowPrivateTargets, HTTPClient: cfg.HTTPClient,
			Timeout: cfg.SendTimeout, Now: cfg.Now})
	}
	return s, nil
}

// hash is the stored form of code: bound to the code's id, so equal codes
// of two records hash apart.
func (s *Service) hash(id, code string) []byte {
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte(id))
	m.Write([]byte{0})
	m.Write([]byte(code))
	return m.Sum(nil)
}

// SendOTP generates a code, records its hash and sends it through the
// project's notifier of the channel.
func (s *Service) SendOTP(ctx context.Context, req herald.OTPSend) (_ *herald.OTP, err error) {
	outcome := "" // sent or failed once decided; else from err
	defer func() {
		if outcome == "" {
			outcome = errorOutcome(err)
		}
		s.cfg.Metrics.OTPSend(channelLabel(req.Channel), outcome)
	}()
	projectID, err := herald.ProjectOf(ctx, s.cfg.Projects, req.ProjectID)
	if err != nil {
		return nil, err
	}
	if err := req.Validate(s.cfg.DefaultRegion); err != nil {
		return nil, err
	}
	settings, err := s.cfg.Settings.FindNotificationSettings(ctx, projectID)
	if err != nil {
		return nil, err
	}
	ref := settings.NotifierSlot(req.Channel)
	if ref == nil {
		return nil, herald.Errorf(herald.EINVALID, "channel", "This project has no %s notifier for one-time codes; set one in its notification settings.", req.Channel)
	}
	n, err := s.cfg.Notifiers.FindNotifierByID(ctx, ref.ID)
	if err != nil {
		return nil, err
	}
	sender, err := s.sender(n)
	if err != nil {
		return nil, herald.Errorf(herald.EINVALID, "channel", "The %s notifier %q cannot send: %v", req.Channel, n.Name, err)
	}

	code, err := s.digits(settings.OTPCodeLen)
	if err != nil {
		return nil, err
	}
	id, err := s.newID()
	if err != nil {
		return nil, err
	}
	now := s.cfg.Now().UTC()
	o := &herald.OTP{
		ID: id, ProjectID: projectID, Channel: req.Channel, To: req.To, Purpose: req.Purpose, NotifierID: n.ID,
		CreatedAt: now, ExpiresAt: now.Add(time.Duration(settings.OTPTTL) * time.Second),
		CodeHash: hex.EncodeToString(s.hash(id, code)),
	}
	if err := s.cfg.Store.CreateOTP(ctx, o, herald.OTPLimits{ResendInterval: s.cfg.ResendInterval, DailyCap: s.cfg.DailyCap}); err != nil {
		return nil, err
	}

	msg := Message(code, settings.OTPTTL)
	msg.ID = id
	if req.Channel == herald.OTPChannelSMS {
		msg.To.Mobile = req.To
	} else {
		msg.To.Email = req.To
	}
	sctx, cancel := context.WithTimeout(ctx, s.cfg.SendTimeout)
	_, sendErr := sender.Send(sctx, msg)
	cancel()
	if sendErr != nil {
		// A code that did not go out must not verify, nor cost the
		// destination its quota.
		if err := s.cfg.Store.DeleteOTP(context.WithoutCancel(ctx), id); err != nil {
			s.cfg.Logger.ErrorContext(ctx, "otp: cannot delete an unsent code", "otp_id", id, "err", err)
		}
		// Gateways may echo the request: the code never reaches the log.
		reason := strings.ReplaceAll(channel.Detail(sendErr), code, "[code]")
		s.cfg.Logger.WarnContext(ctx, "otp: send failed", "otp_id", id, "notifier_id", n.ID, "channel", req.Channel, "err", reason)
		outcome = "failed"
		return nil, herald.Errorf(herald.EINTERNAL, "", "The code could not be sent through the %s notifier %q; no code was issued. Try again later.", req.Channel, n.Name)
	}
	s.cfg.Logger.InfoContext(ctx, "otp: sent", "otp_id", id, "notifier_id", n.ID, "channel", req.Channel)
	outcome = "sent"
	o.CodeHash = ""
	return o, nil
}

// VerifyOTP checks a code; a right code is used up.
func (s *Service) VerifyOTP(ctx context.Context, req herald.OTPVerify) (*herald.OTP, error) {
	projectID, err := herald.ProjectOf(ctx, s.cfg.Projects, req.ProjectID)
	if err == nil {
		err = req.Validate(s.cfg.DefaultRegion)
	}
	if err != nil {
		s.cfg.Metrics.OTPVerify(errorOutcome(err))
		return nil, err
	}
	req.ProjectID = projectID
	asked, right := false, false
	o, err := s.cfg.Store.CheckOTP(ctx, req, s.cfg.Now().UTC(), s.cfg.MaxAttempts, func(o *herald.OTP) bool {
		stored, err := hex.DecodeString(o.CodeHash)
		asked, right = true, err == nil && len(stored) == sha256.Size && hmac.Equal(stored, s.hash(o.ID, req.Code))
		return right
	})
	s.cfg.Metrics.OTPVerify(verifyOutcome(o, err, asked, right, s.cfg.MaxAttempts))
	if o != nil {
		o.CodeHash = ""
	}
	return o, err
}

// channelLabel is a send's channel as a metric label: a known channel, or
// "other" (the request's text never becomes a label).
func channelLabel(ch string) string {
	if ch == herald.OTPChannelSMS || ch == herald.OTPChannelEmail {
		return ch
	}
	return "other"
}

// errorOutcome is the outcome of a request that failed before any code
// was sent or compared.
func errorOutcome(err error) string {
	switch herald.ErrorCode(err) {
	case herald.ERATELIMITED:
		return "rate_limited"
	case herald.EINTERNAL:
		return "error"
	}
	return "rejected"
}

// verifyOutcome classifies a verification: asked and right say whether
// the code was compared and matched (a code not usable is not compared).
func verifyOutcome(o *herald.OTP, err error, asked, right bool, maxAttempts int) string {
	switch {
	case err == nil:
		return "verified"
	case o == nil && herald.ErrorCode(err) == herald.EINTERNAL:
		return "error"
	case o == nil:
		return "not_found" // no such code id, or none sent to that destination
	case asked && !right:
		return "wrong"
	case asked:
		return "conflict"
	case o.Status == herald.OTPUsed:
		return "used"
	case o.Status == herald.OTPReplaced:
		return "replaced"
	case o.Status == herald.OTPLocked, o.Attempts >= maxAttempts:
		return "locked"
	}
	return "expired"
}

// Message is the text of a code: en, with the lifetime in words.
func Message(code string, ttl int) channel.Message {
	text := fmt.Sprintf("Your verification code is %s. It expires in %s.", code, Duration(ttl))
	return channel.Message{Subject: "Your verification code", Text: text}
}

// Duration says a number of seconds in the largest whole unit: "2
// minutes", "90 seconds", "1 day".
func Duration(seconds int) string {
	unit, n := "second", seconds
	switch {
	case seconds > 0 && seconds%86400 == 0:
		unit, n = "day", seconds/86400
	case seconds > 0 && seconds%3600 == 0:
		unit, n = "hour", seconds/3600
	case seconds > 0 && seconds%60 == 0:
		unit, n = "minute", seconds/60
	}
	if n != 1 {
		unit += "s"
	}
	return fmt.Sprintf("%d %s", n, unit)
}

// digits returns n uniformly random decimal digits.
func (s *Service) digits(n int) (string, error) {
	b := make([]byte, n)
	ten := big.NewInt(10)
	for i := range b {
		d, err := rand.Int(s.cfg.Rand, ten)
		if err != nil {
			return "", fmt.Errorf("otp: random: %w", err)
		}
		b[i] = byte('0' + d.Int64())
	}
	return string(b), nil
}

// newID returns an opaque, unguessable id: "otp_" and 26 base32 letters.
func (s *Service) newID() (string, error) {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
	b := make([]byte, 26)
	if _, err := io.ReadFull(s.cfg.Rand, b); err != nil {
		return "", fmt.Errorf("otp: random: %w", err)
	}
	for i := range b {
		b[i] = alphabet[b[i]%32]
	}
	return "otp_" + string(b), nil
}

// sender builds the channel sender of a notifier.
func (s *Service) sender(n *herald.Notifier) (channel.Sender, error) {
	switch n.Type {
	case herald.NotifierSMS, herald.NotifierEmail:
		return s.cfg.Senders.Paced(n)
	}
	return nil, fmt.Errorf("a %s notifier does not send one-time codes", n.Type)
}
