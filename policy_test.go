package herald_test

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/heraldhq/herald"
)

func principal(project int64, perms ...herald.Permission) context.Context {
	return herald.NewContextWithPrincipal(context.Background(), &herald.Principal{TenantID: 1, ProjectID: project, Permissions: perms})
}

func TestAuthorize(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		ctx  context.Context
		res  herald.Resource
		act  herald.Action
		want string
	}{
		{"no principal", context.Background(), herald.ResSource, herald.ActRead, herald.EUNAUTHORIZED},
		{"no tenant", herald.NewContextWithPrincipal(context.Background(), &herald.Principal{Permissions: []herald.Permission{herald.PermAdmin}}), herald.ResSource, herald.ActRead, herald.EUNAUTHORIZED},
		{"lacks the permission", principal(0, herald.PermOTPSend), herald.ResNotifier, herald.ActRead, herald.EFORBIDDEN},
		{"holds it", principal(0, herald.PermNotifiersRead), herald.ResNotifier, herald.ActRead, ""},
		{"implied by settings:read", principal(0, herald.PermSettingsRead), herald.ResNotifier, herald.ActRead, ""},
		{"implied by notifiers:write", principal(0, herald.PermNotifiersWrite), herald.ResNotifier, herald.ActRead, ""},
		{"settings:write does not write notifiers", principal(0, herald.PermSettingsWrite), herald.ResNotifier, herald.ActUpdate, herald.EFORBIDDEN},
		{"admin holds every permission", principal(0, herald.PermAdmin), herald.ResPush, herald.ActApprove, ""},
		{"tenant-wide refuses a scoped token", principal(7, herald.PermAdmin), herald.ResToken, herald.ActCreate, herald.EFORBIDDEN},
		{"scoped token may read the directory", principal(7, herald.PermDirectoryRead), herald.ResDirectory, herald.ActRead, ""},
		{"scoped token may not write it", principal(7, herald.PermDirectoryWrite), herald.ResDirectory, herald.ActCreate, herald.EFORBIDDEN},
		{"any token reads a project", principal(7, herald.PermOTPSend), herald.ResProject, herald.ActRead, ""},
		{"inbox needs inbox:read", principal(0, herald.PermSettingsWrite), herald.ResInbox, herald.ActRead, herald.EFORBIDDEN},
		{"a row missing from the table is refused", principal(0, herald.PermAdmin), herald.ResEvent, herald.ActDelete, herald.EFORBIDDEN},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := herald.Authorize(tc.ctx, tc.res, tc.act)
			if got := herald.ErrorCode(err); err == nil && tc.want != "" || err != nil && got != tc.want {
				t.Fatalf("Authorize = %v, want code %q", err, tc.want)
			}
		})
	}
}

func TestAuthorizeProject_ForeignIsNotFound(t *testing.T) {
	t.Parallel()
	nf := herald.NotFound("source", 3)
	ctx := principal(7, herald.PermSettingsRead)
	if err := herald.AuthorizeProject(ctx, herald.ResSource, herald.ActRead, 7, nf); err != nil {
		t.Fatalf("own project: %v", err)
	}
	if err := herald.AuthorizeProject(ctx, herald.ResSource, herald.ActRead, 8, nf); err != nf {
		t.Fatalf("another project: %v, want the not-found error itself", err)
	}
	// The permission is checked before the scope: no 404 oracle for a
	// token that may not read at all.
	if err := herald.AuthorizeProject(principal(7, herald.PermOTPSend), herald.ResSource, herald.ActRead, 8, nf); herald.ErrorCode(err) != herald.EFORBIDDEN {
		t.Fatalf("without the permission: %v", err)
	}
}

// TestSecurityDoc_ListsThePolicy keeps docs/SECURITY.md's policy table the
// table the code enforces: every row of herald.Policy, nothing else.
func TestSecurityDoc_ListsThePolicy(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile("docs/SECURITY.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(raw)
	begin, end := strings.Index(doc, "<!-- policy -->"), strings.Index(doc, "<!-- /policy -->")
	if begin < 0 || end < begin {
		t.Fatal("docs/SECURITY.md has no <!-- policy --> … <!-- /policy --> table")
	}
	rows := map[string]bool{}
	for _, line := range strings.Split(doc[begin:end], "\n") {
		cells := strings.Split(strings.Trim(line, "| "), "|")
		if len(cells) < 3 || !strings.HasPrefix(strings.TrimSpace(cells[0]), "`") {
			continue
		}
		key := strings.Trim(strings.TrimSpace(cells[0]), "`") + " " + strings.Trim(strings.TrimSpace(cells[1]), "`") + " = " + strings.TrimSpace(cells[2])
		rows[key] = true
	}
	want := 0
	for res, acts := range herald.Policy {
		for act, rule := range acts {
			want++
			key := string(res) + " " + string(act) + " = " + rule.String()
			if !rows[key] {
				t.Errorf("docs/SECURITY.md lacks the row | `%s` | `%s` | %s |", res, act, rule)
			}
		}
	}
	if len(rows) != want {
		t.Errorf("docs/SECURITY.md lists %d rows, herald.Policy has %d", len(rows), want)
	}
}
