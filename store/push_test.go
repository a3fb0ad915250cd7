package store_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/store"
	"github.com/heraldhq/herald/store/storetest"
)

// asToken acts in ctx's tenant as a token holding perms.
func asToken(ctx context.Context, name string, perms ...herald.Permission) context.Context {
	p := herald.PrincipalFromContext(ctx)
	return herald.NewContextWithPrincipal(context.Background(), &herald.Principal{TenantID: p.TenantID, TokenName: name, Permissions: perms})
}

// submitApproved submits push id as ctx and has a second approver
// approve it.
func submitApproved(t *testing.T, db *store.DB, ctx context.Context, id int64) {
	t.Helper()
	_, err := db.SubmitPush(ctx, id, "")
	must(t, err)
	_, err = db.ApprovePush(asToken(ctx, "second approver", herald.PermPushApprove), id)
	must(t, err)
}

func newPush(t *testing.T, db *store.DB, ctx context.Context) *herald.Push {
	t.Helper()
	p := &herald.Push{JobName: "notice", Content: "hello", ScopeType: herald.PushScopeAll}
	must(t, db.CreatePush(ctx, p))
	return p
}

// TestPushService_Lifecycle walks every transition the lifecycle allows,
// and checks that the forbidden ones are not_allowed and change nothing.
func TestPushService_Lifecycle(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		admin := storetest.NewTenant(t, db, "acme")
		writer := asToken(admin, "writer", herald.PermPushWrite)
		approver := asToken(admin, "approver", herald.PermPushApprove)

		// The creator is the token, linked to the user named like it.
		must(t, db.CreateUser(admin, &herald.User{Code: "writer", Name: "Wendy Writer"}))
		p := newPush(t, db, writer)
		if p.Status != herald.PushDraft || p.CreatedBy.Name != "Wendy Writer" || p.CreatedBy.UserID == 0 {
			t.Fatalf("created %+v", p)
		}
		status := func(want herald.PushStatus) {
			t.Helper()
			got, err := db.FindPushByID(admin, p.ID)
			must(t, err)
			if got.Status != want {
				t.Fatalf("status %s, want %s", got.Status, want)
			}
		}
		forbidden := func(name string, err error) {
			t.Helper()
			if herald.ErrorCode(err) != herald.ENOTALLOWED {
				t.Fatalf("%s: %v, want not_allowed", name, err)
			}
		}

		// draft: edit; nothing to approve, execute or cancel yet.
		p.JobName = "renamed"
		must(t, db.UpdatePush(writer, p))
		_, err := db.ApprovePush(approver, p.ID)
		forbidden("approve a draft", err)
		_, err = db.ExecutePush(writer, p.ID, time.Time{})
		forbidden("execute a draft", err)
		_, err = db.CancelPush(writer, p.ID, false)
		forbidden("cancel a draft", err)
		_, err = db.WithdrawPush(writer, p.ID)
		forbidden("withdraw a draft", err)

		// submit without admin → pending; edits stop; withdraw → draft.
		got, err := db.SubmitPush(writer, p.ID, "quarterly notice")
		must(t, err)
		if got.Status != herald.PushPendingApproval || got.Reason != "quarterly notice" {
			t.Fatalf("submitted %+v", got)
		}
		forbidden("edit pending", db.UpdatePush(writer, p))
		_, err = db.SubmitPush(writer, p.ID, "")
		forbidden("submit twice", err)
		_, err = db.ExecutePush(writer, p.ID, time.Time{})
		forbidden("execute pending", err)
		_, err = db.WithdrawPush(writer, p.ID)
		must(t, err)
		status(herald.PushDraft)

		// reject needs push:approve and a reason; rejected → withdraw → draft.
		_, err = db.SubmitPush(writer, p.ID, "")
		must(t, err)
		_, err = storetest.Guard(db).Pushes.RejectPush(writer, p.ID, "no")
		code(t, err, herald.EFORBIDDEN)
		_, err = db.RejectPush(approver, p.ID, "")
		code(t, err, herald.EINVALID)
		got, err = db.RejectPush(approver, p.ID, "too loud")
		must(t, err)
		if got.Status != herald.PushRejected || got.RejectReason != "too loud" || got.UpdatedBy.Name != "approver" {
			t.Fatalf("rejected %+v", got)
		}
		_, err = db.ApprovePush(approver, p.ID)
		forbidden("approve a rejected push", err)
		_, err = db.ExecutePush(writer, p.ID, time.Time{})
		forbidden("execute a rejected push", err)
		_, err = db.WithdrawPush(writer, p.ID)
		must(t, err)

		// submit → approve → execute later → scheduled; cancel → cancelled.
		_, err = db.SubmitPush(writer, p.ID, "")
		must(t, err)
		_, err = storetest.Guard(db).Pushes.ApprovePush(writer, p.ID)
		code(t, err, herald.EFORBIDDEN)
		_, err = db.ApprovePush(approver, p.ID)
		must(t, err)
		status(herald.PushApproved)
		forbidden("edit approved", db.UpdatePush(writer, p))
		_, err = db.CancelPush(writer, p.ID, false)
		forbidden("cancel an approved push not yet executed", err)
		at := time.Now().Add(time.Hour)
		got, err = db.ExecutePush(writer, p.ID, at)
		must(t, err)
		if got.Status != herald.PushScheduled || got.SendAt == nil || got.SendAt.UnixMilli() != at.UnixMilli() {
			t.Fatalf("executed %+v", got)
		}
		_, err = db.ExecutePush(writer, p.ID, at)
		forbidden("execute twice", err)
		forbidden("edit scheduled", db.UpdatePush(writer, p))
		_, err = db.CancelPush(writer, p.ID, false)
		must(t, err)
		status(herald.PushCancelled)
		for name, op := range map[string]func() error{
			"edit":     func() error { return db.UpdatePush(writer, p) },
			"submit":   func() error { _, err := db.SubmitPush(writer, p.ID, ""); return err },
			"approve":  func() error { _, err := db.ApprovePush(approver, p.ID); return err },
			"withdraw": func() error { _, err := db.WithdrawPush(writer, p.ID); return err },
			"execute":  func() error { _, err := db.ExecutePush(writer, p.ID, time.Time{}); return err },
			"cancel":   func() error { _, err := db.CancelPush(writer, p.ID, false); return err },
			"recall":   func() error { _, err := db.CancelPush(writer, p.ID, true); return err },
			"start":    func() error { _, err := db.StartPush(admin, p.ID); return err },
		} {
			forbidden(name+" cancelled", op())
		}

		// An admin's submission waits too (TestPushService_FourEyes).
		q := newPush(t, db, admin)
		got, err = db.SubmitPush(admin, q.ID, "")
		must(t, err)
		if got.Status != herald.PushPendingApproval {
			t.Fatalf("admin submission: %s, want pending_approval", got.Status)
		}

		// Another tenant sees none of it.
		other := storetest.NewTenant(t, db, "other")
		_, err = db.FindPushByID(other, p.ID)
		code(t, err, herald.ENOTFOUND)
		_, err = db.SubmitPush(other, q.ID, "")
		code(t, err, herald.ENOTFOUND)
	})
}

