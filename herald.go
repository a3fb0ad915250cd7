// Package herald holds Herald's domain: tenants, projects, sources, the
// directory of people, notifiers, notification settings and tokens, with the
// service interfaces the adapters (store, http, compat/*) implement or call.
// It imports no adapter.
package herald

import (
	"encoding/base64"
	"strconv"
	"time"
)

// Version is the build's version, set with -ldflags at release time.
var Version = "dev"

// Page asks for one page of a list: at most Limit items after Cursor.
type Page struct {
	Limit  int
	Cursor string
}

// Page size bounds for every list.
const (
	DefaultPageLimit = 50
	MaxPageLimit     = 500
)

// Normalize applies the default and maximum limit.
func (p Page) Normalize() Page {
	if p.Limit <= 0 {
		p.Limit = DefaultPageLimit
	}
	if p.Limit > MaxPageLimit {
		p.Limit = MaxPageLimit
	}
	return p
}

// After decodes the cursor into the id the page starts after (0: first page).
func (p Page) After() (int64, error) {
	if p.Cursor == "" {
		return 0, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(p.Cursor)
	if err != nil {
		return 0, Errorf(EINVALID, "cursor", "cursor is not valid")
	}
	id, err := strconv.ParseInt(string(b), 10, 64)
	if err != nil || id < 0 {
		return 0, Errorf(EINVALID, "cursor", "cursor is not valid")
	}
	return id, nil
}

// CursorAfter is the opaque cursor of the page that starts after id.
func CursorAfter(id int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(id, 10)))
}

// Timestamp formats t the way every native answer does.
func Timestamp(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }
