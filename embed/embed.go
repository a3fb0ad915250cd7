// Package embed serves <herald-inbox>, the in-app inbox a host
// application embeds in its own pages: one script, inbox.js, embedded in
// the binary. The script talks to the /api/v1/me routes with an end-user
// token (docs/EMBED.md); which pages may do so is the projects' allowed
// origins, decided by the API's CORS layer.
package embed

import (
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"net/http"
	"time"
)

//go:embed inbox.js
var script []byte

// Version names the script's content: the first 12 hex digits of its
// SHA-256. A page that loads /embed/inbox.js?v=<Version> may keep it for
// a year; without it, a day, revalidated by ETag.
var Version = func() string {
	sum := sha256.Sum256(script)
	return hex.EncodeToString(sum[:])[:12]
}()

// Script returns the script's bytes.
func Script() []byte { return script }

// builtAt is the Last-Modified of the script: the process's start, since
// an embedded file has no time of its own (the ETag is what decides).
var builtAt = time.Now().UTC().Truncate(time.Second)

// Handler serves the script at GET /embed/inbox.js.
func Handler() http.Handler {
	etag := `"` + Version + `"`
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Type", "text/javascript; charset=utf-8")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("ETag", etag)
		// Fetched by pages of other origins with <script src>: it must
		// not be blocked by a same-origin resource policy.
		h.Set("Cross-Origin-Resource-Policy", "cross-origin")
		if r.URL.Query().Get("v") == Version {
			h.Set("Cache-Control", "public, max-age=31536000, immutable")
		} else {
			h.Set("Cache-Control", "public, max-age=86400")
		}
		// ServeContent answers If-None-Match (304) and HEAD.
		http.ServeContent(w, r, "inbox.js", builtAt, bytes.NewReader(script))
	})
}
