package api

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"sync"
)

// The API reference at /api/v1/docs is one HTML page rendered on the
// server from openapi.json with html/template: no script, no CDN, and a
// stylesheet inlined and allowed by its hash, so the page passes a CSP as
// strict as the console's.

//go:embed docs/docs.html docs/docs.css
var docsFiles embed.FS

// docsPage renders the reference once; the document is embedded, so the
// page never changes while the server runs.
var docsPage = sync.OnceValues(func() (*renderedDocs, error) {
	css, err := docsFiles.ReadFile("docs/docs.css")
	if err != nil {
		return nil, err
	}
	tpl, err := template.ParseFS(docsFiles, "docs/docs.html")
	if err != nil {
		return nil, err
	}
	v, err := newDocsView(openAPI)
	if err != nil {
		return nil, fmt.Errorf("openapi.json: %w", err)
	}
	v.CSS = template.CSS(css)
	var buf bytes.Buffer
	if err := tpl.Execute(&buf, v); err != nil {
		return nil, err
	}
	sum := sha256.Sum256(css)
	csp := "default-src 'none'; style-src 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'; img-src 'self' data:; " +
		"form-action 'none'; base-uri 'none'; frame-ancestors 'none'"
	return &renderedDocs{html: buf.Bytes(), csp: csp}, nil
})

type renderedDocs struct {
	html []byte
	csp  string
}

func (s *Server) handleDocs(w http.ResponseWriter, r *http.Request) error {
	page, err := docsPage()
	if err != nil {
		return err
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", page.csp)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Cache-Control", "public, max-age=300")
	_, _ = w.Write(page.html)
	return nil
}

// docsView is what docs.html shows.
type docsView struct {
	Title       string
	Version     string
	Base        string
	Description template.HTML
	Groups      []docsGroup
	Schemas     []docsSchema
	CSS         template.CSS
}

type docsGroup struct {
	Name string
	Ops  []docsOp
}

type docsOp struct {
	ID, Method, Path, Summary string
	Description               template.HTML
	Public                    bool
	Params                    []docsRow
	Body                      template.HTML
	BodyRows                  []docsRow
	Responses                 []docsResponse
}

type docsResponse struct {
	Status      string
	Description template.HTML
	Type        template.HTML
}

// docsRow is a parameter or a property.
type docsRow struct {
	Name, In    string
	Required    bool
	ReadOnly    bool
	Type        template.HTML
	Description template.HTML
	Rules       string
}

type docsSchema struct {
	Name        string
	Description template.HTML
	Type        template.HTML
	Rows        []docsRow
}

// ordered is a JSON object with its members in document order (Go maps
// lose it, and the reference reads in the document's order).
type ordered struct {
	keys []string
	vals map[string]json.RawMessage
}

func (o *ordered) UnmarshalJSON(b []byte) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return fmt.Errorf("not an object")
	}
	o.vals = map[string]json.RawMessage{}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return err
		}
		k, _ := t.(string)
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return err
		}
		o.keys = append(o.keys, k)
		o.vals[k] = v
	}
	return nil
}

// schema is the part of a JSON Schema the reference shows.
type schema struct {
	Ref                  string            `json:"$ref"`
	Type                 json.RawMessage   `json:"type"`
	Format               string            `json:"format"`
	Description          string            `json:"description"`
	Enum                 []json.RawMessage `json:"enum"`
	Const                json.RawMessage   `json:"const"`
	Items                *schema           `json:"items"`
	Properties           ordered           `json:"properties"`
	AdditionalProperties json.RawMessage   `json:"additionalProperties"`
	Required             []string          `json:"required"`
	ReadOnly             bool              `json:"readOnly"`
	OneOf                []*schema         `json:"oneOf"`
	AnyOf                []*schema         `json:"anyOf"`
	AllOf                []*schema         `json:"allOf"`
	Pattern              string            `json:"pattern"`
	MinLength            *int              `json:"minLength"`
	MaxLength            *int              `json:"maxLength"`
	Minimum              *float64          `json:"minimum"`
	Maximum              *float64          `json:"maximum"`
	MinItems             *int              `json:"minItems"`
	MaxItems             *int              `json:"maxItems"`
	Default              json.RawMessage   `json:"default"`
}

type docParameter struct {
	Ref         string  `json:"$ref"`
	Name        string  `json:"name"`
	In          string  `json:"in"`
	Required    bool    `json:"required"`
	Description string  `json:"description"`
	Schema      *schema `json:"schema"`
}

type docMedia struct {
	Schema *schema `json:"schema"`
}

