package console

import (
	"cmp"
	"context"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/heraldhq/herald"
)

// The delivery log's filter: a GET form whose values stay in the URL, so
// paging, the bulk retry and a shared link keep it.

// datetimeLocal is how a datetime-local input sends its value; the log
// reads and shows it as UTC.
const datetimeLocal = "2006-01-02T15:04"

// logFilter is the filter as the form holds it, and as the store takes it.
type logFilter struct {
	F herald.DeliveryFilter
	// Form values, normalised: what the inputs show and the links carry.
	Status, Channel, Notifier, Source, From, To string
	// Errors are the values that were not understood (and left out),
	// translated, one per field.
	Errors []string
}

// readLogFilter reads the filter from vals (a GET query or a POST form);
// a value it does not understand is left out and named in Errors.
func readLogFilter(lang string, vals url.Values) logFilter {
	var lf logFilter
	bad := func(label, why string) {
		lf.Errors = append(lf.Errors, translate(lang, label)+": "+translate(lang, why))
	}
	if s := strings.TrimSpace(vals.Get("status")); slices.Contains(herald.DeliveryStatuses, s) {
		lf.Status, lf.F.Status = s, s
	} else if s != "" {
		bad("Status", "not a known status")
	}
	if s := strings.TrimSpace(vals.Get("channel")); slices.Contains(herald.NotifierTypes, s) {
		lf.Channel, lf.F.Channel = s, s
	} else if s != "" {
		bad("Channel", "not a known channel")
	}
	for _, id := range []struct {
		name, label string
		dst         *int64
		out         *string
	}{{"notifier", "Notifier", &lf.F.NotifierID, &lf.Notifier}, {"source", "Source", &lf.F.SourceID, &lf.Source}} {
		s := strings.TrimSpace(vals.Get(id.name))
		if s == "" {
			continue
		}
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n <= 0 {
			bad(id.label, "not one of the list")
			continue
		}
		*id.dst, *id.out = n, strconv.FormatInt(n, 10)
	}
	for _, t := range []struct {
		name, label string
		dst         *time.Time
		out         *string
	}{{"from", "From (UTC)", &lf.F.From, &lf.From}, {"to", "To (UTC)", &lf.F.To, &lf.To}} {
		s := strings.TrimSpace(vals.Get(t.name))
		if s == "" {
			continue
		}
		v, err := time.Parse(datetimeLocal, s)
		if err != nil {
			// A browser without the picker sends what was typed; seconds
			// are fine too.
			v, err = time.Parse("2006-01-02T15:04:05", s)
		}
		if err != nil {
			bad(t.label, "not a date and time (2006-01-02T15:04)")
			continue
		}
		*t.dst, *t.out = v.UTC(), v.UTC().Format(datetimeLocal)
	}
	if !lf.F.From.IsZero() && !lf.F.To.IsZero() && !lf.F.From.Before(lf.F.To) {
		bad("To (UTC)", "must be after From")
		lf.F.To, lf.To = time.Time{}, ""
	}
	return lf
}

// Values returns the filter as form values (empty ones left out).
func (lf logFilter) Values() url.Values {
	v := url.Values{}
	for k, s := range map[string]string{"status": lf.Status, "channel": lf.Channel, "notifier": lf.Notifier, "source": lf.Source, "from": lf.From, "to": lf.To} {
		if s != "" {
			v.Set(k, s)
		}
	}
	return v
}

// Query is the filter as a URL query, for links.
func (lf logFilter) Query() string { return lf.Values().Encode() }

// Empty says whether the filter narrows nothing.
func (lf logFilter) Empty() bool { return len(lf.Values()) == 0 }

// pickerLimit bounds how many notifiers and sources the pickers list.
const pickerLimit = 2000

// option is one choice of a picker.
type option struct {
	ID    int64
	Label string
}

// optionGroup is a project's choices.
type optionGroup struct {
	Project string
	Options []option
}

// pickers are the filter form's choices by name, grouped by project, and
// the names by id for the events list.
type pickers struct {
	Notifiers []optionGroup
	Sources   []optionGroup
	// SourceNames and NotifierNames name the ids listed.
	SourceNames   map[int64]string
	NotifierNames map[int64]string
}

// findAll pages through a list up to pickerLimit items.
func findAll[T any](find func(herald.Page) ([]*T, string, error)) ([]*T, error) {
	var out []*T
	p := herald.Page{Limit: herald.MaxPageLimit}
	for len(out) < pickerLimit {
		items, next, err := find(p)
		if err != nil {
			return nil, err
		}
		out = append(out, items...)
		if next == "" {
			break
		}
		p.Cursor = next
	}
	return out, nil
}

// loadPickers reads the projects, notifiers and sources the principal
// sees (three lists, whatever their number of rows).
func (c *Console) loadPickers(ctx context.Context, lang string) (*pickers, error) {
	projects, err := findAll(func(p herald.Page) ([]*herald.Project, string, error) { return c.Projects.FindProjects(ctx, p) })
	if err != nil {
		return nil, err
	}
	notifiers, err := findAll(func(p herald.Page) ([]*herald.Notifier, string, error) {
		return c.Notifiers.FindNotifiers(ctx, herald.NotifierFilter{}, p)
	})
	if err != nil {
		return nil, err
	}
	sources, err := findAll(func(p herald.Page) ([]*herald.Source, string, error) {
		return c.Sources.FindSources(ctx, herald.SourceFilter{}, p)
	})
	if err != nil {
		return nil, err
	}
	names := map[int64]string{}
	for _, p := range projects {
		names[p.ID] = p.Name
	}
	pk := &pickers{SourceNames: map[int64]string{}, NotifierNames: map[int64]string{}}
	group := func(groups map[int64]*optionGroup, pid int64, o option) {
		g := groups[pid]
		if g == nil {
			g = &optionGroup{Project: cmp.Or(names[pid], "#"+strconv.FormatInt(pid, 10))}
			groups[pid] = g
		}
		g.Options = append(g.Options, o)
	}
	ng, sg := map[int64]*optionGroup{}, map[int64]*optionGroup{}
	for _, n := range notifiers {
		pk.NotifierNames[n.ID] = n.Name
		group(ng, n.ProjectID, option{ID: n.ID, Label: n.Name + " · " + translate(lang, n.Type)})
	}
	for _, s := range sources {
		pk.SourceNames[s.ID] = s.Name
		group(sg, s.ProjectID, option{ID: s.ID, Label: s.Name})
	}
	pk.Notifiers, pk.Sources = sortedGroups(ng), sortedGroups(sg)
	return pk, nil
}

// sortedGroups orders groups, and the options in each, by name.
func sortedGroups(m map[int64]*optionGroup) []optionGroup {
	out := make([]optionGroup, 0, len(m))
	for _, g := range m {
		slices.SortFunc(g.Options, func(a, b option) int { return cmp.Or(cmp.Compare(a.Label, b.Label), cmp.Compare(a.ID, b.ID)) })
		out = append(out, *g)
	}
	slices.SortFunc(out, func(a, b optionGroup) int { return cmp.Compare(a.Project, b.Project) })
	return out
}

// formValues is r's query, or its posted form for a POST.
func formValues(r *http.Request) url.Values {
	if r.Method == http.MethodPost {
		return r.PostForm
	}
	return r.URL.Query()
}
