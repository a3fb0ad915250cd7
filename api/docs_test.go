package api

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"regexp"
	"strings"
	"testing"
)

func TestDocs_ServesTheReference(t *testing.T) {
	t.Parallel()
	u := newUnitServer(t, nil)
	w := u.get("/api/v1/docs")
	if w.Code != 200 || w.Header().Get("Content-Type") != "text/html; charset=utf-8" {
		t.Fatalf("GET /api/v1/docs = %d %s", w.Code, w.Header().Get("Content-Type"))
	}
	page := w.Body.String()

	// Every operation and every schema of the document has its anchor.
	doc := loadOpenAPI(t)
	n := 0
	for path, ops := range doc.Paths {
		for method, op := range ops {
			n++
			if !strings.Contains(page, `id="op-`+op.OperationID+`"`) {
				t.Errorf("%s %s (%s) is not on the page", method, path, op.OperationID)
			}
		}
	}
	var full struct {
		Components struct {
			Schemas map[string]json.RawMessage `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(openAPI, &full); err != nil {
		t.Fatal(err)
	}
	for name := range full.Components.Schemas {
		if !strings.Contains(page, `id="schema-`+name+`"`) {
			t.Errorf("schema %s is not on the page", name)
		}
	}
	if n < 50 {
		t.Fatalf("only %d operations in the document", n)
	}
	// Members, links between schemas, descriptions with code spans.
	for _, want := range []string{
		`<a href="#schema-ChannelSettings">ChannelSettings</a>`,
		`<code>Idempotency-Key</code>`,
		`<code>events:write</code>`,
		`<code>external_id</code>`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %s", want)
		}
	}
}

// TestDocs_NothingFromElsewhere: no script, no CDN, a CSP as strict as the
// console's, and the one inline stylesheet allowed by its hash.
func TestDocs_NothingFromElsewhere(t *testing.T) {
	t.Parallel()
	w := newUnitServer(t, nil).get("/api/v1/docs")
	page := w.Body.String()
	for _, bad := range []string{"<script", "src=", "@import", "//cdn", `href="http`, "url("} {
		if strings.Contains(page, bad) {
			t.Errorf("page contains %q", bad)
		}
	}
	csp := w.Header().Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'none'", "frame-ancestors 'none'", "form-action 'none'", "base-uri 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %q", csp, want)
		}
	}
	if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "script-src") {
		t.Errorf("CSP %q allows scripts or inline code", csp)
	}
	styles := regexp.MustCompile(`(?s)<style>(.*?)</style>`).FindAllStringSubmatch(page, -1)
	if len(styles) != 1 {
		t.Fatalf("%d style elements, want 1", len(styles))
	}
	sum := sha256.Sum256([]byte(styles[0][1]))
	if h := "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"; !strings.Contains(csp, "style-src "+h) {
		t.Errorf("CSP %q does not allow the page's stylesheet %s", csp, h)
	}
	if w.Header().Get("X-Content-Type-Options") != "nosniff" {
		t.Error("no nosniff")
	}
}
