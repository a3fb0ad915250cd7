package herald

import (
	"context"
	"net/mail"
	"regexp"
	"strings"
	"time"

	"github.com/nyaruka/phonenumbers"
)

// Notification settings bounds and defaults: the one-time code length in
// digits and its time to live in seconds.
const (
	DefaultOTPCodeLen = 5
	MinOTPCodeLen     = 4
	MaxOTPCodeLen     = 10
	DefaultOTPTTL     = 120
	MinOTPTTL         = 30
	MaxOTPTTL         = 86400
)

// OTP limits every send and verification obeys unless the operator
// configures others (otp.Config).
const (
	// DefaultOTPResendInterval is the least time between two codes sent to
	// one destination.
	DefaultOTPResendInterval = 30 * time.Second
	// DefaultOTPDailyCap is how many codes one destination may be sent in
	// 24 hours.
	DefaultOTPDailyCap = 10
	// DefaultOTPMaxAttempts is how many wrong codes void a code.
	DefaultOTPMaxAttempts = 5
)

// OTP channels.
const (
	OTPChannelSMS   = "sms"
	OTPChannelEmail = "email"
)

// NotifierRef names a notifier: what a settings answer shows of it.
type NotifierRef struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
	Type string `json:"type,omitempty"`
}

// NotificationSettings are a project's notification settings: the notifiers
// one-time codes go out through and the codes' length and lifetime. A
// project that never saved any has the defaults and no notifiers.
type NotificationSettings struct {
	ProjectID int64 `json:"project_id"`
	// SMSNotifier and EmailNotifier are nil when the slot is empty.
	SMSNotifier   *NotifierRef `json:"sms_notifier"`
	EmailNotifier *NotifierRef `json:"email_notifier"`
	OTPCodeLen    int          `json:"otp_code_len"`
	OTPTTL        int          `json:"otp_ttl"` // seconds
}

// DefaultNotificationSettings are the settings of a project that has saved
// none.
func DefaultNotificationSettings(projectID int64) *NotificationSettings {
	return &NotificationSettings{ProjectID: projectID, OTPCodeLen: DefaultOTPCodeLen, OTPTTL: DefaultOTPTTL}
}

// NotifierSlot returns the notifier one-time codes of channel go through,
// or nil.
func (s *NotificationSettings) NotifierSlot(channel string) *NotifierRef {
	switch channel {
	case OTPChannelSMS:
		return s.SMSNotifier
	case OTPChannelEmail:
		return s.EmailNotifier
	}
	return nil
}

// NullableID is the new value of a nullable id: Null clears it, else ID is
// the new id.
type NullableID struct {
	ID   int64
	Null bool
}

// NotificationSettingsUpdate changes some of a project's notification
// settings; a nil member leaves its setting as it is.
type NotificationSettingsUpdate struct {
	SMSNotifier   *NullableID
	EmailNotifier *NullableID
	OTPCodeLen    *int
	OTPTTL        *int
}

// Field names of notification settings errors, in the native naming.
const (
	FieldSMSNotifier   = "sms_notifier_id"
	FieldEmailNotifier = "email_notifier_id"
	FieldOTPCodeLen    = "otp_code_len"
	FieldOTPTTL        = "otp_ttl"
)

