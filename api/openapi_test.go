package api

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
)

// openAPIDoc is the part of the OpenAPI document the tests read.
type openAPIDoc struct {
	OpenAPI string `json:"openapi"`
	Servers []struct {
		URL string `json:"url"`
	} `json:"servers"`
	Paths map[string]map[string]struct {
		OperationID string            `json:"operationId"`
		Security    []json.RawMessage `json:"security"`
		Responses   map[string]any    `json:"responses"`
	} `json:"paths"`
}

func loadOpenAPI(t *testing.T) openAPIDoc {
	t.Helper()
	var doc openAPIDoc
	if err := json.Unmarshal(openAPI, &doc); err != nil {
		t.Fatalf("openapi.json: %v", err)
	}
	return doc
}

// recordedRoutes runs routes() against a recorder.
func recordedRoutes() []route {
	rt := &router{}
	(&Server{}).routes(rt, http.NotFoundHandler())
	return rt.routes
}

func TestOpenAPI_MatchesRoutes(t *testing.T) {
	t.Parallel()
	doc := loadOpenAPI(t)
	if doc.OpenAPI != "3.1.0" || len(doc.Servers) != 1 {
		t.Fatalf("openapi = %q, servers = %v; want 3.1.0 and one server", doc.OpenAPI, doc.Servers)
	}
	base := doc.Servers[0].URL

	inRoutes := map[string]bool{}
	for _, r := range recordedRoutes() {
		method, path, _ := strings.Cut(r.Pattern, " ")
		if rest, ok := strings.CutPrefix(path, base+"/"); ok {
			inRoutes[method+" /"+rest] = true
		}
	}
	inDoc := map[string]bool{}
	ids := map[string]string{}
	for path, ops := range doc.Paths {
		for method, op := range ops {
			key := strings.ToUpper(method) + " " + path
			inDoc[key] = true
			if op.OperationID == "" {
				t.Errorf("%s has no operationId", key)
			} else if other, dup := ids[op.OperationID]; dup {
				t.Errorf("operationId %s is used by %s and %s", op.OperationID, other, key)
			}
			ids[op.OperationID] = key
			if len(op.Responses) == 0 {
				t.Errorf("%s lists no responses", key)
			}
		}
	}
	for k := range inRoutes {
		if !inDoc[k] {
			t.Errorf("route %s is not in openapi.json", k)
		}
	}
	for k := range inDoc {
		if !inRoutes[k] {
			t.Errorf("openapi.json lists %s, which routes() does not register", k)
		}
	}
	if len(inRoutes) < 50 {
		t.Errorf("only %d native routes recorded; the recorder is broken", len(inRoutes))
	}
}

// TestOpenAPI_PublicMatchesRoutes checks that the operations the document
// says need no token are the public routes.
func TestOpenAPI_PublicMatchesRoutes(t *testing.T) {
	t.Parallel()
	doc := loadOpenAPI(t)
	for _, r := range recordedRoutes() {
		method, path, _ := strings.Cut(r.Pattern, " ")
		rest, ok := strings.CutPrefix(path, doc.Servers[0].URL)
		if !ok {
			continue
		}
		op := doc.Paths[rest][strings.ToLower(method)]
		public := op.Security != nil && len(op.Security) == 0
		if public != r.Public {
			t.Errorf("%s: public in routes() = %v, in openapi.json = %v", r.Pattern, r.Public, public)
		}
	}
}

// TestOpenAPI_RefsResolve walks the document and checks every $ref points
// at a component that exists.
func TestOpenAPI_RefsResolve(t *testing.T) {
	t.Parallel()
	var doc map[string]any
	if err := json.Unmarshal(openAPI, &doc); err != nil {
		t.Fatal(err)
	}
	var walk func(v any)
	n := 0
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, e := range v {
				if k == "$ref" {
					n++
					ref, _ := e.(string)
					var cur any = doc
					for _, part := range strings.Split(strings.TrimPrefix(ref, "#/"), "/") {
						m, ok := cur.(map[string]any)
						if !ok {
							cur = nil
							break
						}
						cur = m[part]
					}
					if cur == nil {
						t.Errorf("$ref %q does not resolve", ref)
					}
				}
				walk(e)
			}
		case []any:
			for _, e := range v {
				walk(e)
			}
		}
	}
	walk(doc)
	if n == 0 {
		t.Fatal("no $ref found")
	}
	schemas := doc["components"].(map[string]any)["schemas"].(map[string]any)
	for _, name := range []string{"Project", "Source", "User", "Group", "Department", "Chat", "Notifier", "Settings", "Token", "Problem", "ProjectPage"} {
		if schemas[name] == nil {
			t.Errorf("components.schemas.%s is missing", name)
		}
	}
}

func TestOpenAPI_Served(t *testing.T) {
	t.Parallel()
	h := (&Server{}).Handler()
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/api/v1/openapi.json", nil))
	if w.Code != http.StatusOK || !strings.HasPrefix(w.Header().Get("Content-Type"), "application/json") {
		t.Fatalf("GET openapi.json = %d %s", w.Code, w.Header().Get("Content-Type"))
	}
	if !slices.Equal(w.Body.Bytes(), openAPI) {
		t.Fatal("served document differs from the embedded one")
	}
}
