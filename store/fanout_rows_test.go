package store_test

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/store"
	"github.com/heraldhq/herald/store/storetest"
)

// A fan-out's rows are written many to a statement: every text comes back
// byte for byte, whatever it holds, and the rows' ids follow their order
// across statements.
func TestRecordFanouts_RowsRoundTrip(t *testing.T) {
	const tricky = "quote \" backslash \\ slash / newline \n tab \t cr \r ctl \x01\x1f del \x7f <b>&amp; é 中文 😀 \u2028\u2029 {\"x\":[1]} ?, $1"
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := storetest.NewTenant(t, db, "acme")
		u := &herald.User{Code: "ann", Name: "Ann"}
		must(t, db.CreateUser(ctx, u))
		msg, err := json.Marshal(map[string]string{"text": tricky})
		must(t, err)
		due := time.Now().Add(time.Hour).Truncate(time.Millisecond).UTC()
		ds := []store.NewDelivery{
			{NotifierID: 1, Channel: herald.NotifierWebhook, Target: "hook " + tricky, Status: herald.StatusPending, Message: msg},
			{NotifierID: 2, Channel: herald.NotifierEmail, UserID: u.ID, Target: "ann@example.com", Status: herald.StatusSkipped,
				LastError: tricky, Reason: herald.ReasonPreference, Message: msg},
			{NotifierID: 2, Channel: herald.NotifierEmail, UserID: u.ID, Target: "ann@example.com", Status: herald.StatusDeferred,
				Reason: herald.ReasonQuietHours, DueAt: due, Message: msg},
			{NotifierID: 3, Channel: herald.NotifierInbox, UserID: u.ID, Target: "ann", Status: herald.StatusDelivered, Message: msg,
				Inbox: &herald.InboxMessage{UserID: u.ID, Title: "title " + tricky, Body: "body " + tricky}},
		}
		const many = 1000 // more than two statements' rows
		for i := range many {
			ds = append(ds, store.NewDelivery{NotifierID: 4, Channel: herald.NotifierWebhook, Target: fmt.Sprintf("t%05d", i),
				Status: herald.StatusSkipped, Message: []byte(`{}`)})
		}
		n, err := db.RecordFanouts(ctx, []store.Fanout{{PushID: 7, Deliveries: ds}})
		must(t, err)
		if n != 1 {
			t.Fatalf("recorded %d fan-outs, want 1", n)
		}
		var got []*herald.Delivery
		for p := (herald.Page{Limit: 1000}); ; {
			page, next, err := db.FindDeliveries(ctx, herald.DeliveryFilter{}, p)
			must(t, err)
			got = append(got, page...)
			if next == "" {
				break
			}
			p.Cursor = next
		}
		if len(got) != len(ds) {
			t.Fatalf("%d deliveries, want %d", len(got), len(ds))
		}
		for i, d := range got {
			w := ds[i]
			if d.Target != w.Target || d.Status != w.Status || d.LastError != w.LastError || d.Reason != w.Reason ||
				d.NotifierID != w.NotifierID || d.Channel != w.Channel || d.UserID != w.UserID || d.PushID != 7 || d.EventID != 0 {
				t.Fatalf("delivery %d (in id order) is %+v, want %+v", i, d, w)
			}
		}
		if at := got[2].NextAttemptAt; at == nil || !at.Equal(due) {
			t.Errorf("the deferred delivery is due %v, want %v", at, due)
		}
		if got[3].DeliveredAt == nil || got[0].DeliveredAt != nil {
			t.Errorf("delivered at: inbox %v, webhook %v", got[3].DeliveredAt, got[0].DeliveredAt)
		}
		claimed, err := db.ClaimDeliveries(ctx, []int64{got[0].ID}, store.ClaimOptions{Lease: time.Minute})
		must(t, err)
		if len(claimed) != 1 || string(claimed[0].Message) != string(msg) {
			t.Fatalf("claimed %+v, want the message %s", claimed, msg)
		}
		inbox, _, err := db.FindInbox(ctx, u.ID, herald.InboxFilter{}, herald.Page{})
		must(t, err)
		if len(inbox) != 1 || inbox[0].Title != "title "+tricky || inbox[0].Body != "body "+tricky || inbox[0].PushID != 7 {
			t.Fatalf("inbox %+v, want the message as written", inbox)
		}
	})
}
