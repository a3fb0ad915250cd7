package embed_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/embed"
)

// The script is served as JavaScript, cached long when its version is
// named, revalidated by ETag otherwise.
func TestHandler(t *testing.T) {
	t.Parallel()
	h := embed.Handler()
	get := func(url string, header ...string) *httptest.ResponseRecorder {
		r := httptest.NewRequest("GET", url, nil)
		for i := 0; i+1 < len(header); i += 2 {
			r.Header.Set(header[i], header[i+1])
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w
	}
	w := get("/embed/inbox.js")
	if w.Code != 200 || w.Header().Get("Content-Type") != "text/javascript; charset=utf-8" || !strings.Contains(w.Body.String(), `customElements.define("herald-inbox"`) {
		t.Fatalf("GET: %d %q", w.Code, w.Header().Get("Content-Type"))
	}
	etag := w.Header().Get("ETag")
	if etag != `"`+embed.Version+`"` || w.Header().Get("Cache-Control") != "public, max-age=86400" || w.Header().Get("X-Content-Type-Options") != "nosniff" {
		t.Fatalf("headers: %v", w.Header())
	}
	if w := get("/embed/inbox.js", "If-None-Match", etag); w.Code != http.StatusNotModified {
		t.Fatalf("revalidation: %d", w.Code)
	}
	if w := get("/embed/inbox.js?v=" + embed.Version); !strings.Contains(w.Header().Get("Cache-Control"), "immutable") {
		t.Fatalf("versioned: %q", w.Header().Get("Cache-Control"))
	}
}

// The script writes what a message says as text: it never hands a string
// to the HTML parser, and reaches no other server.
func TestScript_NoHTMLSinksNoExternalRequests(t *testing.T) {
	t.Parallel()
	// Comments may name URLs; the SVG namespace is a name, not a request.
	var lines []string
	for _, l := range strings.Split(string(embed.Script()), "\n") {
		if !strings.HasPrefix(strings.TrimSpace(l), "//") {
			lines = append(lines, l)
		}
	}
	src := strings.ReplaceAll(strings.Join(lines, "\n"), `"http://www.w3.org/2000/svg"`, "")
	for _, sink := range []string{"innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function", "http://", "https://", "@import", "url("} {
		if strings.Contains(src, sink) {
			t.Errorf("inbox.js contains %q", sink)
		}
	}
}

// The token docs/EMBED.md's Node.js snippet mints for these claims
// (computed with it) is the one Herald verifies.
func TestDocs_EndUserTokenSnippet(t *testing.T) {
	t.Parallel()
	const fromNode = "hlu_djE6Nzphbm46MTgwMDAwMDAwMA.BSNvWpkG-dfsGo_2wGZQ3HZ_Cjgf5BBEO3Gk7ygc2zw"
	got := herald.SignEndUserToken("hsk_abc", herald.EndUserClaims{ProjectID: 7, UserCode: "ann", ExpiresAt: time.Unix(1800000000, 0)})
	if got != fromNode {
		t.Fatalf("SignEndUserToken = %s, the snippet gives %s", got, fromNode)
	}
}