// Validate checks the ranges of an update and reports every field at
// fault at once (FieldErrors, read as its first by a caller that reports
// one). Whether a notifier id names a notifier of the project and of the
// right type is checked against the database (CheckNotifierSlot).
func (u *NotificationSettingsUpdate) Validate() error {
	var errs FieldErrors
	if n := u.OTPCodeLen; n != nil && (*n < MinOTPCodeLen || *n > MaxOTPCodeLen) {
		errs = append(errs, Errorf(EINVALID, FieldOTPCodeLen, "The code length must be between %d and %d digits.", MinOTPCodeLen, MaxOTPCodeLen))
	}
	if n := u.OTPTTL; n != nil && (*n < MinOTPTTL || *n > MaxOTPTTL) {
		errs = append(errs, Errorf(EINVALID, FieldOTPTTL, "The code lifetime must be between %d and %d seconds.", MinOTPTTL, MaxOTPTTL))
	}
	for _, s := range []struct {
		field string
		id    *NullableID
	}{{FieldSMSNotifier, u.SMSNotifier}, {FieldEmailNotifier, u.EmailNotifier}} {
		if s.id != nil && !s.id.Null && s.id.ID <= 0 {
			errs = append(errs, Errorf(EINVALID, s.field, "Notifier %d does not exist.", s.id.ID))
		}
	}
	return errs.Err()
}

// CheckNotifierSlot checks that n (nil: not found in the tenant) may fill
// the slot field of project projectID: a notifier of that project, of the
// slot's type.
func CheckNotifierSlot(field string, id, projectID int64, n *Notifier) error {
	if n == nil || n.ProjectID != projectID {
		return Errorf(EINVALID, field, "Notifier %d does not exist in this project.", id)
	}
	want, label := NotifierSMS, "SMS"
	if field == FieldEmailNotifier {
		want, label = NotifierEmail, "email"
	}
	if n.Type != want {
		return Errorf(EINVALID, field, "Notifier %d is not an %s notifier.", id, label)
	}
	return nil
}

// NotificationSettingsService reads and writes projects' notification
// settings.
type NotificationSettingsService interface {
	// FindNotificationSettings returns the project's settings (the
	// defaults when it saved none); a foreign project is ENOTFOUND.
	FindNotificationSettings(ctx context.Context, projectID int64) (*NotificationSettings, error)
	// UpdateNotificationSettings applies u and returns the settings as
	// stored. A notifier must be one of the project's, of the slot's type.
	UpdateNotificationSettings(ctx context.Context, projectID int64, u NotificationSettingsUpdate) (*NotificationSettings, error)
}

// ProjectOf returns the project a request of ctx's principal acts on:
// requested when not 0 (it must be visible to the principal), else the
// project the token is scoped to, else the tenant's only project. An
// unscoped token of a tenant with several projects must name one.
func ProjectOf(ctx context.Context, projects ProjectService, requested int64) (int64, error) {
	p := PrincipalFromContext(ctx)
	if p == nil {
		return 0, Errorf(EUNAUTHORIZED, "", "authentication required")
	}
	switch {
	case requested != 0:
		if !p.CanSeeProject(requested) {
			return 0, Errorf(ENOTFOUND, "", "project %d not found", requested)
		}
		if _, err := projects.FindProjectByID(ctx, requested); err != nil {
			return 0, err
		}
		return requested, nil
	case p.ProjectID != 0:
		return p.ProjectID, nil
	}
	list, _, err := projects.FindProjects(ctx, Page{Limit: 2})
	if err != nil {
		return 0, err
	}
	switch len(list) {
	case 1:
		return list[0].ID, nil
	case 0:
		return 0, Errorf(EINVALID, "", "This tenant has no project yet; create one first.")
	}
	return 0, Errorf(EINVALID, "", "This token is not scoped to a project and the tenant has several: use a project-scoped token.")
}

// OTP is one one-time code sent to a destination. The code itself is never
// kept: CodeHash is its keyed hash, and it is cleared once the code is used
// or void.
type OTP struct {
	// ID is opaque and unguessable: the handle a client verifies with.
	ID         string    `json:"id"`
	ProjectID  int64     `json:"project_id"`
	Channel    string    `json:"channel"`
	To         string    `json:"to"`
	Purpose    string    `json:"purpose"`
	NotifierID int64     `json:"notifier_id"`
	Status     string    `json:"status"`
	Attempts   int       `json:"attempts"`
	CreatedAt  time.Time `json:"created_at"`
	ExpiresAt  time.Time `json:"expires_at"`
	CodeHash   string    `json:"-"`
}

