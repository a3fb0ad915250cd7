package kintone_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/queue"
	"github.com/heraldhq/herald/store"
	"github.com/heraldhq/herald/store/storetest"
)

const (
	perRecordPreview = "/k/v1/preview/app/notifications/perRecord.json"
	perRecordLive    = "/k/v1/app/notifications/perRecord.json"
	reminderPreview  = "/k/v1/preview/app/notifications/reminder.json"
	reminderLive     = "/k/v1/app/notifications/reminder.json"
)

// putBody turns a Get page's sample answer into an update of app: the
// same notifications (and time zone), no revision.
func putBody(t *testing.T, answer []byte, app string) map[string]any {
	t.Helper()
	var m map[string]any
	must(t, json.Unmarshal(answer, &m))
	delete(m, "revision")
	m["app"] = app
	return m
}

// TestGolden_PerRecord replays the per-record pages' samples: the Get
// page's settings written and read back (with its lang parameter, in the
// query and in a body), deployed; then the Update page's sample request.
func TestGolden_PerRecord(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		b := setup(t, db)
		app8 := &herald.Source{ProjectID: b.project.ID, Kind: herald.SourceApp, ExternalID: "8", Name: "app 8"}
		must(t, db.CreateSource(b.ctx, app8))
		get := golden(t, "get_per_record.response.json")
		sameJSON(t, ok(t, b.do(t, "PUT", perRecordPreview, putBody(t, get, "8"))).body, []byte(`{"revision":"2"}`))
		sameJSON(t, ok(t, b.do(t, "GET", perRecordPreview+"?app=8&lang=ja", nil)).body, get)
		sameJSON(t, ok(t, b.do(t, "GET", perRecordPreview, `{"app":"8","lang":"ja"}`)).body, get)
		// Not live until deployed.
		sameJSON(t, ok(t, b.do(t, "GET", perRecordLive+"?app=8", nil)).body, []byte(`{"notifications":[],"revision":"1"}`))
		ok(t, b.do(t, "POST", deployPath, `{"apps":[{"app":"8","revision":"2"}]}`))
		sameJSON(t, ok(t, b.do(t, "GET", perRecordLive+"?app=8&lang=ja", nil)).body, get)
		override := []string{"X-Cybozu-API-Token", b.token, "X-HTTP-Method-Override", "GET"}
		sameJSON(t, ok(t, b.do(t, "POST", perRecordLive, `{"app":8}`, override...)).body, get)

		// The Update page's sample names revision 2: one earlier write
		// puts app 1 there.
		ok(t, b.do(t, "PUT", perRecordPreview, `{"app":1}`))
		sameJSON(t, ok(t, b.do(t, "PUT", perRecordPreview, golden(t, "put_per_record.request.json"))).body, golden(t, "put_per_record.response.json"))
		sameJSON(t, ok(t, b.do(t, "GET", perRecordPreview+"?app=1", nil)).body, golden(t, "get_per_record_put.response.json"))
		sameJSON(t, ok(t, b.do(t, "POST", perRecordPreview, `{"app":1}`, override...)).body, golden(t, "get_per_record_put.response.json"))
	})
}

// TestGolden_Reminder replays the reminder pages' samples: the Get page's
// settings written and read back, the Update page's sample request on top
// (revision 2), deployed with the Deploy page's sample.
func TestGolden_Reminder(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		b := setup(t, db)
		get := golden(t, "get_reminder.response.json")
		sameJSON(t, ok(t, b.do(t, "PUT", reminderPreview, putBody(t, get, "1"))).body, []byte(`{"revision":"2"}`))
		sameJSON(t, ok(t, b.do(t, "GET", reminderPreview+"?app=1&lang=ja", nil)).body, get)
		sameJSON(t, ok(t, b.do(t, "GET", reminderPreview, `{"app":"1","lang":"ja"}`)).body, get)
		sameJSON(t, ok(t, b.do(t, "PUT", reminderPreview, golden(t, "put_reminder.request.json"))).body, golden(t, "put_reminder.response.json"))
		sameJSON(t, ok(t, b.do(t, "GET", reminderPreview+"?app=1", nil)).body, golden(t, "get_reminder_put.response.json"))
		// Live: never written, UTC.
		sameJSON(t, ok(t, b.do(t, "GET", reminderLive+"?app=1", nil)).body, []byte(`{"notifications":[],"timezone":"UTC","revision":"1"}`))
		sameJSON(t, ok(t, b.do(t, "POST", deployPath, golden(t, "deploy.request.json"))).body, golden(t, "deploy.response.json"))
		sameJSON(t, ok(t, b.do(t, "GET", reminderLive+"?app=1", nil)).body, golden(t, "get_reminder_put.response.json"))
	})
}