// TestPushService_SendCountsRecall sends a push the way the queue does and
// checks the true counts, the inbox, and recall.
func TestPushService_SendCountsRecall(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := storetest.NewTenant(t, db, "acme")
		root := &herald.Department{Code: "root", Name: "Root"}
		must(t, db.CreateDepartment(ctx, root))
		sub := &herald.Department{Code: "sub", Name: "Sub", ParentID: &root.ID}
		must(t, db.CreateDepartment(ctx, sub))
		var users []*herald.User
		for i := range 5 {
			u := &herald.User{Code: fmt.Sprint("u", i), Name: "U"}
			switch i {
			case 0, 1:
				u.DepartmentIDs = []int64{root.ID}
			case 2:
				u.DepartmentIDs = []int64{root.ID, sub.ID}
			case 3:
				u.DepartmentIDs = []int64{sub.ID}
			}
			users = append(users, u)
		}
		must(t, db.CreateUsers(ctx, users))
		// Users 0-3 through the tree, user 0 named twice, user 4 outside.
		p := &herald.Push{JobName: "notice", Content: "hello", ScopeType: herald.PushScopeGiven,
			UserIDs: []int64{users[0].ID}, DepartmentIDs: []int64{root.ID}}
		must(t, db.CreatePush(ctx, p))
		submitApproved(t, db, ctx, p.ID)
		_, err := db.ExecutePush(ctx, p.ID, time.Time{})
		must(t, err)
		p, err = db.StartPush(ctx, p.ID)
		must(t, err)
		targets, err := db.PushTargets(ctx, p, time.Time{})
		must(t, err)
		if len(targets) != 4 || targets[3].ID != users[3].ID {
			t.Fatalf("targets %d, want users 0-3", len(targets))
		}
		var ids []int64
		var ds []store.NewDelivery
		for _, u := range targets {
			ids = append(ids, u.ID)
			ds = append(ds, store.NewDelivery{Channel: "inbox", UserID: u.ID, Target: u.Code, Status: herald.StatusDelivered,
				Message: []byte(`{}`), Inbox: &herald.InboxMessage{UserID: u.ID, Title: p.JobName, Body: p.Content}})
		}
		ok, err := db.RecordPushSend(ctx, p.ID, ids, ds, true)
		if err != nil || !ok {
			t.Fatalf("record = %v, %v", ok, err)
		}
		// A second run records nothing: the push is no longer sending.
		if ok, err := db.RecordPushSend(ctx, p.ID, ids, ds, true); err != nil || ok {
			t.Fatalf("second record = %v, %v", ok, err)
		}
		// Recorded recipients are never targeted again.
		if again, err := db.PushTargets(ctx, p, time.Time{}); err != nil || len(again) != 0 {
			t.Fatalf("targets after send: %d, %v", len(again), err)
		}
		counts := func(target, sent, read int) {
			t.Helper()
			got, err := db.FindPushByID(ctx, p.ID)
			must(t, err)
			if got.TargetUserCount != target || got.SentUserCount != sent || got.ReadUserCount != read {
				t.Fatalf("counts %d/%d/%d, want %d/%d/%d (status %s)", got.TargetUserCount, got.SentUserCount, got.ReadUserCount, target, sent, read, got.Status)
			}
		}
		counts(4, 4, 0)
		msgs, _, err := db.FindInbox(ctx, users[2].ID, herald.InboxFilter{}, herald.Page{})
		must(t, err)
		if len(msgs) != 1 || msgs[0].PushID != p.ID {
			t.Fatalf("inbox %+v", msgs)
		}
		must(t, db.MarkInboxRead(ctx, users[2].ID, msgs[0].ID))
		must(t, db.MarkInboxRead(ctx, users[2].ID, msgs[0].ID))
		counts(4, 4, 1)
		_, err = db.MarkAllInboxRead(ctx, users[0].ID)
		must(t, err)
		counts(4, 4, 2)
		// A list answers the same counts, grouped.
		other := newPush(t, db, ctx)
		list, _, err := db.FindPushes(ctx, herald.PushFilter{}, herald.Page{})
		must(t, err)
		if len(list) != 2 || list[0].ID != p.ID || list[0].TargetUserCount != 4 || list[0].SentUserCount != 4 ||
			list[0].ReadUserCount != 2 || list[1].ID != other.ID || list[1].TargetUserCount != 5 {
			t.Fatalf("list %+v %+v", list[0], list[len(list)-1])
		}
		list, _, err = db.FindPushes(ctx, herald.PushFilter{Status: herald.PushDraft}, herald.Page{})
		must(t, err)
		if len(list) != 1 || list[0].ID != other.ID {
			t.Fatalf("drafts %+v", list)
		}

		// Cancel without recall is not allowed once sent; recall is.
		_, err = db.CancelPush(ctx, p.ID, false)
		code(t, err, herald.ENOTALLOWED)
		got, err := db.CancelPush(ctx, p.ID, true)
		must(t, err)
		if got.Status != herald.PushRecalled {
			t.Fatalf("recalled status %s", got.Status)
		}
		counts(4, 4, 2)
		for _, u := range targets {
			msgs, _, err := db.FindInbox(ctx, u.ID, herald.InboxFilter{}, herald.Page{})
			must(t, err)
			if len(msgs) != 0 {
				t.Fatalf("user %s still has %d messages after recall", u.Code, len(msgs))
			}
		}
	})
}

