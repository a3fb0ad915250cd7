package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/heraldhq/herald"
)

// eventInput is an event as clients post it. The usual role fields may be
// given at the top level (creator, executor, updater as one user code;
// followers, commenters as lists) as well as in roles; they are merged.
type eventInput struct {
	SourceID       int64               `json:"source_id"`
	Source         *sourceRef          `json:"source"`
	Type           string              `json:"type"`
	Actor          string              `json:"actor"`
	Creator        string              `json:"creator"`
	Executor       string              `json:"executor"`
	Updater        string              `json:"updater"`
	Followers      []string            `json:"followers"`
	Commenters     []string            `json:"commenters"`
	Roles          map[string][]string `json:"roles"`
	Payload        json.RawMessage     `json:"payload"`
	IdempotencyKey string              `json:"idempotency_key"`
}

// sourceRef names a source by its kind and vendor id instead of its id.
type sourceRef struct {
	Kind       string `json:"kind"`
	ExternalID string `json:"external_id"`
}

// eventsInput is a batch: {"events": [...]}.
type eventsInput struct {
	Events []eventInput `json:"events"`
}

func (s *Server) toEvent(r *http.Request, in eventInput, field string) (*herald.Event, error) {
	e := &herald.Event{SourceID: in.SourceID, Type: in.Type, Actor: in.Actor, Payload: in.Payload, IdempotencyKey: in.IdempotencyKey, Roles: map[string][]string{}}
	if in.Source != nil {
		if in.SourceID != 0 {
			return nil, herald.Errorf(herald.EINVALID, field+"source", "give source_id or source, not both")
		}
		if in.Source.Kind == "" || in.Source.ExternalID == "" {
			return nil, herald.Errorf(herald.EINVALID, field+"source", "source needs kind and external_id")
		}
		e.SourceKind, e.SourceExternalID = in.Source.Kind, in.Source.ExternalID
	}
	for name, codes := range in.Roles {
		e.Roles[name] = append(e.Roles[name], codes...)
	}
	for name, code := range map[string]string{"creator": in.Creator, "executor": in.Executor, "updater": in.Updater} {
		if code != "" {
			e.Roles[name] = append(e.Roles[name], code)
		}
	}
	if len(in.Followers) > 0 {
		e.Roles["followers"] = append(e.Roles["followers"], in.Followers...)
	}
	if len(in.Commenters) > 0 {
		e.Roles["commenters"] = append(e.Roles["commenters"], in.Commenters...)
	}
	return e, nil
}

// handleCreateEvents accepts one event, or a batch as {"events": [...]}:
// 202 once they and their fan-out are stored. An Idempotency-Key header
// stands for a single event's idempotency_key.
func (s *Server) handleCreateEvents(w http.ResponseWriter, r *http.Request) error {
	var raw json.RawMessage
	if err := decode(w, r, &raw); err != nil {
		return err
	}
	var probe map[string]json.RawMessage
	if err := json.Unmarshal(raw, &probe); err != nil {
		return herald.Errorf(herald.EINVALID, "", "the body must be a JSON object")
	}
	var (
		events []*herald.Event
		batch  = probe["events"] != nil
	)
	if batch {
		var in eventsInput
		if err := decodeJSON(strings.NewReader(string(raw)), &in, false); err != nil {
			return err
		}
		if len(in.Events) == 0 || len(in.Events) > herald.MaxEventBatch {
			return herald.Errorf(herald.EINVALID, "events", "send 1 to %d events", herald.MaxEventBatch)
		}
		for i, ei := range in.Events {
			e, err := s.toEvent(r, ei, fmt.Sprintf("events[%d].", i))
			if err != nil {
				return err
			}
			events = append(events, e)
		}
	} else {
		var in eventInput
		if err := decodeJSON(strings.NewReader(string(raw)), &in, false); err != nil {
			return err
		}
		if in.IdempotencyKey == "" {
			in.IdempotencyKey = r.Header.Get("Idempotency-Key")
		}
		e, err := s.toEvent(r, in, "")
		if err != nil {
			return err
		}
		events = append(events, e)
	}
	if err := s.Events.CreateEvents(r.Context(), events); err != nil {
		// The service names a field of a batch by index only when it holds
		// several events; a batch's answer always does.
		if f := herald.ErrorField(err); batch && len(events) == 1 && f != "" && !strings.HasPrefix(f, "events") {
			return herald.Errorf(herald.ErrorCode(err), "events[0]."+f, "%s", herald.ErrorMessage(err))
		}
		return err
	}
	if batch {
		return writeJSON(w, http.StatusAccepted, map[string]any{"events": events})
	}
	return writeJSON(w, http.StatusAccepted, events[0])
}

