package herald

import (
	"context"
	"encoding/json"
	"regexp"
	"slices"
	"strings"
	"time"
)

// Event is something that happened on a source: the input of delivery.
// Roles maps a role or field code (creator, executor, followers,
// commenters, or any user-selection field) to the user codes it holds.
type Event struct {
	ID        int64 `json:"id"`
	ProjectID int64 `json:"project_id"`
	SourceID  int64 `json:"source_id"`
	// SourceKind and SourceExternalID name the source by its vendor id
	// instead of SourceID; CreateEvents resolves them within the caller's
	// scope (posting an event needs events:write, not the right to read
	// sources).
	SourceKind       string              `json:"-"`
	SourceExternalID string              `json:"-"`
	Type             string              `json:"type"`
	Actor            string              `json:"actor"`
	Roles            map[string][]string `json:"roles"`
	Payload          json.RawMessage     `json:"payload"`
	IdempotencyKey   string              `json:"idempotency_key,omitempty"`
	CreatedAt        time.Time           `json:"created_at"`
	// Duplicate is set when CreateEvents found the idempotency key already
	// used and returned the first event instead.
	Duplicate bool `json:"duplicate,omitempty"`
	// Deliveries are filled by FindEventByID.
	Deliveries []*Delivery `json:"deliveries,omitempty"`
}

