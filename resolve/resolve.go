// Package resolve turns the recipients of a setting (users, groups,
// departments, roles taken from the event) into deduplicated users.
package resolve

import (
	"context"
	"slices"
	"strings"

	"github.com/heraldhq/herald"
)

// Directory is the look-ups the resolver needs; the store implements it.
type Directory interface {
	FindUsersByCodes(ctx context.Context, codes []string) ([]*herald.User, error)
	FindGroupMembersByCodes(ctx context.Context, codes []string) ([]*herald.User, error)
	FindDepartmentMembersByCodes(ctx context.Context, codes []string, includeSubs bool) ([]*herald.User, error)
}

// RoleCodes returns the user codes an event holds for a FIELD_ENTITY code.
// Role names match case-insensitively and singular or plural (CodeArts'
// "follower" finds the event's "followers"; Kintone's CREATOR finds
// "creator"); "updater" and "modifier" are one role.
func RoleCodes(ev *herald.Event, role string) []string {
	r := strings.ToLower(role)
	names := []string{r, r + "s", strings.TrimSuffix(r, "s")}
	switch r {
	case "modifier", "updater":
		names = append(names, "modifier", "updater")
	case "actor":
		if ev.Actor != "" {
			return []string{ev.Actor}
		}
	}
	var out []string
	seen := map[string]bool{}
	for _, n := range names {
		if seen[n] {
			continue
		}
		seen[n] = true
		out = append(out, ev.Roles[n]...)
	}
	return out
}

// Recipients resolves rs for ev. With commenters, everyone in the event's
// commenters role is added (Kintone's notifyToCommenter). The users come
// back deduplicated and ordered by id.
func Recipients(ctx context.Context, dir Directory, rs []herald.Recipient, ev *herald.Event, commenters bool) ([]*herald.User, error) {
	var users, groups, depts, deptsWithSubs []string
	for _, r := range rs {
		switch r.Type {
		case herald.EntityUser:
			users = append(users, r.Code)
		case herald.EntityGroup:
			groups = append(groups, r.Code)
		case herald.EntityOrganization:
			if r.IncludeSubs {
				deptsWithSubs = append(deptsWithSubs, r.Code)
			} else {
				depts = append(depts, r.Code)
			}
		case herald.EntityFieldEntity:
			users = append(users, RoleCodes(ev, r.Code)...)
		}
	}
	if commenters {
		users = append(users, RoleCodes(ev, "commenters")...)
	}
	var out []*herald.User
	add := func(found []*herald.User, err error) error {
		out = append(out, found...)
		return err
	}
	if len(users) > 0 {
		if err := add(dir.FindUsersByCodes(ctx, users)); err != nil {
			return nil, err
		}
	}
	if len(groups) > 0 {
		if err := add(dir.FindGroupMembersByCodes(ctx, groups)); err != nil {
			return nil, err
		}
	}
	if len(depts) > 0 {
		if err := add(dir.FindDepartmentMembersByCodes(ctx, depts, false)); err != nil {
			return nil, err
		}
	}
	if len(deptsWithSubs) > 0 {
		if err := add(dir.FindDepartmentMembersByCodes(ctx, deptsWithSubs, true)); err != nil {
			return nil, err
		}
	}
	slices.SortFunc(out, func(a, b *herald.User) int { return int(a.ID - b.ID) })
	return slices.CompactFunc(out, func(a, b *herald.User) bool { return a.ID == b.ID }), nil
}