// TestRecords_OneRevision shows general, per-record and reminder
// notifications share the app's one revision, as in Kintone: a write to
// any moves it, a stale one is GAIA_CO02 on each, and one deploy
// promotes (or a revert discards) all three.
func TestRecords_OneRevision(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		b := setup(t, db)
		sameJSON(t, ok(t, b.do(t, "PUT", previewPath, `{"app":1,"revision":1,"notifications":[{"entity":{"type":"USER","code":"ann"},"recordAdded":true}]}`)).body, []byte(`{"revision":"2"}`))
		wantError(t, b.do(t, "PUT", perRecordPreview, `{"app":1,"revision":1,"notifications":[]}`), http.StatusConflict, "GAIA_CO02")
		sameJSON(t, ok(t, b.do(t, "PUT", perRecordPreview, `{"app":1,"revision":2,"notifications":[{"filterCond":"Amount > 10","targets":[{"entity":{"type":"GROUP","code":"team"}}]}]}`)).body, []byte(`{"revision":"3"}`))
		wantError(t, b.do(t, "PUT", reminderPreview, `{"app":1,"revision":2,"timezone":"Asia/Tokyo"}`), http.StatusConflict, "GAIA_CO02")
		sameJSON(t, ok(t, b.do(t, "PUT", reminderPreview, `{"app":1,"revision":"3","timezone":"Asia/Tokyo","notifications":[{"timing":{"code":"Due","daysLater":-1,"time":"09:00"},"targets":[]}]}`)).body, []byte(`{"revision":"4"}`))
		wantError(t, b.do(t, "PUT", previewPath, `{"app":1,"revision":3}`), http.StatusConflict, "GAIA_CO02")
		// The general settings read the app's revision too.
		if rev := ok(t, b.do(t, "GET", previewPath+"?app=1", nil)).json(t)["revision"]; rev != "4" {
			t.Fatalf("general revision %v, want 4", rev)
		}
		wantError(t, b.do(t, "POST", deployPath, `{"apps":[{"app":1,"revision":3}]}`), http.StatusConflict, "GAIA_CO02")
		ok(t, b.do(t, "POST", deployPath, `{"apps":[{"app":1,"revision":4}]}`))
		sameJSON(t, ok(t, b.do(t, "GET", perRecordLive+"?app=1", nil)).body,
			[]byte(`{"notifications":[{"filterCond":"Amount > 10","title":"","targets":[{"entity":{"type":"GROUP","code":"team"},"includeSubs":false}]}],"revision":"4"}`))
		sameJSON(t, ok(t, b.do(t, "GET", reminderLive+"?app=1", nil)).body,
			[]byte(`{"notifications":[{"timing":{"code":"Due","daysLater":"-1","time":"09:00"},"filterCond":"","title":"","targets":[]}],"timezone":"Asia/Tokyo","revision":"4"}`))
		if n := ok(t, b.do(t, "GET", livePath+"?app=1", nil)).json(t)["notifications"].([]any); len(n) != 1 {
			t.Fatalf("general live %v", n)
		}
		// Writing per-record and reminder notifications leaves the other
		// documents as they are; a revert discards every draft.
		ok(t, b.do(t, "PUT", perRecordPreview, `{"app":1,"notifications":[]}`))
		ok(t, b.do(t, "PUT", reminderPreview, `{"app":1,"timezone":"Europe/Paris"}`))
		if rm := ok(t, b.do(t, "GET", reminderPreview+"?app=1", nil)).json(t); len(rm["notifications"].([]any)) != 1 || rm["timezone"] != "Europe/Paris" {
			t.Fatalf("reminders after a time zone write: %v", rm)
		}
		ok(t, b.do(t, "POST", deployPath, `{"apps":[{"app":1}],"revert":true}`))
		sameJSON(t, ok(t, b.do(t, "GET", perRecordPreview+"?app=1", nil)).body,
			[]byte(`{"notifications":[{"filterCond":"Amount > 10","title":"","targets":[{"entity":{"type":"GROUP","code":"team"},"includeSubs":false}]}],"revision":"7"}`))
		if tz := ok(t, b.do(t, "GET", reminderPreview+"?app=1", nil)).json(t)["timezone"]; tz != "Asia/Tokyo" {
			t.Fatalf("time zone after revert %v", tz)
		}
	})
}

