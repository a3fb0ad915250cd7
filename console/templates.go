package console

import (
	"html/template"
	"io/fs"
	"strings"

	"github.com/heraldhq/herald"
)

// deliveryRows is what the shared deliveries table receives.
type deliveryRows struct {
	CSRF       string
	Back       string
	CanRetry   bool
	Deliveries []*herald.DeliveryEntry
	View       *view
}

// funcs are the helpers the page templates use.
var funcs = template.FuncMap{
	"ts":   fmtTime,
	"tsIn": fmtTimeIn,
	"join": func(ss []string) string { return strings.Join(ss, ", ") },
	"list": func(s ...string) []string { return s },
	// typeLabel names a notifier type as the notifier form does.
	"typeLabel": func(typ string) string {
		if l, ok := typeLabels[typ]; ok {
			return l
		}
		return typ
	},
	"rows": func(csrf, back string, canRetry bool, ds []*herald.DeliveryEntry, v *view) deliveryRows {
		return deliveryRows{CSRF: csrf, Back: back, CanRetry: canRetry, Deliveries: ds, View: v}
	},
}

// parsePages parses each page template with the layout and the shared
// partials (files named _*.html).
func parsePages() (map[string]*template.Template, error) {
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return nil, err
	}
	shared := []string{"templates/layout.html"}
	for _, n := range names {
		if strings.HasPrefix(n, "templates/_") {
			shared = append(shared, n)
		}
	}
	pages := map[string]*template.Template{}
	for _, n := range names {
		name := strings.TrimSuffix(strings.TrimPrefix(n, "templates/"), ".html")
		if name == "layout" || strings.HasPrefix(name, "_") {
			continue
		}
		t, err := template.New(name).Funcs(funcs).ParseFS(templateFS, append(shared, n)...)
		if err != nil {
			return nil, err
		}
		pages[name] = t
	}
	return pages, nil
}
