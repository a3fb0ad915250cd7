package api

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"

	"github.com/heraldhq/herald"
)

// The contract: every answer the API tests see is checked against
// openapi.json (kin-openapi's response validation), so the document cannot
// drift from what the handlers write. The test servers' handlers are
// wrapped in contractHandler; an answer the document does not describe
// fails the test that caused it.

// contractRouter finds the operation of a request in openapi.json.
var contractRouter = sync.OnceValues(func() (routers.Router, error) {
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(openAPI)
	if err != nil {
		return nil, err
	}
	if err := doc.Validate(context.Background()); err != nil {
		return nil, err
	}
	// An inbox stream and the reference page are text: their schema is a
	// string.
	text := func(r io.Reader, _ http.Header, _ *openapi3.SchemaRef, _ openapi3filter.EncodingFn) (any, error) {
		b, err := io.ReadAll(r)
		return string(b), err
	}
	openapi3filter.RegisterBodyDecoder("text/event-stream", text)
	openapi3filter.RegisterBodyDecoder("text/html", text)
	return legacy.NewRouter(doc)
})

// checkContract validates one answer against the document: its status must
// be listed for the operation, and its headers and body must match.
// Requests outside the native API (health, metrics, vendor surfaces) and
// paths the document does not have (a 404 for an unknown endpoint) are not
// its business, but a problem answered under /api/v1 must still be a
// problem document.
func checkContract(req *http.Request, status int, header http.Header, body []byte) error {
	rt, err := contractRouter()
	if err != nil {
		return err
	}
	route, params, err := rt.FindRoute(req)
	if err != nil {
		return nil // not a documented operation: see TestContract_UnknownPathsAnswerProblems
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route},
		Status:                 status,
		Header:                 header,
		Options:                &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
	}
	in.SetBodyBytes(body)
	return openapi3filter.ValidateResponse(req.Context(), in)
}

// contractHandler wraps h so that every answer it writes is checked
// against the document; a mismatch is reported on t.
func contractHandler(t testing.TB, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cw := &contractWriter{ResponseWriter: w}
		// The validator reads the request after the handler consumed it:
		// give it a copy with an empty body.
		probe := r.Clone(context.WithoutCancel(r.Context()))
		probe.Body = http.NoBody
		h.ServeHTTP(cw, r)
		status := cw.status
		if status == 0 {
			status = http.StatusOK
		}
		if err := checkContract(probe, status, w.Header(), cw.body.Bytes()); err != nil {
			t.Errorf("%s %s answered %d, which openapi.json does not describe: %v\nbody: %.2000s", r.Method, r.URL, status, err, cw.body.Bytes())
		}
	})
}

// contractWriter passes the answer through and keeps a copy of it.
type contractWriter struct {
	http.ResponseWriter
	status int
	body   bytes.Buffer
}

func (w *contractWriter) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *contractWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	w.body.Write(b)
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection's writer.
func (w *contractWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Flush passes flushes through, for the inbox stream.
func (w *contractWriter) Flush() {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	_ = http.NewResponseController(w.ResponseWriter).Flush()
}

// TestContract_CatchesDrift checks the checker: an answer that breaks the
// document is refused, so a test run that passes means something.
func TestContract_CatchesDrift(t *testing.T) {
	t.Parallel()
	get := httptest.NewRequest("GET", "/api/v1/projects/1", nil)
	for name, c := range map[string]struct {
		status int
		ct     string
		body   string
	}{
		"unknown member":      {200, "application/json", `{"id":1,"name":"p","colour":"red"}`},
		"wrong type":          {200, "application/json", `{"id":"1","name":"p"}`},
		"undocumented status": {418, "application/problem+json", `{"type":"about:blank","title":"I'm a teapot","status":418,"detail":"x","code":"invalid"}`},
		"problem as json":     {404, "application/json", `{"type":"about:blank","title":"Not Found","status":404,"detail":"x","code":"not_found"}`},
		"unknown code":        {404, "application/problem+json", `{"type":"about:blank","title":"Not Found","status":404,"detail":"x","code":"missing"}`},
	} {
		h := http.Header{"Content-Type": {c.ct}}
		if err := checkContract(get, c.status, h, []byte(c.body)); err == nil {
			t.Errorf("%s: %d %s passed the contract", name, c.status, c.body)
		}
	}
	ok := http.Header{"Content-Type": {"application/json"}}
	if err := checkContract(get, 200, ok, []byte(`{"id":1,"name":"p","created_at":"2024-01-02T03:04:05Z","updated_at":"2024-01-02T03:04:05Z"}`)); err != nil {
		t.Errorf("a valid project failed the contract: %v", err)
	}
}

// TestContract_UnknownPathsAnswerProblems: paths the document does not
// list still answer problem documents under /api/v1.
func TestContract_UnknownPathsAnswerProblems(t *testing.T) {
	t.Parallel()
	u := newUnitServer(t, nil)
	for _, c := range []struct{ method, path string }{{"GET", "/api/v1/nope"}, {"DELETE", "/api/v1/openapi.json"}} {
		w := u.serve(c.method, c.path)
		if w.Code != 404 && w.Code != 405 || !strings.HasPrefix(w.Header().Get("Content-Type"), "application/problem+json") {
			t.Errorf("%s %s = %d %s", c.method, c.path, w.Code, w.Header().Get("Content-Type"))
		}
	}
}

// TestContract_PermissionsAreHeraldsOwn: the permissions a token schema
// lists are exactly the ones Herald knows.
func TestContract_PermissionsAreHeraldsOwn(t *testing.T) {
	t.Parallel()
	doc, err := openapi3.NewLoader().LoadFromData(openAPI)
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for p := range herald.PermissionCodes {
		want = append(want, string(p))
	}
	slices.Sort(want)
	for _, name := range []string{"Token", "TokenCreate"} {
		var got []string
		for _, v := range doc.Components.Schemas[name].Value.Properties["permissions"].Value.Items.Value.Enum {
			got = append(got, v.(string))
		}
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Errorf("%s.permissions lists %v, Herald knows %v", name, got, want)
		}
	}
}