// TestRecords_RoundTrip writes Booleans and numbers as strings, every
// kind of target and both kinds of timing, and reads them back in order.
func TestRecords_RoundTrip(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		b := setup(t, db)
		ok(t, b.do(t, "PUT", perRecordPreview, map[string]any{"app": "1", "revision": "-1", "notifications": []any{
			map[string]any{"filterCond": `Status in ("Done") and (Amount >= "100" or 担当者 in ("ann"))`, "title": "Closed", "targets": []any{
				map[string]any{"entity": map[string]any{"type": "ORGANIZATION", "code": "sales"}, "includeSubs": "true"},
				map[string]any{"entity": map[string]any{"type": "FIELD_ENTITY", "code": "作成者"}},
				// includeSubs applies to departments and fields only.
				map[string]any{"entity": map[string]any{"type": "USER", "code": "guest/vera"}, "includeSubs": true},
			}},
			map[string]any{"filterCond": nil, "targets": []any{}},
		}}))
		sameJSON(t, ok(t, b.do(t, "GET", perRecordPreview+"?app=1", nil)).body, []byte(`{"notifications":[
			{"filterCond":"Status in (\"Done\") and (Amount >= \"100\" or 担当者 in (\"ann\"))","title":"Closed","targets":[
				{"entity":{"type":"ORGANIZATION","code":"sales"},"includeSubs":true},
				{"entity":{"type":"FIELD_ENTITY","code":"作成者"},"includeSubs":false},
				{"entity":{"type":"USER","code":"guest/vera"},"includeSubs":false}]},
			{"filterCond":"","title":"","targets":[]}],"revision":"2"}`))
		ok(t, b.do(t, "PUT", reminderPreview, `{"app":1,"notifications":[
			{"timing":{"code":"期限","daysLater":"-10000","hoursLater":-10000},"targets":[{"entity":{"type":"GROUP","code":"team"},"includeSubs":"false"}]},
			{"timing":{"code":"Updated_datetime","daysLater":0,"time":"23:50"},"filterCond":"Record_number = 14","title":"Reminder: Tomorrow is the deadline.","targets":[{"entity":{"type":"FIELD_ENTITY","code":"Created_by"},"includeSubs":false}]}]}`))
		sameJSON(t, ok(t, b.do(t, "GET", reminderPreview+"?app=1", nil)).body, []byte(`{"notifications":[
			{"timing":{"code":"期限","daysLater":"-10000","hoursLater":"-10000"},"filterCond":"","title":"","targets":[{"entity":{"type":"GROUP","code":"team"},"includeSubs":false}]},
			{"timing":{"code":"Updated_datetime","daysLater":"0","time":"23:50"},"filterCond":"Record_number = 14","title":"Reminder: Tomorrow is the deadline.","targets":[{"entity":{"type":"FIELD_ENTITY","code":"Created_by"},"includeSubs":false}]}],
			"timezone":"UTC","revision":"3"}`))
	})
}

