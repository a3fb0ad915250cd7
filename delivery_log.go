package herald

// MaxBulkRetry bounds the deliveries one RetryDeliveries call re-queues,
// so one request stays one bounded transaction; a caller with more to
// retry calls again while BulkRetry.More says so.
const MaxBulkRetry = 10000

// BulkRetry is what RetryDeliveries did.
type BulkRetry struct {
	// Retried is how many deliveries were re-queued.
	Retried int `json:"retried"`
	// More says that more deliveries matched than one call retries.
	More bool `json:"more"`
}

// RetryStatus is the status a bulk retry of f re-queues: dead unless the
// filter asks for failed deliveries; "" when it asks for a status no
// retry applies to.
func (f DeliveryFilter) RetryStatus() string {
	switch f.Status {
	case "", StatusDead:
		return StatusDead
	case StatusFailed:
		return StatusFailed
	}
	return ""
}

// DeliveryEntry is a delivery as the delivery log shows it: with the
// names of what it involves, so that two webhooks to one host, or two
// people, are told apart.
type DeliveryEntry struct {
	*Delivery
	// ProjectID and NotifierName are the notifier's (0 and "" for a push
	// to a chat without a robot).
	ProjectID    int64
	NotifierName string
	// SourceID, SourceName and EventType are the event's, for a delivery
	// an event caused.
	SourceID   int64
	SourceName string
	EventType  string
	// Recipient is who the delivery is for, as a person reads it: the
	// user's name, else the chat's, else "" (the target then says it).
	Recipient string
}