// TestPushService_References: a push may name only the tenant's own
// users, departments and chats.
func TestPushService_References(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := storetest.NewTenant(t, db, "acme")
		other := storetest.NewTenant(t, db, "other")
		theirs := &herald.User{Code: "eve", Name: "Eve"}
		must(t, db.CreateUser(other, theirs))
		chat := &herald.Chat{Code: "oc_x", Name: "X"}
		must(t, db.CreateChat(other, chat))
		for field, p := range map[string]*herald.Push{
			"user_ids": {JobName: "x", Content: "y", ScopeType: herald.PushScopeGiven, UserIDs: []int64{theirs.ID}},
			"chat_ids": {JobName: "x", Content: "y", ScopeType: herald.PushScopeChats, ChatIDs: []int64{chat.ID}},
		} {
			err := db.CreatePush(ctx, p)
			if herald.ErrorCode(err) != herald.EINVALID || herald.ErrorField(err) != field {
				t.Errorf("naming another tenant's %s: %v", field, err)
			}
		}
	})
}

// TestPushService_UnsentTargetCount: until a push starts sending, its
// target count is whom its scope would reach now, resolved as the send
// resolves it (every user; the given users and department trees, each
// user once; no user for chats only or new staff); a list shows the same.
// Once cancelled unsent it reached no one.
func TestPushService_UnsentTargetCount(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := storetest.NewTenant(t, db, "acme")
		root := &herald.Department{Code: "root", Name: "Root"}
		must(t, db.CreateDepartment(ctx, root))
		sub := &herald.Department{Code: "sub", Name: "Sub", ParentID: &root.ID}
		must(t, db.CreateDepartment(ctx, sub))
		var users []*herald.User
		for i := range 5 {
			u := &herald.User{Code: fmt.Sprint("u", i), Name: "U"}
			switch i {
			case 0, 1:
				u.DepartmentIDs = []int64{root.ID}
			case 2:
				u.DepartmentIDs = []int64{sub.ID}
			}
			users = append(users, u)
		}
		must(t, db.CreateUsers(ctx, users))
		chat := &herald.Chat{Code: "oc_1", Name: "Chat"}
		must(t, db.CreateChat(ctx, chat))
		// Another tenant's users are never counted.
		other := storetest.NewTenant(t, db, "other")
		must(t, db.CreateUser(other, &herald.User{Code: "x", Name: "X"}))

		all := newPush(t, db, ctx)
		given := &herald.Push{JobName: "given", Content: "hi", ScopeType: herald.PushScopeGiven,
			UserIDs: []int64{users[0].ID, users[3].ID}, DepartmentIDs: []int64{root.ID}}
		must(t, db.CreatePush(ctx, given))
		chats := &herald.Push{JobName: "chats", Content: "hi", ScopeType: herald.PushScopeChats, ChatIDs: []int64{chat.ID}}
		must(t, db.CreatePush(ctx, chats))
		newStaff := &herald.Push{JobName: "welcome", Content: "hi", PushType: herald.PushTypeNewStaff,
			ScopeType: herald.PushScopeNewStaff, NewStaffScopeType: new(int)}
		must(t, db.CreatePush(ctx, newStaff))

		want := map[int64]int{all.ID: 5, given.ID: 4, chats.ID: 0, newStaff.ID: 0}
		check := func(when string) {
			t.Helper()
			for id, n := range want {
				got, err := db.FindPushByID(ctx, id)
				must(t, err)
				if got.TargetUserCount != n {
					t.Errorf("%s: push %d (%s, scope %d) target %d, want %d", when, id, got.Status, got.ScopeType, got.TargetUserCount, n)
				}
			}
			list, _, err := db.FindPushes(ctx, herald.PushFilter{}, herald.Page{})
			must(t, err)
			for _, p := range list {
				if p.TargetUserCount != want[p.ID] {
					t.Errorf("%s: listed push %d target %d, want %d", when, p.ID, p.TargetUserCount, want[p.ID])
				}
			}
		}
		check("drafts")
		// A new member of the tree is counted at once.
		must(t, db.CreateUser(ctx, &herald.User{Code: "u5", Name: "U", DepartmentIDs: []int64{sub.ID}}))
		want[all.ID], want[given.ID] = 6, 5
		check("after a new user")
		// Submitted, approved and scheduled, it still counts.
		submitApproved(t, db, ctx, given.ID)
		_, err := db.ExecutePush(ctx, given.ID, time.Now().Add(time.Hour))
		must(t, err)
		check("scheduled")
		// Cancelled before it was sent, it reached no one.
		_, err = db.CancelPush(ctx, given.ID, false)
		must(t, err)
		want[given.ID] = 0
		check("cancelled")
	})
}

