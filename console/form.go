package console

import (
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/heraldhq/herald"
)

// form is a posted form shown again because validation refused it: what
// the person typed, and each error beside the field it is about. A page
// rendered with a form that has errors is answered 422 (see render).
//
// A page's template reads it through the view: {{$.Typed "name"}} is the
// typed value, {{template "field-error" ($.FieldError "name")}} the
// message beside the field (empty: nothing), {{$.FormIs "new-source"}}
// whether this form is the one shown again (to open its <details>).
type form struct {
	id     string
	values url.Values
	errors map[string]string // form field -> message, label included
}

// memberFields names the form field of an API member where the two
// differ beyond the "config." prefix (see fieldOf).
var memberFields = map[string]string{
	"config.http_headers": "headers",
	"config.rate_limit":   "rate",
	"config.password":     "secret",
}

// fieldOf is the form field an API member is typed into: the member
// itself, or the part after "config.", up to an index or a sub-member.
func fieldOf(member string) string {
	if f, ok := memberFields[member]; ok {
		return f
	}
	for m, f := range memberFields {
		if strings.HasPrefix(member, m+".") || strings.HasPrefix(member, m+"[") {
			return f
		}
	}
	f := strings.TrimPrefix(member, "config.")
	if i := strings.IndexAny(f, ".["); i > 0 {
		f = f[:i]
	}
	return f
}

// newForm reads err's messages into the form whose id is id and whose
// fields are fields: each message goes beside its field, worded for lang
// with the field's label (errorText); the messages about no field of the
// form are returned, to be shown above it.
func newForm(lang, id string, values url.Values, err error, fields []string) (*form, []string) {
	f := &form{id: id, values: values, errors: map[string]string{}}
	var other []string
	errs := herald.ErrorFields(err)
	if len(errs) == 0 {
		errs = []*herald.Error{{Code: herald.ErrorCode(err), Message: herald.ErrorMessage(err)}}
	}
	for _, e := range errs {
		msg := errorText(lang, e)
		name := fieldOf(e.Field)
		switch {
		case e.Field != "" && slices.Contains(fields, name) && f.errors[name] == "":
			f.errors[name] = msg
		case e.Field != "" && slices.Contains(fields, name):
			f.errors[name] += " " + msg
		default:
			other = append(other, msg)
		}
	}
	return f, other
}

// showForm sets the view up to show the form again: the typed values
// and the messages beside their fields, and above the form a line that
// points at them, with any message about no field.
func (v *view) showForm(f *form, other []string) {
	v.Form = f
	msgs := other
	if len(f.errors) > 0 {
		msgs = append([]string{translate(v.Lang, "Please correct the fields marked below.")}, other...)
	}
	v.Error = strings.Join(msgs, " ")
}

// invalid shows a refused form again on the page it was posted from, when
// err is a validation error; any other error it returns as it is, for the
// error page. id names the form (FormIs), fields are its field names,
// path is the page's address and show the page's GET handler, which
// renders as ever and finds the typed values and the errors in the view.
//
//	if err := c.Widgets.CreateWidget(ctx, w); err != nil {
//		return c.invalid(w, r, v, err, "new-widget", []string{"name", "size"}, "/console/widgets", c.handleWidgets)
//	}
func (c *Console) invalid(w http.ResponseWriter, r *http.Request, v *view, err error, id string, fields []string, path string, show handler) error {
	if herald.ErrorCode(err) != herald.EINVALID {
		return err
	}
	f, other := newForm(v.Lang, id, r.PostForm, err, fields)
	v.showForm(f, other)
	// The page renders as its GET: its links (pages, language) lead
	// to it, not to the action the form posted to.
	g := r.WithContext(r.Context())
	g.Method, g.URL = http.MethodGet, &url.URL{Path: path}
	v.Path = path
	return show(w, g, v)
}

// Typed is the value typed into a form field shown again ("" when the
// page shows no refused form).
func (v *view) Typed(name string) string {
	if v.Form == nil {
		return ""
	}
	return v.Form.values.Get(name)
}

// FieldError is the message beside a field of a refused form ("" for
// none).
func (v *view) FieldError(name string) string {
	if v.Form == nil {
		return ""
	}
	return v.Form.errors[name]
}

// FormIs reports whether the page shows the refused form id again.
func (v *view) FormIs(id string) bool { return v.Form != nil && v.Form.id == id }

// invalidStatus is the status of a page: 422 when it shows a refused
// form again, else status.
func (v *view) invalidStatus(status int) int {
	if v.Form != nil && status == http.StatusOK {
		return http.StatusUnprocessableEntity
	}
	return status
}