// TestRecords_Errors: an unsupported query (a function, order by, limit)
// is CB_VA01 naming the notification's filterCond, as is every other
// invalid member, all at once; nothing changes.
func TestRecords_Errors(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		b := setup(t, db)
		m := wantError(t, b.do(t, "PUT", perRecordPreview, `{"app":1,"notifications":[
			{"filterCond":"期限 < TODAY()","targets":[]},
			{"filterCond":"Amount > 10 order by Amount desc","targets":[]},
			{"filterCond":"Amount > 10 limit 5","targets":[]},
			{"filterCond":"Amount >","targets":[]},
			{"filterCond":"Amount > 10"},
			{"filterCond":"Amount > 10","title":"`+strings.Repeat("x", 101)+`","targets":[{"entity":{"type":"USER","code":"ann"}},{"entity":{"type":"USER","code":"ann"}}]},
			{"filterCond":"Amount > 10","targets":[{"entity":{"type":"ROBOT","code":"r"}},{"entity":{"type":"FIELD_ENTITY","code":"【担当】"}},{"entity":{}}]},
			{"filterCond":5,"targets":"x"}]}`), http.StatusBadRequest, "CB_VA01")
		errs := m["errors"].(map[string]any)
		for _, f := range []string{"notifications[0].filterCond", "notifications[1].filterCond", "notifications[2].filterCond", "notifications[3].filterCond",
			"notifications[4].targets", "notifications[5].title", "notifications[6].targets[0].entity.type", "notifications[6].targets[2].entity.type",
			"notifications[6].targets[2].entity.code", "notifications[7].filterCond", "notifications[7].targets"} {
			if errs[f] == nil {
				t.Errorf("no error on %s: %v", f, errs)
			}
		}
		if msg := errs["notifications[0].filterCond"].(map[string]any)["messages"].([]any)[0].(string); !strings.Contains(msg, "TODAY()") || !strings.Contains(msg, "期限") {
			t.Errorf("the message names neither the function nor the field: %s", msg)
		}
		m = wantError(t, b.do(t, "PUT", reminderPreview, `{"app":1,"timezone":"Mars/Olympus","notifications":[
			{"timing":{"code":"Due","daysLater":10001,"time":"09:00"},"targets":[]},
			{"timing":{"code":"Due","daysLater":1,"hoursLater":1,"time":"09:00"},"targets":[]},
			{"timing":{"code":"Due","daysLater":1,"time":"09:05"},"targets":[]},
			{"timing":{"code":"Due","daysLater":1},"targets":[]},
			{"timing":{"daysLater":"x","hoursLater":"-10001"},"targets":[]},
			{"targets":[]},
			{"timing":{"code":"Due","daysLater":1,"time":"09:00"},"filterCond":"Due = NOW()","targets":[]}]}`), http.StatusBadRequest, "CB_VA01")
		errs = m["errors"].(map[string]any)
		for _, f := range []string{"timezone", "notifications[0].timing.daysLater", "notifications[1].timing", "notifications[2].timing.time",
			"notifications[3].timing.hoursLater", "notifications[4].timing.code", "notifications[4].timing.daysLater", "notifications[4].timing.hoursLater",
			"notifications[5].timing", "notifications[6].filterCond"} {
			if errs[f] == nil {
				t.Errorf("no error on %s: %v", f, errs)
			}
		}
		var eleven []string
		for range 11 {
			eleven = append(eleven, `{"timing":{"code":"Due","daysLater":1,"time":"09:00"},"targets":[]}`)
		}
		wantError(t, b.do(t, "PUT", reminderPreview, `{"app":1,"notifications":[`+strings.Join(eleven, ",")+`]}`), http.StatusBadRequest, "CB_VA01")
		wantError(t, b.do(t, "PUT", reminderPreview, `{"app":1,"timezone":""}`), http.StatusBadRequest, "CB_VA01")
		wantError(t, b.do(t, "PUT", perRecordPreview, `{"notifications":[]}`), http.StatusBadRequest, "CB_VA01")
		wantError(t, b.do(t, "PUT", perRecordPreview, `{"app":99,"notifications":[]}`), http.StatusNotFound, "GAIA_AP01")
		wantError(t, b.do(t, "GET", reminderLive+"?app=3", nil), http.StatusNotFound, "GAIA_AP01") // app 3 is in guest space 7
		// Nothing changed.
		sameJSON(t, ok(t, b.do(t, "GET", perRecordPreview+"?app=1", nil)).body, []byte(`{"notifications":[],"revision":"1"}`))
		sameJSON(t, ok(t, b.do(t, "GET", reminderPreview+"?app=1", nil)).body, []byte(`{"notifications":[],"timezone":"UTC","revision":"1"}`))
		// A token that may read settings may not write them.
		reader := b.newToken(t, herald.PermSettingsRead)
		ok(t, b.do(t, "GET", reminderPreview+"?app=1", nil, "X-Cybozu-API-Token", reader))
		wantError(t, b.do(t, "PUT", reminderPreview, `{"app":1,"timezone":"UTC"}`, "X-Cybozu-API-Token", reader), http.StatusForbidden, "CB_NO02")
		wantError(t, b.do(t, "GET", perRecordPreview+"?app=1", nil, "X-Cybozu-API-Token", "hld_nope"), http.StatusUnauthorized, "CB_WA01")
	})
}

// TestRecords_GuestSpace: an app of a guest space is read and written
// under its space's path only.
func TestRecords_GuestSpace(t *testing.T) {
	t.Parallel()
	db := storetest.NewDB(t, store.DialectSQLite)
	b := setup(t, db)
	for _, p := range []string{"/k/guest/7/v1/preview/app/notifications/perRecord.json", "/k/guest/7/v1/preview/app/notifications/reminder.json"} {
		sameJSON(t, ok(t, b.do(t, "PUT", p, `{"app":3,"notifications":[]}`)).body, guestRevision(t, p))
		ok(t, b.do(t, "GET", p+"?app=3", nil))
		wantError(t, b.do(t, "GET", p+"?app=1", nil), http.StatusNotFound, "GAIA_AP01")
		wantError(t, b.do(t, "GET", strings.Replace(p, "/k/guest/7/v1", "/k/v1", 1)+"?app=3", nil), http.StatusNotFound, "GAIA_AP01")
		wantError(t, b.do(t, "GET", strings.Replace(p, "/7/", "/8/", 1)+"?app=3", nil), http.StatusNotFound, "GAIA_AP01")
	}
	ok(t, b.do(t, "POST", "/k/guest/7/v1/preview/app/deploy.json", `{"apps":[{"app":3,"revision":3}]}`))
	ok(t, b.do(t, "GET", "/k/guest/7/v1/app/notifications/reminder.json?app=3", nil))
}