type docResponse struct {
	Ref         string              `json:"$ref"`
	Description string              `json:"description"`
	Content     map[string]docMedia `json:"content"`
}

type docOperation struct {
	OperationID string            `json:"operationId"`
	Summary     string            `json:"summary"`
	Description string            `json:"description"`
	Parameters  []docParameter    `json:"parameters"`
	Security    []json.RawMessage `json:"security"`
	RequestBody *struct {
		Content map[string]docMedia `json:"content"`
	} `json:"requestBody"`
	Responses ordered `json:"responses"`
}

type docDocument struct {
	Info struct {
		Title, Version, Description string
	} `json:"info"`
	Servers []struct {
		URL string `json:"url"`
	} `json:"servers"`
	Paths      ordered `json:"paths"`
	Components struct {
		Schemas    ordered                 `json:"schemas"`
		Parameters map[string]docParameter `json:"parameters"`
		Responses  map[string]docResponse  `json:"responses"`
	} `json:"components"`
}

var docMethods = []string{"get", "post", "put", "patch", "delete"}

// newDocsView reads the document into the page's view.
func newDocsView(raw []byte) (*docsView, error) {
	var d docDocument
	if err := json.Unmarshal(raw, &d); err != nil {
		return nil, err
	}
	v := &docsView{Title: d.Info.Title, Version: d.Info.Version, Description: prose(d.Info.Description)}
	if len(d.Servers) > 0 {
		v.Base = d.Servers[0].URL
	}
	groups := map[string]int{}
	for _, path := range d.Paths.keys {
		var ops map[string]docOperation
		if err := json.Unmarshal(d.Paths.vals[path], &ops); err != nil {
			return nil, fmt.Errorf("paths.%s: %w", path, err)
		}
		group, _, _ := strings.Cut(strings.TrimPrefix(path, "/"), "/")
		for _, m := range docMethods {
			op, ok := ops[m]
			if !ok {
				continue
			}
			o := docsOp{ID: op.OperationID, Method: strings.ToUpper(m), Path: path, Summary: op.Summary,
				Description: prose(op.Description), Public: op.Security != nil && len(op.Security) == 0}
			for _, p := range op.Parameters {
				if p.Ref != "" {
					p = d.Components.Parameters[refName(p.Ref)]
				}
				o.Params = append(o.Params, docsRow{Name: p.Name, In: p.In, Required: p.Required,
					Type: typeHTML(p.Schema), Description: prose(p.Description), Rules: rules(p.Schema)})
			}
			if rb := op.RequestBody; rb != nil {
				if mt, ok := rb.Content["application/json"]; ok {
					o.Body = typeHTML(mt.Schema)
					if mt.Schema != nil && mt.Schema.Ref == "" {
						o.BodyRows = propertyRows(mt.Schema, "")
					}
				}
			}
			for _, status := range slices.Sorted(slices.Values(op.Responses.keys)) {
				r := op.response(status, d.Components.Responses)
				dr := docsResponse{Status: status, Description: prose(r.Description)}
				for _, ct := range sortedKeys(r.Content) {
					if dr.Type != "" {
						dr.Type += "; "
					}
					dr.Type += template.HTML("<code>"+template.HTMLEscapeString(ct)+"</code> ") + typeHTML(r.Content[ct].Schema)
				}
				o.Responses = append(o.Responses, dr)
			}
			i, ok := groups[group]
			if !ok {
				i = len(v.Groups)
				groups[group] = i
				v.Groups = append(v.Groups, docsGroup{Name: group})
			}
			v.Groups[i].Ops = append(v.Groups[i].Ops, o)
		}
	}
	for _, name := range d.Components.Schemas.keys {
		var s schema
		if err := json.Unmarshal(d.Components.Schemas.vals[name], &s); err != nil {
			return nil, fmt.Errorf("components.schemas.%s: %w", name, err)
		}
		v.Schemas = append(v.Schemas, docsSchema{Name: name, Description: prose(s.Description), Type: typeHTML(&s), Rows: propertyRows(&s, "")})
	}
	return v, nil
}

func (op docOperation) response(status string, shared map[string]docResponse) docResponse {
	var r docResponse
	_ = json.Unmarshal(op.Responses.vals[status], &r)
	if r.Ref != "" {
		return shared[refName(r.Ref)]
	}
	return r
}