// OTP statuses: a code is active until it is used, replaced by a newer
// code to the same destination and purpose, or locked after too many wrong
// attempts.
const (
	OTPActive   = "active"
	OTPUsed     = "used"
	OTPReplaced = "replaced"
	OTPLocked   = "locked"
)

// Usable reports why o cannot be verified at now (nil: it can).
func (o *OTP) Usable(now time.Time, maxAttempts int) error {
	switch {
	case o.Status == OTPUsed:
		return Errorf(EINVALID, "code", "This code has already been used; request a new one.")
	case o.Status == OTPReplaced:
		return Errorf(EINVALID, "code", "This code was replaced by a newer one; use the latest code.")
	case o.Status == OTPLocked, o.Attempts >= maxAttempts:
		return Errorf(EINVALID, "code", "Too many wrong attempts; request a new code.")
	case !now.Before(o.ExpiresAt):
		return Errorf(EINVALID, "code", "This code has expired; request a new one.")
	}
	return nil
}

// OTPWrongCode is the answer to a wrong code; left is how many tries remain.
func OTPWrongCode(left int) error {
	if left <= 0 {
		return Errorf(EINVALID, "code", "The code is wrong. Too many wrong attempts; request a new code.")
	}
	return Errorf(EINVALID, "code", "The code is wrong.")
}

// OTPLimits bound how often codes go to one destination.
type OTPLimits struct {
	ResendInterval time.Duration
	DailyCap       int
}

// OTPSend asks for a code to be sent.
type OTPSend struct {
	// ProjectID is the project whose settings apply (0: see ProjectOf).
	ProjectID int64  `json:"project_id,omitempty"`
	Channel   string `json:"channel"`
	To        string `json:"to"`
	Purpose   string `json:"purpose"`
}

var (
	rePurpose   = regexp.MustCompile(`^[A-Za-z0-9_.:\-]{0,64}$`)
	reOTPMobile = regexp.MustCompile(`^\+?[0-9 ().\-]{3,30}$`)
)

// DefaultOTPRegion is the region a mobile number written without its
// country code is read in, unless the operator configures another
// (otp.Config.DefaultRegion, HERALD_OTP_DEFAULT_REGION): CN, where the
// numbers Herald's users type most often are dialled.
const DefaultOTPRegion = "CN"

// ValidOTPRegion checks a default region: an ISO 3166 region code the
// numbering plan knows (e.g. CN, US, GB).
func ValidOTPRegion(region string) error {
	if !phonenumbers.GetSupportedRegions()[region] {
		return Errorf(EINVALID, "default_region", "%q is not a region code such as CN or US", region)
	}
	return nil
}

// Validate checks and normalizes a send request: the channel, the
// destination (a mobile number for sms, read in region when it has no
// country code; an email address for email: see NormalizeOTPDestination)
// and the purpose.
func (s *OTPSend) Validate(region string) error {
	if err := checkText(s); err != nil {
		return err
	}
	switch s.Channel {
	case OTPChannelSMS, OTPChannelEmail:
	case "":
		return Errorf(EINVALID, "channel", "This field is required.")
	default:
		return Errorf(EINVALID, "channel", "The channel must be sms or email.")
	}
	to, err := NormalizeOTPDestination(s.Channel, s.To, region)
	if err != nil {
		return err
	}
	s.To = to
	return validatePurpose(s.Purpose)
}

func validatePurpose(p string) error {
	if !rePurpose.MatchString(p) {
		return Errorf(EINVALID, "purpose", "The purpose must be at most 64 letters, digits or _.:-")
	}
	return nil
}