func (s *Server) handleGetEvent(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	e, err := s.Events.FindEventByID(r.Context(), id)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, e)
}

func (s *Server) handleListDeliveries(w http.ResponseWriter, r *http.Request) error {
	page, err := queryPage(r)
	if err != nil {
		return err
	}
	f, err := queryDeliveryFilter(r)
	if err != nil {
		return err
	}
	items, next, err := s.Deliveries.FindDeliveries(r.Context(), f, page)
	if err != nil {
		return err
	}
	return writeList(w, items, next)
}

func (s *Server) findDelivery(r *http.Request) (*herald.Delivery, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return nil, err
	}
	return s.Deliveries.FindDeliveryByID(r.Context(), id)
}

func (s *Server) handleGetDelivery(w http.ResponseWriter, r *http.Request) error {
	d, err := s.findDelivery(r)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, d)
}

func (s *Server) handleRetryDelivery(w http.ResponseWriter, r *http.Request) error {
	d, err := s.findDelivery(r)
	if err != nil {
		return err
	}
	d, err = s.Deliveries.RetryDelivery(r.Context(), d.ID)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusAccepted, d)
}

// listInbox lists the inbox of the person userOf names, newest first.
func (s *Server) listInbox(userOf func(r *http.Request) (int64, error)) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		return s.handleListInbox(w, r, userOf)
	}
}

func (s *Server) handleListInbox(w http.ResponseWriter, r *http.Request, userOf func(r *http.Request) (int64, error)) error {
	id, err := userOf(r)
	if err != nil {
		return err
	}
	page, err := queryPage(r)
	if err != nil {
		return err
	}
	f := herald.InboxFilter{}
	switch v := r.URL.Query().Get("unread"); v {
	case "", "false":
	case "true":
		f.UnreadOnly = true
	default:
		return herald.Errorf(herald.EINVALID, "unread", "unread must be true or false, not %q", v)
	}
	items, next, err := s.Inbox.FindInbox(r.Context(), id, f, page)
	if err != nil {
		return err
	}
	return writeList(w, items, next)
}

// markInboxRead marks one message of the person userOf names read.
func (s *Server) markInboxRead(userOf func(r *http.Request) (int64, error)) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		return s.handleMarkInboxRead(w, r, userOf)
	}
}

func (s *Server) handleMarkInboxRead(w http.ResponseWriter, r *http.Request, userOf func(r *http.Request) (int64, error)) error {
	id, err := userOf(r)
	if err != nil {
		return err
	}
	msg, err := pathID(r, "message_id")
	if err != nil {
		return err
	}
	if err := s.Inbox.MarkInboxRead(r.Context(), id, msg); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// markAllInboxRead marks every message of the person userOf names read.
func (s *Server) markAllInboxRead(userOf func(r *http.Request) (int64, error)) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		id, err := userOf(r)
		if err != nil {
			return err
		}
		n, err := s.Inbox.MarkAllInboxRead(r.Context(), id)
		if err != nil {
			return err
		}
		return writeJSON(w, http.StatusOK, map[string]int{"marked": n})
	}
}

// unreadInbox answers how many messages of the person userOf names are
// unread.
func (s *Server) unreadInbox(userOf func(r *http.Request) (int64, error)) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		id, err := userOf(r)
		if err != nil {
			return err
		}
		n, err := s.Inbox.CountUnreadInbox(r.Context(), id)
		if err != nil {
			return err
		}
		return writeJSON(w, http.StatusOK, map[string]int{"unread": n})
	}
}

