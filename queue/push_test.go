package queue_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/store"
	"github.com/heraldhq/herald/store/storetest"
)

// pushTimeout bounds the wait for a push: River's scheduler moves a
// scheduled job to available about every 5 seconds.
const pushTimeout = 45 * time.Second

// waitPush polls the push until ok says so.
func waitPush(t *testing.T, db *store.DB, ctx context.Context, id int64, what string, ok func(*herald.Push) bool) *herald.Push {
	t.Helper()
	deadline := time.Now().Add(pushTimeout)
	for {
		p, err := db.FindPushByID(ctx, id)
		must(t, err)
		if ok(p) {
			return p
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %s the push is %s with counts %d/%d/%d; waited for %s", pushTimeout, p.Status,
				p.TargetUserCount, p.SentUserCount, p.ReadUserCount, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// approved creates a push and has a second approver approve it (the
// context is an admin).
func approved(t *testing.T, db *store.DB, ctx context.Context, p *herald.Push) *herald.Push {
	t.Helper()
	must(t, db.CreatePush(ctx, p))
	_, err := db.SubmitPush(ctx, p.ID, "")
	must(t, err)
	approver := herald.NewContextWithPrincipal(context.Background(), &herald.Principal{
		TenantID: herald.PrincipalFromContext(ctx).TenantID, TokenName: "approver", Permissions: []herald.Permission{herald.PermPushApprove}})
	got, err := db.ApprovePush(approver, p.ID)
	must(t, err)
	if got.Status != herald.PushApproved {
		t.Fatalf("submitted push is %s", got.Status)
	}
	return got
}

// TestPush_DepartmentTree sends a push to a department tree of 1,000
// users: every inbox gets it, target = sent = 1,000, and read climbs as
// users read it. A chat of the push gets one post through its robot.
func TestPush_DepartmentTree(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		const n = 1000
		b := setup(t, db)
		ctx := b.ctx
		var (
			mu    sync.Mutex
			posts []string
		)
		robot := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(r.Body)
			mu.Lock()
			posts = append(posts, string(body))
			mu.Unlock()
			fmt.Fprint(w, `{"errcode":0,"errmsg":"ok"}`)
		}))
		t.Cleanup(robot.Close)
		hook := b.notifier(t, herald.NotifierDingTalk, "ops robot", herald.NotifierConfig{URL: robot.URL + "/robot/send?access_token=t0ken"}, "")
		chat := &herald.Chat{Code: "oc_ops", Name: "Ops", NotifierID: &hook.ID}
		must(t, db.CreateChat(ctx, chat))

		// A root with 4 children, each with 4 grandchildren: users spread
		// over all 21 departments, plus 5 users outside the tree.
		root := &herald.Department{Code: "root", Name: "Root"}
		must(t, db.CreateDepartment(ctx, root))
		depts := []int64{root.ID}
		for i := range 4 {
			c := &herald.Department{Code: fmt.Sprint("c", i), Name: "C", ParentID: &root.ID}
			must(t, db.CreateDepartment(ctx, c))
			depts = append(depts, c.ID)
			for j := range 4 {
				g := &herald.Department{Code: fmt.Sprintf("g%d-%d", i, j), Name: "G", ParentID: &c.ID}
				must(t, db.CreateDepartment(ctx, g))
				depts = append(depts, g.ID)
			}
		}
		users := make([]*herald.User, 0, n+5)
		for i := range n {
			users = append(users, &herald.User{Code: fmt.Sprint("user", i), Name: "User", DepartmentIDs: []int64{depts[i%len(depts)]}})
		}
		for i := range 5 {
			users = append(users, &herald.User{Code: fmt.Sprint("outsider", i), Name: "Outsider"})
		}
		must(t, db.CreateUsers(ctx, users))

		startEngine(t, db, testConfig())
		p := approved(t, db, ctx, &herald.Push{JobName: "All hands", Content: "Friday 4pm", ScopeType: herald.PushScopeGiven,
			DepartmentIDs: []int64{root.ID}, ChatIDs: []int64{chat.ID}})
		_, err := db.ExecutePush(ctx, p.ID, time.Time{})
		must(t, err)
		p = waitPush(t, db, ctx, p.ID, "sent", func(p *herald.Push) bool { return p.Status == herald.PushSent })
		if p.TargetUserCount != n || p.SentUserCount != n || p.ReadUserCount != 0 {
			t.Fatalf("counts %d/%d/%d, want %d/%d/0", p.TargetUserCount, p.SentUserCount, p.ReadUserCount, n, n)
		}
		for _, u := range users {
			msgs, _, err := db.FindInbox(ctx, u.ID, herald.InboxFilter{}, herald.Page{})
			must(t, err)
			want := 1
			if strings.HasPrefix(u.Code, "outsider") {
				want = 0
			}
			if len(msgs) != want || (want == 1 && (msgs[0].PushID != p.ID || msgs[0].Title != "All hands")) {
				t.Fatalf("user %s inbox %+v, want %d message of push %d", u.Code, msgs, want, p.ID)
			}
			if u.ID%10 == 0 && want == 1 {
				must(t, db.MarkInboxRead(ctx, u.ID, msgs[0].ID))
			}
		}
		read := 0
		for _, u := range users[:n] {
			if u.ID%10 == 0 {
				read++
			}
		}
		p = waitPush(t, db, ctx, p.ID, "reads counted", func(p *herald.Push) bool { return p.ReadUserCount == read })
		if p.TargetUserCount != n || p.SentUserCount != n {
			t.Fatalf("counts after reads %d/%d", p.TargetUserCount, p.SentUserCount)
		}
		// The chat's robot got one post.
		deadline := time.Now().Add(pushTimeout)
		for {
			mu.Lock()
			got := len(posts)
			mu.Unlock()
			if got == 1 {
				break
			}
			if time.Now().After(deadline) {
				ds, _, _ := db.FindDeliveries(ctx, herald.DeliveryFilter{NotifierID: hook.ID}, herald.Page{})
				for _, d := range ds {
					t.Logf("robot delivery %+v", d)
				}
				t.Fatalf("robot posts: %d, want 1", got)
			}
			time.Sleep(50 * time.Millisecond)
		}
		mu.Lock()
		if !strings.Contains(posts[0], "Friday 4pm") {
			t.Errorf("robot post %s lacks the content", posts[0])
		}
		mu.Unlock()

		// Recall empties every recipient's inbox of it.
		_, err = db.CancelPush(ctx, p.ID, true)
		must(t, err)
		for _, u := range users[:n] {
			msgs, _, err := db.FindInbox(ctx, u.ID, herald.InboxFilter{}, herald.Page{})
			must(t, err)
			if len(msgs) != 0 {
				t.Fatalf("user %s still holds %d messages after recall", u.Code, len(msgs))
			}
		}
	})
}