// NormalizeOTPDestination returns the one spelling of to on channel ("":
// guess it, an address with @ being email), so that the resend interval,
// the daily cap and verification by destination see every spelling of a
// destination as one:
//
//   - a mobile number in E.164 (+8613800000000), whether it was written
//     with +, with the international prefix (008613800000000), with the
//     country code alone (8613800000000) or nationally (138 0000 0000,
//     read in region);
//   - an email address trimmed and lower-cased whole. The local part is
//     case-sensitive in principle, but no mail system in use treats
//     Ann@ and ann@ as two mailboxes, and keeping them apart would let a
//     caller multiply a mailbox's quota by changing case.
//
// A number is accepted when its length is possible for its country: the
// numbering plan's finer patterns lag behind newly opened ranges, and a
// refused real number would lock its owner out.
func NormalizeOTPDestination(channel, to, region string) (string, error) {
	to = strings.TrimSpace(to)
	if to == "" {
		return "", Errorf(EINVALID, "to", "This field is required.")
	}
	if channel == "" {
		channel = OTPChannelSMS
		if strings.Contains(to, "@") {
			channel = OTPChannelEmail
		}
	}
	if channel == OTPChannelEmail {
		a, err := mail.ParseAddress(to)
		if err != nil || a.Address != to || len(to) > 254 {
			return "", Errorf(EINVALID, "to", "Enter a valid email address.")
		}
		return strings.ToLower(to), nil
	}
	if region == "" {
		region = DefaultOTPRegion
	}
	bad := func() error {
		return Errorf(EINVALID, "to", "Enter a valid mobile number: digits, with the country code after a leading + (+86 138 0000 0000) or as dialled in %s.", region)
	}
	// Only digits and separators: the parser would also read letters as
	// a keypad's and cut off an extension, neither of which SMS can use.
	if !reOTPMobile.MatchString(to) {
		return "", bad()
	}
	n, err := phonenumbers.Parse(to, region)
	if err != nil || !phonenumbers.IsPossibleNumber(n) {
		return "", bad()
	}
	return phonenumbers.Format(n, phonenumbers.E164), nil
}

// OTPVerify asks whether a code is right: the code named by ID, or the
// latest code sent to To for Purpose.
type OTPVerify struct {
	ProjectID int64  `json:"project_id,omitempty"`
	ID        string `json:"id"`
	To        string `json:"to"`
	Purpose   string `json:"purpose"`
	Code      string `json:"code"`
}

var reDigits = regexp.MustCompile(`^[0-9]{1,32}$`)

// Validate checks and normalizes a verify request; region is as for
// OTPSend.Validate, so that a code sent to one spelling of a destination
// verifies by any other.
func (v *OTPVerify) Validate(region string) error {
	if err := checkText(v); err != nil {
		return err
	}
	if v.ID == "" {
		if strings.TrimSpace(v.To) == "" {
			return Errorf(EINVALID, "to", "Give the code's id, or the to and purpose it was sent for.")
		}
		to, err := NormalizeOTPDestination("", v.To, region)
		if err != nil {
			return err
		}
		v.To = to
		if err := validatePurpose(v.Purpose); err != nil {
			return err
		}
	} else if len(v.ID) > 64 {
		return Errorf(ENOTFOUND, "", "code %q not found", v.ID)
	}
	v.Code = strings.TrimSpace(v.Code)
	if v.Code == "" {
		return Errorf(EINVALID, "code", "This field is required.")
	}
	if !reDigits.MatchString(v.Code) {
		return Errorf(EINVALID, "code", "The code is made of digits only.")
	}
	return nil
}

// OTPService sends and verifies one-time codes over a project's SMS or
// email notifier.
type OTPService interface {
	// SendOTP generates a code of the project's length, sends it through
	// the project's notifier of the channel and returns the code's record
	// (never the code). Too frequent sends are ERATELIMITED.
	SendOTP(ctx context.Context, s OTPSend) (*OTP, error)
	// VerifyOTP checks a code: nil when it is right (the code is then
	// used); EINVALID naming "code" when it is wrong, expired, used,
	// replaced or locked.
	VerifyOTP(ctx context.Context, v OTPVerify) (*OTP, error)
}
