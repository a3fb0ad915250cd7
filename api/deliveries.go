package api

import (
	"net/http"
	"time"

	"github.com/heraldhq/herald"
)

// deliveryFilterBody is the filter of a bulk retry, as the list's query
// parameters name it.
type deliveryFilterBody struct {
	Status     string     `json:"status"`
	EventID    int64      `json:"event_id"`
	NotifierID int64      `json:"notifier_id"`
	SourceID   int64      `json:"source_id"`
	Channel    string     `json:"channel"`
	From       *time.Time `json:"from"`
	To         *time.Time `json:"to"`
}

func (b deliveryFilterBody) filter() herald.DeliveryFilter {
	f := herald.DeliveryFilter{Status: b.Status, EventID: b.EventID, NotifierID: b.NotifierID, SourceID: b.SourceID, Channel: b.Channel}
	if b.From != nil {
		f.From = *b.From
	}
	if b.To != nil {
		f.To = *b.To
	}
	return f
}

// handleRetryDeliveries re-queues the dead (or failed) deliveries of a
// filter, a bounded number a call.
func (s *Server) handleRetryDeliveries(w http.ResponseWriter, r *http.Request) error {
	var b deliveryFilterBody
	if err := decodeOptional(w, r, &b); err != nil {
		return err
	}
	res, err := s.Deliveries.RetryDeliveries(r.Context(), b.filter())
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusAccepted, res)
}

// queryDeliveryFilter reads the list's filter from the query.
func queryDeliveryFilter(r *http.Request) (herald.DeliveryFilter, error) {
	var f herald.DeliveryFilter
	for name, dst := range map[string]*int64{"event_id": &f.EventID, "notifier_id": &f.NotifierID, "source_id": &f.SourceID} {
		v, err := queryInt64(r, name)
		if err != nil {
			return f, err
		}
		if v != nil {
			*dst = *v
		}
	}
	q := r.URL.Query()
	f.Status, f.Channel = q.Get("status"), q.Get("channel")
	for name, dst := range map[string]*time.Time{"from": &f.From, "to": &f.To} {
		if !q.Has(name) {
			continue
		}
		t, err := time.Parse(time.RFC3339, q.Get(name))
		if err != nil {
			return f, herald.Errorf(herald.EINVALID, name, "%s must be an RFC 3339 time, not %q", name, q.Get(name))
		}
		*dst = t
	}
	return f, nil
}