// TestPush_ScheduledTwoNodes schedules a push a little ahead with two
// nodes on one PostgreSQL database: it is sent once, at send_at, not
// before.
func TestPush_ScheduledTwoNodes(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		if db.Dialect() != store.DialectPostgres {
			t.Skip("several nodes share one database on PostgreSQL only")
		}
		b := setup(t, db)
		ctx := b.ctx
		users := make([]*herald.User, 50)
		for i := range users {
			users[i] = &herald.User{Code: fmt.Sprint("user", i), Name: "User"}
		}
		must(t, db.CreateUsers(ctx, users))
		for _, id := range []string{"node-a", "node-b"} {
			cfg := testConfig()
			cfg.ID = id
			startEngine(t, db, cfg)
		}
		p := approved(t, db, ctx, &herald.Push{JobName: "Reminder", Content: "Timesheets", ScopeType: herald.PushScopeAll})
		sendAt := time.Now().Add(2 * time.Second)
		_, err := db.ExecutePush(ctx, p.ID, sendAt)
		must(t, err)
		p = waitPush(t, db, ctx, p.ID, "sent", func(p *herald.Push) bool { return p.Status == herald.PushSent })
		if p.SentAt.Before(sendAt.Truncate(time.Millisecond)) {
			t.Fatalf("sent at %s, before send_at %s", p.SentAt, sendAt)
		}
		// Give a duplicate run every chance to show up, then count.
		time.Sleep(500 * time.Millisecond)
		for _, u := range users {
			msgs, _, err := db.FindInbox(ctx, u.ID, herald.InboxFilter{}, herald.Page{})
			must(t, err)
			if len(msgs) != 1 {
				t.Fatalf("user %s got the push %d times", u.Code, len(msgs))
			}
		}
		ds, _, err := db.FindDeliveries(ctx, herald.DeliveryFilter{}, herald.Page{Limit: herald.MaxPageLimit})
		must(t, err)
		if len(ds) != len(users) || p.TargetUserCount != len(users) || p.SentUserCount != len(users) {
			t.Fatalf("%d deliveries, counts %d/%d; want %d", len(ds), p.TargetUserCount, p.SentUserCount, len(users))
		}
	})
}

// TestPush_NewStaff: a new-staff push stays active and reaches the users
// created after it started, in its departments, once each; cancelling it
// stops it.
func TestPush_NewStaff(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		b := setup(t, db)
		ctx := b.ctx
		dept := &herald.Department{Code: "eng", Name: "Eng"}
		must(t, db.CreateDepartment(ctx, dept))
		old := &herald.User{Code: "old", Name: "Old", DepartmentIDs: []int64{dept.ID}}
		must(t, db.CreateUser(ctx, old))
		cfg := testConfig()
		cfg.NewStaffSweep = 100 * time.Millisecond
		startEngine(t, db, cfg)
		p := approved(t, db, ctx, &herald.Push{JobName: "Welcome", Content: "Hi", PushType: herald.PushTypeNewStaff,
			ScopeType: herald.PushScopeNewStaff, NewStaffScopeType: intp(herald.NewStaffDepartments), NewStaffDepartmentIDs: []int64{dept.ID}})
		_, err := db.ExecutePush(ctx, p.ID, time.Time{})
		must(t, err)
		p = waitPush(t, db, ctx, p.ID, "sending", func(p *herald.Push) bool { return p.Status == herald.PushSending && p.StartedAt != nil })
		if p.TargetUserCount != 0 {
			t.Fatalf("a new-staff push targeted %d existing users", p.TargetUserCount)
		}
		time.Sleep(5 * time.Millisecond) // created_at strictly after started_at
		newbie := &herald.User{Code: "newbie", Name: "New", DepartmentIDs: []int64{dept.ID}}
		must(t, db.CreateUser(ctx, newbie))
		must(t, db.CreateUser(ctx, &herald.User{Code: "elsewhere", Name: "Elsewhere"}))
		p = waitPush(t, db, ctx, p.ID, "the new user reached", func(p *herald.Push) bool { return p.SentUserCount == 1 })
		msgs, _, err := db.FindInbox(ctx, newbie.ID, herald.InboxFilter{}, herald.Page{})
		must(t, err)
		if len(msgs) != 1 || p.TargetUserCount != 1 {
			t.Fatalf("newbie inbox %d, target %d", len(msgs), p.TargetUserCount)
		}
		_, err = db.CancelPush(ctx, p.ID, false)
		must(t, err)
	})
}

func intp(v int) *int { return &v }
