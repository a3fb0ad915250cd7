package api

import (
	"fmt"
	"testing"

	"github.com/heraldhq/herald/store"
	"github.com/heraldhq/herald/store/storetest"
)

// TestBadText sends text no database stores alike (a NUL character,
// invalid UTF-8) in a body field and in a list filter: each is a 400
// naming the field on both databases, where PostgreSQL used to answer 500,
// and changes nothing.
func TestBadText(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ts := newTestServer(t, db)
		f := ts.newFixture(ts.admin)
		tests := []struct {
			name, method, path, body, field string
		}{
			{"NUL in a name", "POST", "/api/v1/projects", `{"name":"a\u0000b"}`, "name"},
			{"NUL in a patched name", "PATCH", fmt.Sprintf("/api/v1/users/%d", f.User), `{"name":"\u0000"}`, "name"},
			{"NUL in a header value", "PATCH", fmt.Sprintf("/api/v1/notifiers/%d", f.Notifier), `{"config":{"http_headers":{"X-Key":"a\u0000"}}}`, "config.http_headers.X-Key"},
			{"NUL in a filter", "GET", fmt.Sprintf("/api/v1/projects/%d/sources?external_id=a%%00b", f.Project), ``, "external_id"},
			{"invalid UTF-8 in a filter", "GET", fmt.Sprintf("/api/v1/projects/%d/sources?external_id=%%FF", f.Project), ``, "external_id"},
			{"NUL in a status filter", "GET", "/api/v1/pushes?status=%00", ``, "status"},
		}
		before := ts.dump(ts.admin, f)
		for _, tt := range tests {
			r := ts.do(tt.method, tt.path, ts.admin, tt.body)
			if r.Code != 400 {
				t.Errorf("%s: %s %s = %s, want 400", tt.name, tt.method, tt.path, r)
				continue
			}
			if p := r.problem(t); p.Code != "invalid" || p.Field != tt.field {
				t.Errorf("%s: problem code %q field %q (%s), want invalid %q", tt.name, p.Code, p.Field, p.Detail, tt.field)
			}
		}
		if after := ts.dump(ts.admin, f); after != before {
			t.Fatalf("bad text changed data:\nbefore %s\nafter %s", before, after)
		}
	})
}