func refName(ref string) string { return ref[strings.LastIndex(ref, "/")+1:] }

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// propertyRows lists an object's properties, and those of the objects
// written inline in it as parent.child.
func propertyRows(s *schema, prefix string) []docsRow {
	if s == nil {
		return nil
	}
	var rows []docsRow
	for _, part := range s.AllOf {
		rows = append(rows, propertyRows(part, prefix)...)
	}
	for _, name := range s.Properties.keys {
		var p schema
		if err := json.Unmarshal(s.Properties.vals[name], &p); err != nil {
			continue
		}
		rows = append(rows, docsRow{Name: prefix + name, Required: slices.Contains(s.Required, name), ReadOnly: p.ReadOnly,
			Type: typeHTML(&p), Description: prose(p.Description), Rules: rules(&p)})
		if p.Ref == "" && len(p.Properties.keys) > 0 {
			rows = append(rows, propertyRows(&p, prefix+name+".")...)
		}
		if it := p.Items; it != nil && it.Ref == "" && len(it.Properties.keys) > 0 {
			rows = append(rows, propertyRows(it, prefix+name+"[].")...)
		}
	}
	return rows
}

// typeHTML names a schema's type, linking the named schemas.
func typeHTML(s *schema) template.HTML {
	if s == nil {
		return ""
	}
	if s.Ref != "" {
		n := template.HTMLEscapeString(refName(s.Ref))
		return template.HTML(`<a href="#schema-` + n + `">` + n + `</a>`)
	}
	alts := func(list []*schema) template.HTML {
		parts := make([]string, len(list))
		for i, a := range list {
			parts[i] = string(typeHTML(a))
		}
		return template.HTML(strings.Join(parts, " | "))
	}
	switch {
	case len(s.OneOf) > 0:
		return "one of " + alts(s.OneOf)
	case len(s.AnyOf) > 0:
		return alts(s.AnyOf)
	case len(s.AllOf) > 0:
		return alts(s.AllOf)
	case len(s.Const) > 0:
		return template.HTML("<code>" + template.HTMLEscapeString(string(s.Const)) + "</code>")
	}
	var types []string
	if err := json.Unmarshal(s.Type, &types); err != nil {
		var one string
		if json.Unmarshal(s.Type, &one) == nil && one != "" {
			types = []string{one}
		}
	}
	var out string
	for i, t := range types {
		if i > 0 {
			out += " | "
		}
		switch {
		case t == "array" && s.Items != nil:
			out += "array of " + string(typeHTML(s.Items))
		case t == "object" && len(s.AdditionalProperties) > 0 && s.AdditionalProperties[0] == '{':
			var ap schema
			if json.Unmarshal(s.AdditionalProperties, &ap) == nil {
				out += "map of " + string(typeHTML(&ap))
			}
		default:
			out += template.HTMLEscapeString(t)
		}
	}
	if s.Format != "" {
		out += " (" + template.HTMLEscapeString(s.Format) + ")"
	}
	if len(s.Enum) > 0 {
		vals := make([]string, len(s.Enum))
		for i, e := range s.Enum {
			vals[i] = "<code>" + template.HTMLEscapeString(string(e)) + "</code>"
		}
		out += ": " + strings.Join(vals, " | ")
	}
	return template.HTML(out)
}

// rules sums up a schema's constraints in a few words.
func rules(s *schema) string {
	if s == nil {
		return ""
	}
	var r []string
	num := func(f float64) string { return fmt.Sprint(f) }
	switch {
	case s.MinLength != nil && s.MaxLength != nil:
		r = append(r, fmt.Sprintf("%d–%d characters", *s.MinLength, *s.MaxLength))
	case s.MaxLength != nil:
		r = append(r, fmt.Sprintf("at most %d characters", *s.MaxLength))
	case s.MinLength != nil:
		r = append(r, fmt.Sprintf("at least %d characters", *s.MinLength))
	}
	switch {
	case s.Minimum != nil && s.Maximum != nil:
		r = append(r, num(*s.Minimum)+"–"+num(*s.Maximum))
	case s.Minimum != nil:
		r = append(r, "≥ "+num(*s.Minimum))
	case s.Maximum != nil:
		r = append(r, "≤ "+num(*s.Maximum))
	}
	if s.MinItems != nil {
		r = append(r, fmt.Sprintf("at least %d items", *s.MinItems))
	}
	if s.MaxItems != nil {
		r = append(r, fmt.Sprintf("at most %d items", *s.MaxItems))
	}
	if s.Pattern != "" {
		r = append(r, "matches "+s.Pattern)
	}
	if len(s.Default) > 0 {
		r = append(r, "default "+string(s.Default))
	}
	return strings.Join(r, "; ")
}

var backticks = regexp.MustCompile("`([^`]+)`")

// prose escapes a description and shows its `code` spans as code.
func prose(s string) template.HTML {
	return template.HTML(backticks.ReplaceAllString(template.HTMLEscapeString(s), "<code>$1</code>"))
}