var reRole = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_./\-]{0,63}$`)

// Bounds on an event.
const (
	MaxEventBatch   = 500
	maxRoleValues   = 10000
	maxPayloadBytes = 256 << 10
)

// Validate checks an event and normalises role names to lower case (so
// Kintone's CREATOR and CodeArts' creator are one role).
func (e *Event) Validate() error {
	if err := checkText(e); err != nil {
		return err
	}
	if e.SourceID <= 0 && e.SourceExternalID == "" {
		return Errorf(EINVALID, "source_id", "source_id is required")
	}
	if !IsEventType(e.Type) {
		return Errorf(EINVALID, "type", "unknown event type %q", e.Type)
	}
	if e.Actor != "" {
		if err := validateCode("actor", e.Actor); err != nil {
			return err
		}
	}
	roles := make(map[string][]string, len(e.Roles))
	for name, codes := range e.Roles {
		if !IsRoleName(name) {
			return Errorf(EINVALID, "roles", "role name %q is not valid", name)
		}
		if len(codes) > maxRoleValues {
			return Errorf(EINVALID, "roles."+name, "at most %d users per role", maxRoleValues)
		}
		for _, c := range codes {
			if err := validateCode("roles."+name, c); err != nil {
				return err
			}
		}
		key := strings.ToLower(name)
		roles[key] = append(roles[key], codes...)
	}
	e.Roles = roles
	if len(e.Payload) == 0 {
		e.Payload = json.RawMessage(`{}`)
	}
	if len(e.Payload) > maxPayloadBytes {
		return Errorf(EINVALID, "payload", "payload must be at most %d bytes", maxPayloadBytes)
	}
	var obj map[string]any
	if err := json.Unmarshal(e.Payload, &obj); err != nil {
		return Errorf(EINVALID, "payload", "payload must be a JSON object")
	}
	if len(e.IdempotencyKey) > 200 {
		return Errorf(EINVALID, "idempotency_key", "idempotency_key must be at most 200 characters")
	}
	return nil
}

// Delivery statuses.
const (
	StatusPending   = "pending"
	StatusSending   = "sending"
	StatusDelivered = "delivered"
	StatusFailed    = "failed"  // a permanent error: retrying cannot help
	StatusSkipped   = "skipped" // not sent: Reason says why (no address, the person's preferences)
	StatusDead      = "dead"    // every attempt failed
	// StatusDeferred is held until NextAttemptAt (the end of the person's
	// quiet hours), then sent as a pending delivery.
	StatusDeferred = "deferred"
)

// DeliveryStatuses lists every delivery status.
var DeliveryStatuses = []string{StatusPending, StatusSending, StatusDelivered, StatusFailed, StatusSkipped, StatusDead, StatusDeferred}

// Delivery is one message to one target over one notifier: the unit of
// retry and of the delivery log.
type Delivery struct {
	ID int64 `json:"id"`
	// MessageID is the delivery's globally unique message id, given when
	// the delivery is created and the same on every attempt: webhooks send
	// it as webhook-id, email as Message-ID, so a receiver can drop a
	// resend it already has. Deliveries older than message ids keep the
	// "dlv_<id>" they were first sent with.
	MessageID  string `json:"message_id"`
	EventID    int64  `json:"event_id,omitempty"`
	PushID     int64  `json:"push_id,omitempty"`
	NotifierID int64  `json:"notifier_id"`
	Channel    string `json:"channel"` // the notifier's type
	UserID     int64  `json:"user_id,omitempty"`
	Target     string `json:"target"` // address, chat or robot
	Status     string `json:"status"`
	Attempts   int    `json:"attempts"`
	LastError  string `json:"last_error,omitempty"`
	// Reason says, as a code, why a delivery was skipped or held:
	// ReasonPreference, ReasonQuietHours, ReasonNoAddress.
	Reason string `json:"reason,omitempty"`
	// NextAttemptAt is when a pending delivery is tried again, and when a
	// deferred one is due.
	NextAttemptAt *time.Time `json:"next_attempt_at,omitempty"`
	CreatedAt     time.Time  `json:"created_at"`
	UpdatedAt     time.Time  `json:"updated_at"`
	DeliveredAt   *time.Time `json:"delivered_at,omitempty"`
}

// DeliveryFilter narrows FindDeliveries.
type DeliveryFilter struct {
	EventID    int64
	NotifierID int64
	Status     string
	// Channel is the notifier's type (herald.NotifierWebhook …).
	Channel string
	// SourceID keeps the deliveries of this source's events.
	SourceID int64
	// From and To bound when the delivery was created: From <= created < To;
	// a zero time leaves that end open.
	From, To time.Time
}

// Validate checks a filter's status, channel and time range.
func (f DeliveryFilter) Validate() error {
	if err := ValidText("status", f.Status); err != nil {
		return err
	}
	if f.Status != "" && !slices.Contains(DeliveryStatuses, f.Status) {
		return Errorf(EINVALID, "status", "status must be one of %s", strings.Join(DeliveryStatuses, ", "))
	}
	if f.Channel != "" && !slices.Contains(NotifierTypes, f.Channel) {
		return Errorf(EINVALID, "channel", "channel must be one of %s", strings.Join(NotifierTypes, ", "))
	}
	if f.EventID < 0 || f.NotifierID < 0 || f.SourceID < 0 {
		return Errorf(EINVALID, "", "ids must not be negative")
	}
	if !f.From.IsZero() && !f.To.IsZero() && !f.From.Before(f.To) {
		return Errorf(EINVALID, "to", "to must be after from")
	}
	return nil
}

// EventService accepts events and reports what they caused.
type EventService interface {
	// CreateEvents stores events and schedules their fan-out in the same
	// transaction; an event whose idempotency key was used before is not
	// stored again: the first one is returned with Duplicate set.
	CreateEvents(ctx context.Context, events []*Event) error
	// FindEventByID returns an event with every delivery it caused.
	FindEventByID(ctx context.Context, id int64) (*Event, error)
}

// DeliveryService reads and re-queues deliveries.
type DeliveryService interface {
	FindDeliveryByID(ctx context.Context, id int64) (*Delivery, error)
	FindDeliveries(ctx context.Context, f DeliveryFilter, page Page) ([]*Delivery, string, error)
	// RetryDelivery re-queues a dead or failed delivery for a fresh round
	// of attempts; any other status is ENOTALLOWED.
	RetryDelivery(ctx context.Context, id int64) (*Delivery, error)
	// RetryDeliveries re-queues, as RetryDelivery does, the deliveries
	// the filter matches that are dead (or failed, when the filter asks
	// for failed ones; any other status is EINVALID), at most
	// MaxBulkRetry of them, oldest first, and says how many.
	RetryDeliveries(ctx context.Context, f DeliveryFilter) (BulkRetry, error)
}

// InboxMessage is an in-app ("system message") notification for one user.
type InboxMessage struct {
	ID        int64      `json:"id"`
	UserID    int64      `json:"user_id"`
	EventID   int64      `json:"event_id,omitempty"`
	PushID    int64      `json:"push_id,omitempty"`
	Title     string     `json:"title"`
	Body      string     `json:"body"`
	CreatedAt time.Time  `json:"created_at"`
	ReadAt    *time.Time `json:"read_at,omitempty"`
}

// InboxFilter narrows FindInbox.
type InboxFilter struct {
	UnreadOnly bool
	// Oldest lists oldest first, from the message after AfterID (0: the
	// first), and pages forward: the live stream's catch-up. Otherwise the
	// list is newest first.
	Oldest  bool
	AfterID int64 // only messages newer than this id; implies Oldest
}

// InboxService reads a user's inbox and marks messages read.
type InboxService interface {
	FindInbox(ctx context.Context, userID int64, f InboxFilter, page Page) ([]*InboxMessage, string, error)
	MarkInboxRead(ctx context.Context, userID, messageID int64) error
	// MarkAllInboxRead marks every unread message read and returns how many.
	MarkAllInboxRead(ctx context.Context, userID int64) (int, error)
	// CountUnreadInbox returns how many messages of the user are unread
	// (the bell's number).
	CountUnreadInbox(ctx context.Context, userID int64) (int, error)
}