// asRealToken creates a token holding perms in ctx's tenant and acts as it
// (with its id, as Authenticate gives).
func asRealToken(t *testing.T, db *store.DB, ctx context.Context, name string, perms ...herald.Permission) context.Context {
	t.Helper()
	tok, secret, err := db.CreateToken(ctx, herald.TokenCreate{Name: name, Permissions: perms})
	must(t, err)
	p, err := db.Authenticate(context.Background(), secret)
	must(t, err)
	if p.TokenID != tok.ID {
		t.Fatalf("authenticated as token %d, want %d", p.TokenID, tok.ID)
	}
	return herald.NewContextWithPrincipal(context.Background(), p)
}

// TestPushService_FourEyes: a submission waits for approval even when the
// submitter may approve, and the submitter (its token, or another token of
// the same person) cannot approve it; another approver can. With the
// tenant's self-approval on, an approver's submission is approved at once.
func TestPushService_FourEyes(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		admin := storetest.NewTenant(t, db, "acme")
		must(t, db.CreateUser(admin, &herald.User{Code: "ann", Name: "Ann"}))
		a := asRealToken(t, db, admin, "ann", herald.PermPushWrite, herald.PermPushApprove)
		a2 := asRealToken(t, db, admin, "ann", herald.PermPushApprove) // Ann's second token
		b := asRealToken(t, db, admin, "bob", herald.PermPushApprove)
		guard := storetest.Guard(db).Pushes

		pol, err := guard.FindPushPolicy(a)
		must(t, err)
		if pol.SelfApproval {
			t.Fatal("self-approval is on by default")
		}
		p := newPush(t, db, a)
		got, err := guard.SubmitPush(a, p.ID, "")
		must(t, err)
		if got.Status != herald.PushPendingApproval {
			t.Fatalf("an approver's own submission: %s, want pending_approval", got.Status)
		}
		actions := func(ctx context.Context) []herald.PushAction {
			t.Helper()
			got, err := guard.PushActions(ctx, []*herald.Push{got})
			must(t, err)
			return got[p.ID]
		}
		if acts := actions(a); slices.Contains(acts, herald.PushActionApprove) || !slices.Contains(acts, herald.PushActionWithdraw) {
			t.Fatalf("the submitter's actions: %v", acts)
		}
		if acts := actions(b); !slices.Contains(acts, herald.PushActionApprove) || slices.Contains(acts, herald.PushActionWithdraw) {
			t.Fatalf("another approver's actions: %v", acts)
		}
		for name, ctx := range map[string]context.Context{"the submitter": a, "the submitter's other token": a2} {
			_, err = guard.ApprovePush(ctx, p.ID)
			code(t, err, herald.EFORBIDDEN)
			if cur, _ := db.FindPushByID(admin, p.ID); cur.Status != herald.PushPendingApproval {
				t.Fatalf("after %s's refused approval: %s", name, cur.Status)
			}
		}
		got, err = guard.ApprovePush(b, p.ID)
		must(t, err)
		if got.Status != herald.PushApproved {
			t.Fatalf("approved by another: %s", got.Status)
		}

		// Only an admin sets the policy.
		code(t, guard.UpdatePushPolicy(b, &herald.PushPolicy{SelfApproval: true}), herald.EFORBIDDEN)
		must(t, guard.UpdatePushPolicy(admin, &herald.PushPolicy{SelfApproval: true}))
		pol, err = guard.FindPushPolicy(b)
		must(t, err)
		if !pol.SelfApproval {
			t.Fatal("self-approval not saved")
		}
		q := newPush(t, db, a)
		got, err = guard.SubmitPush(a, q.ID, "")
		must(t, err)
		if got.Status != herald.PushApproved {
			t.Fatalf("with self-approval, an approver's submission: %s, want approved", got.Status)
		}
		// A writer who may not approve still waits, and may approve nothing.
		w := asRealToken(t, db, admin, "wes", herald.PermPushWrite)
		r := newPush(t, db, w)
		got, err = guard.SubmitPush(w, r.ID, "")
		must(t, err)
		if got.Status != herald.PushPendingApproval {
			t.Fatalf("with self-approval, a writer's submission: %s, want pending_approval", got.Status)
		}
		// With self-approval on, the submitter may approve a pending push.
		_, err = guard.WithdrawPush(a, r.ID)
		must(t, err)
		must(t, guard.UpdatePushPolicy(admin, &herald.PushPolicy{}))
		_, err = guard.SubmitPush(a, r.ID, "")
		must(t, err)
		must(t, guard.UpdatePushPolicy(admin, &herald.PushPolicy{SelfApproval: true}))
		if _, err := guard.ApprovePush(a, r.ID); err != nil {
			t.Fatalf("self-approval on, the submitter approves: %v", err)
		}

		// The policy is the tenant's.
		other := storetest.NewTenant(t, db, "other")
		pol, err = db.FindPushPolicy(other)
		must(t, err)
		if pol.SelfApproval {
			t.Fatal("another tenant's policy changed")
		}
	})
}
