package resolve_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/resolve"
)

func TestRoleCodes(t *testing.T) {
	t.Parallel()
	ev := &herald.Event{Actor: "joe", Roles: map[string][]string{
		"creator":    {"ann"},
		"followers":  {"bob", "cid"},
		"updater":    {"dee"},
		"commenters": {"eve"},
		"executor":   {"fay"},
		"assignee":   {"gus"},
	}}
	for _, tt := range []struct {
		role string
		want []string
	}{
		{"creator", []string{"ann"}},
		{"CREATOR", []string{"ann"}}, // Kintone's upper-case codes
		{"Creator", []string{"ann"}},
		{"followers", []string{"bob", "cid"}},
		{"follower", []string{"bob", "cid"}}, // CodeArts' singular
		{"FOLLOWER", []string{"bob", "cid"}},
		{"updater", []string{"dee"}},
		{"modifier", []string{"dee"}}, // one role, two names
		{"MODIFIER", []string{"dee"}},
		{"commenter", []string{"eve"}},
		{"executors", []string{"fay"}},
		{"assignee", []string{"gus"}}, // any named field
		{"actor", []string{"joe"}},
		{"reviewer", nil},
	} {
		if got := resolve.RoleCodes(ev, tt.role); !slices.Equal(got, tt.want) {
			t.Errorf("RoleCodes(%q) = %q, want %q", tt.role, got, tt.want)
		}
	}
	if got := resolve.RoleCodes(&herald.Event{}, "actor"); len(got) != 0 {
		t.Errorf("actor of an event without one = %q", got)
	}
	// Singular and plural both present: both are taken, once each.
	both := &herald.Event{Roles: map[string][]string{"follower": {"a"}, "followers": {"b"}}}
	if got := resolve.RoleCodes(both, "followers"); !slices.Equal(got, []string{"b", "a"}) {
		t.Errorf("RoleCodes(followers) = %q, want [b a]", got)
	}
}

// directory is an in-memory resolve.Directory recording what it is asked.
type directory struct {
	users  []*herald.User
	groups map[string][]string // group code -> user codes
	depts  map[string][]string // department code -> user codes
	subs   map[string][]string // department code -> child codes
	err    error

	asked []string
}

func (d *directory) byCodes(codes []string) []*herald.User {
	var out []*herald.User
	for _, u := range d.users {
		if slices.Contains(codes, u.Code) {
			out = append(out, u)
		}
	}
	return out
}

func (d *directory) FindUsersByCodes(_ context.Context, codes []string) ([]*herald.User, error) {
	d.asked = append(d.asked, "users:"+strings.Join(codes, ","))
	return d.byCodes(codes), d.err
}

func (d *directory) FindGroupMembersByCodes(_ context.Context, codes []string) ([]*herald.User, error) {
	d.asked = append(d.asked, "groups:"+strings.Join(codes, ","))
	var members []string
	for _, c := range codes {
		members = append(members, d.groups[c]...)
	}
	return d.byCodes(members), d.err
}

func (d *directory) FindDepartmentMembersByCodes(_ context.Context, codes []string, includeSubs bool) ([]*herald.User, error) {
	d.asked = append(d.asked, "depts:"+strings.Join(codes, ",")+map[bool]string{true: "+subs"}[includeSubs])
	var members []string
	var walk func(c string)
	walk = func(c string) {
		members = append(members, d.depts[c]...)
		if includeSubs {
			for _, s := range d.subs[c] {
				walk(s)
			}
		}
	}
	for _, c := range codes {
		walk(c)
	}
	return d.byCodes(members), d.err
}

func newDirectory() *directory {
	d := &directory{
		groups: map[string][]string{"oncall": {"bob", "cid"}},
		depts:  map[string][]string{"eng": {"dee"}, "backend": {"eve"}, "db": {"fay"}},
		subs:   map[string][]string{"eng": {"backend"}, "backend": {"db"}},
	}
	for i, c := range []string{"ann", "bob", "cid", "dee", "eve", "fay", "gus"} {
		d.users = append(d.users, &herald.User{ID: int64(10 - i), Code: c}) // ids not in code order
	}
	return d
}

func codes(users []*herald.User) []string {
	var out []string
	for _, u := range users {
		out = append(out, u.Code)
	}
	return out
}

func TestRecipients(t *testing.T) {
	t.Parallel()
	ev := &herald.Event{Actor: "gus", Roles: map[string][]string{"creator": {"ann"}, "followers": {"ann", "gus"}, "commenters": {"cid"}}}
	user := func(c string) herald.Recipient { return herald.Recipient{Type: herald.EntityUser, Code: c} }
	for _, tt := range []struct {
		name       string
		rs         []herald.Recipient
		commenters bool
		want       []string // by descending code order, since ids run backwards
	}{
		{"User", []herald.Recipient{user("ann"), user("nobody")}, false, []string{"ann"}},
		{"Group", []herald.Recipient{{Type: herald.EntityGroup, Code: "oncall"}}, false, []string{"cid", "bob"}},
		{"Organization", []herald.Recipient{{Type: herald.EntityOrganization, Code: "eng"}}, false, []string{"dee"}},
		{"OrganizationWithSubs", []herald.Recipient{{Type: herald.EntityOrganization, Code: "eng", IncludeSubs: true}}, false, []string{"fay", "eve", "dee"}},
		{"FieldEntity", []herald.Recipient{{Type: herald.EntityFieldEntity, Code: "CREATOR"}, {Type: herald.EntityFieldEntity, Code: "follower"}}, false, []string{"gus", "ann"}},
		{"Deduplicated", []herald.Recipient{user("bob"), user("bob"), {Type: herald.EntityGroup, Code: "oncall"}, {Type: herald.EntityFieldEntity, Code: "creator"}, user("ann")}, false, []string{"cid", "bob", "ann"}},
		{"Commenters", []herald.Recipient{user("ann")}, true, []string{"cid", "ann"}},
		{"None", nil, false, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := resolve.Recipients(context.Background(), newDirectory(), tt.rs, ev, tt.commenters)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(codes(got), tt.want) {
				t.Errorf("recipients %q, want %q", codes(got), tt.want)
			}
			if !slices.IsSortedFunc(got, func(a, b *herald.User) int { return int(a.ID - b.ID) }) {
				t.Errorf("recipients not ordered by id")
			}
		})
	}
}

func TestRecipients_OneLookupPerKind(t *testing.T) {
	t.Parallel()
	d := newDirectory()
	ev := &herald.Event{Roles: map[string][]string{"creator": {"ann"}}}
	_, err := resolve.Recipients(context.Background(), d, []herald.Recipient{
		{Type: herald.EntityUser, Code: "bob"}, {Type: herald.EntityFieldEntity, Code: "creator"},
		{Type: herald.EntityGroup, Code: "oncall"}, {Type: herald.EntityGroup, Code: "ops"},
		{Type: herald.EntityOrganization, Code: "eng"}, {Type: herald.EntityOrganization, Code: "eng", IncludeSubs: true},
	}, ev, false)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"users:bob,ann", "groups:oncall,ops", "depts:eng", "depts:eng+subs"}
	if !slices.Equal(d.asked, want) {
		t.Errorf("look-ups %q, want %q", d.asked, want)
	}
}

func TestRecipients_Error(t *testing.T) {
	t.Parallel()
	d := newDirectory()
	d.err = errors.New("database down")
	if _, err := resolve.Recipients(context.Background(), d, []herald.Recipient{{Type: herald.EntityUser, Code: "ann"}}, &herald.Event{}, false); err == nil {
		t.Fatal("a failed look-up resolved")
	}
}