// handleInboxStream streams a user's new inbox messages as Server-Sent
// Events: each is "event: message", "id:" the message id, "data:" the
// message JSON, every message once and in id order. A new stream starts
// after the newest message and says so first with an "id:" line of its own
// (no event), so that a client which reconnects before any message still
// resumes from there. A client resuming with Last-Event-ID (EventSource
// sends it on reconnect) gets every message after that id, then the new
// ones. A token holds at most StreamsPerToken streams at once (429
// beyond); its streams end when it is revoked, and all end when the server
// closes them (CloseStreams, at shutdown).
//
// The stream reads forward from the last id it sent; the store keeps ids
// in commit order (store/inbox_notify.go), so reading forward skips
// nothing. It reads when InboxSignals says a message may have arrived, and
// every InboxPoll anyway.
func (s *Server) handleInboxStream(w http.ResponseWriter, r *http.Request) error {
	return s.inboxStream(pathUser)(w, r)
}

// inboxStream streams the inbox of the person userOf names: see
// handleInboxStream.
func (s *Server) inboxStream(userOf func(r *http.Request) (int64, error)) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error { return s.streamInbox(w, r, userOf) }
}

func (s *Server) streamInbox(w http.ResponseWriter, r *http.Request, userOf func(r *http.Request) (int64, error)) error {
	id, err := userOf(r)
	if err != nil {
		return err
	}
	p, err := principal(r)
	if err != nil {
		return err
	}
	ctx := r.Context()
	// Either look-up fails before the stream starts if the user is not there.
	var last int64
	if v := r.Header.Get("Last-Event-ID"); v != "" {
		if last, err = strconv.ParseInt(strings.TrimSpace(v), 10, 64); err != nil || last < 0 {
			return herald.Errorf(herald.EINVALID, "Last-Event-ID", "Last-Event-ID must be a message id")
		}
		if _, _, err := s.Inbox.FindInbox(ctx, id, herald.InboxFilter{Oldest: true, AfterID: last}, herald.Page{Limit: 1}); err != nil {
			return err
		}
	} else {
		newest, _, err := s.Inbox.FindInbox(ctx, id, herald.InboxFilter{}, herald.Page{Limit: 1})
		if err != nil {
			return err
		}
		if len(newest) == 1 {
			last = newest[0].ID
		}
	}
	flusher, ok := w.(http.Flusher)
	if !ok {
		return fmt.Errorf("inbox stream: the response writer cannot flush")
	}
	end, release, err := s.openStream(w, r)
	if err != nil {
		return err
	}
	defer release()
	// Subscribe before the first read: what commits after it is signalled,
	// what committed before it is read.
	poll := s.InboxPoll
	var wake <-chan struct{}
	if s.InboxSignals != nil {
		ch, unsubscribe := s.InboxSignals.SubscribeInbox(p.TenantID, id)
		defer unsubscribe()
		wake = ch
		if poll <= 0 && s.InboxSignals.SignalsAcrossNodes() {
			poll = 10 * time.Second
		}
	}
	if poll <= 0 {
		poll = 500 * time.Millisecond
	}
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	fmt.Fprintf(w, ": inbox stream\n\nid: %d\n\n", last)
	flusher.Flush()
	tick := time.NewTicker(poll)
	defer tick.Stop()
	heartbeat := time.NewTicker(15 * time.Second)
	defer heartbeat.Stop()
	for {
		// Catch up, a page at a time, oldest first.
		for {
			msgs, _, err := s.Inbox.FindInbox(ctx, id, herald.InboxFilter{Oldest: true, AfterID: last}, herald.Page{Limit: inboxStreamPage})
			if err != nil {
				if ctx.Err() != nil {
					return nil
				}
				s.logger().Error("inbox stream", "user", id, "err", err)
				return nil
			}
			for _, m := range msgs {
				b, err := json.Marshal(m)
				if err != nil {
					return err
				}
				fmt.Fprintf(w, "id: %d\nevent: message\ndata: %s\n\n", m.ID, b)
				last = m.ID
			}
			if len(msgs) > 0 {
				flusher.Flush()
				heartbeat.Reset(15 * time.Second)
			}
			if len(msgs) < inboxStreamPage {
				break
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-end.Done():
			// Say why, for whoever reads the stream; a client that
			// reconnects learns the rest from the answer it gets.
			fmt.Fprintf(w, ": %v\n\n", context.Cause(end))
			flusher.Flush()
			return nil
		case <-heartbeat.C:
			fmt.Fprint(w, ": heartbeat\n\n")
			flusher.Flush()
		case <-wake:
		case <-tick.C:
		}
	}
}

// inboxStreamPage is how many messages an inbox stream reads at once.
const inboxStreamPage = 100