// guestRevision is the revision the guest-space test's writes produce, in turn.
func guestRevision(t *testing.T, path string) []byte {
	t.Helper()
	if strings.Contains(path, "perRecord") {
		return []byte(`{"revision":"2"}`)
	}
	return []byte(`{"revision":"3"}`)
}

// TestRecords_ErrorsOnce: each invalid field is named once, with one
// message.
func TestRecords_ErrorsOnce(t *testing.T) {
	t.Parallel()
	db := storetest.NewDB(t, store.DialectSQLite)
	b := setup(t, db)
	m := wantError(t, b.do(t, "PUT", reminderPreview, `{"app":1,"notifications":[
		{"timing":{"code":"Due","daysLater":10001,"time":"09:05"},"title":"`+strings.Repeat("x", 101)+`","targets":[{"entity":{"type":"USER","code":"a b"}},{"entity":{"type":"USER","code":"ann"}},{"entity":{"type":"USER","code":"ann"}}]}]}`),
		http.StatusBadRequest, "CB_VA01")
	errs := m["errors"].(map[string]any)
	want := []string{"notifications[0].timing.daysLater", "notifications[0].timing.time", "notifications[0].title",
		"notifications[0].targets[0].entity.code", "notifications[0].targets[2].entity"}
	if len(errs) != len(want) {
		t.Errorf("errors %v, want on %v", errs, want)
	}
	for _, f := range want {
		e, _ := errs[f].(map[string]any)
		if e == nil || len(e["messages"].([]any)) != 1 {
			t.Errorf("%s: %v", f, errs[f])
		}
	}
}

// TestRecords_Events: per-record notifications written and deployed
// through this API tell their targets when an event of the app carries a
// matching record, and no one for a record that does not match.
func TestRecords_Events(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		b := setup(t, db)
		users := map[string]*herald.User{}
		for _, code := range []string{"user1", "ann"} {
			users[code] = &herald.User{Code: code, Name: code}
			must(t, db.CreateUser(b.ctx, users[code]))
		}
		ok(t, b.do(t, "PUT", perRecordPreview, `{"app":1}`)) // to the sample's revision 2
		ok(t, b.do(t, "PUT", perRecordPreview, golden(t, "put_per_record.request.json")))
		wantError(t, b.do(t, "PUT", perRecordPreview, golden(t, "put_per_record.request.json")), http.StatusConflict, "GAIA_CO02")
		ok(t, b.do(t, "POST", deployPath, `{"apps":[{"app":1}]}`))

		e, err := queue.New(db, queue.Config{AllowPrivateTargets: true, PollInterval: 20 * time.Millisecond})
		must(t, err)
		must(t, e.Start(context.Background()))
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_ = e.Stop(ctx)
		})
		event := func(id, selected string) *herald.Event {
			return &herald.Event{SourceID: b.apps["1"].ID, Type: "record.edited", Payload: json.RawMessage(`{"type":"UPDATE_RECORD","record":{
				"$id":{"type":"__ID__","value":"` + id + `"},
				"ユーザー選択フィールド":{"type":"USER_SELECT","value":[{"code":"` + selected + `","name":"x"}]}}}`)}
		}
		miss, hit := event("41", "ann"), event("42", "user1")
		must(t, db.CreateEvents(b.ctx, []*herald.Event{miss, hit}))
		deadline := time.Now().Add(30 * time.Second)
		for {
			got, err := db.FindEventByID(b.ctx, hit.ID)
			must(t, err)
			if len(got.Deliveries) > 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("the matching record notified no one")
			}
			time.Sleep(25 * time.Millisecond)
		}
		msgs, _, err := db.FindInbox(b.ctx, users["user1"].ID, herald.InboxFilter{}, herald.Page{})
		must(t, err)
		if len(msgs) != 1 || msgs[0].Title != "user1が選択されました" || msgs[0].EventID != hit.ID {
			t.Errorf("user1's inbox %+v", msgs)
		}
		if got, err := db.FindEventByID(b.ctx, miss.ID); err != nil || len(got.Deliveries) != 0 {
			t.Errorf("the record that does not match: %v %v", got, err)
		}
	})
}
