package console

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/heraldhq/herald"
)

// chartStatuses are the stacked series of the per-minute chart, bottom up.
var chartStatuses = []string{herald.StatusDelivered, herald.StatusPending, herald.StatusSending, herald.StatusSkipped, herald.StatusFailed, herald.StatusDead}

// chart is the inline SVG of deliveries per minute over the last hour.
type chart struct {
	Width, Height int
	Bars          []bar
	Max           int
	Total         map[string]int
	Statuses      []string
	From, To      string
}

type bar struct {
	X, Y, W, H int
	Status     string
	// Minute and N make the bar's tooltip (the status translated there).
	Minute string
	N      int
}

const (
	chartMinutes = 60
	chartWidth   = 600
	chartHeight  = 120
)

// buildChart lays out the counts as stacked bars, one per minute.
func buildChart(counts map[time.Time]map[string]int, now time.Time) *chart {
	ch := &chart{Width: chartWidth, Height: chartHeight, Total: map[string]int{}, Statuses: chartStatuses}
	end := now.UTC().Truncate(time.Minute)
	start := end.Add(-(chartMinutes - 1) * time.Minute)
	ch.From, ch.To = start.Format("15:04"), end.Format("15:04")
	for m := range chartMinutes {
		sum := 0
		for _, n := range counts[start.Add(time.Duration(m)*time.Minute)] {
			sum += n
		}
		ch.Max = max(ch.Max, sum)
	}
	if ch.Max == 0 {
		return ch
	}
	w := chartWidth / chartMinutes
	for m := range chartMinutes {
		t := start.Add(time.Duration(m) * time.Minute)
		y := chartHeight
		for _, st := range chartStatuses {
			n := counts[t][st]
			if n == 0 {
				continue
			}
			ch.Total[st] += n
			h := max(1, n*chartHeight/ch.Max)
			y -= h
			ch.Bars = append(ch.Bars, bar{X: m * w, Y: y, W: w - 1, H: h, Status: st, Minute: t.Format("15:04"), N: n})
		}
	}
	return ch
}

type logData struct {
	Chart      *chart
	Filter     logFilter
	Pickers    *pickers
	Deliveries []*herald.DeliveryEntry
	Next       string
	Events     []*herald.Event
	NextEvents string
	Statuses   []string
	Channels   []string
	Back       string
	CanRetry   bool
	// Bulk is the offer to retry every dead (or failed) delivery of the
	// filter; nil when there is none to retry or no right to.
	Bulk *bulkOffer
	// Retried is what the bulk retry just did, when the page follows one.
	Retried *herald.BulkRetry
}

// bulkOffer is the count of the deliveries a bulk retry of the filter
// would re-queue.
type bulkOffer struct {
	Status string // dead or failed
	Count  int
	Over   bool // more than one retry takes: Count is MaxBulkRetry
	// URL is the confirmation page's address, with the filter: whole,
	// since a template would escape a query spliced into an href as one
	// value.
	URL string
}

// retryable reports whether the retry button applies to a status.
func retryable(status string) bool {
	return status == herald.StatusDead || status == herald.StatusFailed
}

// bulkOffer counts what a bulk retry of lf would re-queue.
func (c *Console) bulkOffer(ctx context.Context, lf logFilter) (*bulkOffer, error) {
	st := lf.F.RetryStatus()
	if st == "" || !can(ctx, herald.ResDelivery, herald.ActRetry) {
		return nil, nil
	}
	f := lf.F
	f.Status = st
	n, err := c.Log.CountDeliveriesUpTo(ctx, f, herald.MaxBulkRetry+1)
	if err != nil {
		return nil, err
	}
	return &bulkOffer{Status: st, Count: min(n, herald.MaxBulkRetry), Over: n > herald.MaxBulkRetry, URL: retryURL(lf)}, nil
}

// retryURL is the bulk retry's confirmation page for lf.
func retryURL(lf logFilter) string {
	if lf.Empty() {
		return "/console/log/retry"
	}
	return "/console/log/retry?" + lf.Query()
}

// logURL is the log's address with the filter and extra values.
func logURL(lf logFilter, extra ...string) string {
	v := lf.Values()
	for i := 0; i+1 < len(extra); i += 2 {
		if extra[i+1] != "" {
			v.Set(extra[i], extra[i+1])
		}
	}
	if len(v) == 0 {
		return "/console/log"
	}
	return "/console/log?" + v.Encode()
}

func (c *Console) handleLog(w http.ResponseWriter, r *http.Request, v *view) error {
	ctx := r.Context()
	q := r.URL.Query()
	lf := readLogFilter(v.Lang, q)
	d := logData{Filter: lf, Statuses: herald.DeliveryStatuses, Channels: herald.NotifierTypes,
		Back: logURL(lf, "cursor", q.Get("cursor")), CanRetry: can(ctx, herald.ResDelivery, herald.ActRetry)}
	if s := q.Get("retried"); s != "" {
		if n, err := strconv.Atoi(s); err == nil && n >= 0 {
			d.Retried = &herald.BulkRetry{Retried: n, More: q.Get("more") == "1"}
		}
	}
	var err error
	if d.Pickers, err = c.loadPickers(ctx, v.Lang); err != nil {
		return err
	}
	counts, err := c.Log.CountDeliveriesByMinute(ctx, c.now().Add(-chartMinutes*time.Minute))
	if err != nil {
		return err
	}
	d.Chart = buildChart(counts, c.now())
	ds, next, err := c.Log.FindDeliveriesNewest(ctx, lf.F, pageOf(r, "cursor"))
	if err != nil {
		return err
	}
	if next != "" {
		d.Next = logURL(lf, "cursor", next, "events", q.Get("events"))
	}
	if d.Deliveries, err = c.Log.NameDeliveries(ctx, ds); err != nil {
		return err
	}
	if d.Bulk, err = c.bulkOffer(ctx, lf); err != nil {
		return err
	}
	if d.Events, next, err = c.Log.FindEventsNewest(ctx, 0, herald.Page{Limit: 20, Cursor: q.Get("events")}); err != nil {
		return err
	}
	if next != "" {
		d.NextEvents = logURL(lf, "cursor", q.Get("cursor"), "events", next)
	}
	return c.page(w, "log", "Delivery log", v, d)
}

type eventData struct {
	Event      *herald.Event
	SourceName string
	Deliveries []*herald.DeliveryEntry
	Next       string
	Back       string
	CanRetry   bool
}

func (c *Console) handleEvent(w http.ResponseWriter, r *http.Request, v *view) error {
	id, err := pathID(r, "id", false)
	if err != nil {
		return err
	}
	ctx := r.Context()
	// FindEventByID loads every delivery of the event; this page asks for
	// a page of them instead, so an event sent to thousands stays cheap.
	ev, next, err := c.eventPage(r, id)
	if err != nil {
		return err
	}
	d := eventData{Event: ev, Back: r.URL.RequestURI(), CanRetry: can(ctx, herald.ResDelivery, herald.ActRetry)}
	if d.Deliveries, err = c.Log.NameDeliveries(ctx, ev.Deliveries); err != nil {
		return err
	}
	// The source's name; a principal who may read events but not
	// sources sees its id.
	if s, err := c.Sources.FindSourceByID(ctx, ev.SourceID); err == nil {
		d.SourceName = s.Name
	} else if code := herald.ErrorCode(err); code != herald.EFORBIDDEN && code != herald.ENOTFOUND {
		return err
	}
	if next != "" {
		d.Next = withQuery(r, "cursor", next)
	}
	return c.page(w, "event", "Event", v, d)
}

// eventPage finds event id among the newest events' page that starts at
// it, and a page of its deliveries.
func (c *Console) eventPage(r *http.Request, id int64) (*herald.Event, string, error) {
	ctx := r.Context()
	evs, _, err := c.Log.FindEventsNewest(ctx, 0, herald.Page{Limit: 1, Cursor: herald.CursorAfter(id + 1)})
	if err != nil {
		return nil, "", err
	}
	if len(evs) == 0 || evs[0].ID != id {
		return nil, "", herald.Errorf(herald.ENOTFOUND, "", "event %d not found", id)
	}
	ev := evs[0]
	ds, next, err := c.Deliveries.FindDeliveries(ctx, herald.DeliveryFilter{EventID: id}, pageOf(r, "cursor"))
	if err != nil {
		return nil, "", err
	}
	ev.Deliveries = ds
	return ev, next, nil
}

func (c *Console) handleRetry(w http.ResponseWriter, r *http.Request, v *view) error {
	id, err := pathID(r, "id", false)
	if err != nil {
		return err
	}
	if _, err := c.Deliveries.RetryDelivery(r.Context(), id); err != nil {
		return err
	}
	back := r.PostForm.Get("back")
	if back == "" {
		back = "/console/log"
	}
	return redirect(w, r, safeNext(back), "Delivery queued for retry.")
}

// retryData is the bulk retry's confirmation page.
type retryData struct {
	Filter  logFilter
	Offer   *bulkOffer
	Max     int
	Summary []summaryLine
	Back    string
}

// summaryLine is one narrowing of the filter, as the person set it.
type summaryLine struct {
	Label, Value string
}

// summary lists the filter's narrowings, by name.
func (lf logFilter) summary(lang string, pk *pickers) []summaryLine {
	var out []summaryLine
	name := func(names map[int64]string, id int64) string {
		if n, ok := names[id]; ok {
			return n
		}
		return "#" + strconv.FormatInt(id, 10)
	}
	if lf.Channel != "" {
		out = append(out, summaryLine{"Channel", translate(lang, lf.Channel)})
	}
	if lf.F.NotifierID != 0 {
		out = append(out, summaryLine{"Notifier", name(pk.NotifierNames, lf.F.NotifierID)})
	}
	if lf.F.SourceID != 0 {
		out = append(out, summaryLine{"Source", name(pk.SourceNames, lf.F.SourceID)})
	}
	if !lf.F.From.IsZero() {
		out = append(out, summaryLine{"From (UTC)", fmtTimeIn(lang, lf.F.From)})
	}
	if !lf.F.To.IsZero() {
		out = append(out, summaryLine{"To (UTC)", fmtTimeIn(lang, lf.F.To)})
	}
	return out
}

// handleRetryForm asks to confirm a bulk retry, with the count it would
// re-queue.
func (c *Console) handleRetryForm(w http.ResponseWriter, r *http.Request, v *view) error {
	ctx := r.Context()
	lf := readLogFilter(v.Lang, r.URL.Query())
	if len(lf.Errors) > 0 {
		return herald.Errorf(herald.EINVALID, "", "%s", strings.Join(lf.Errors, "; "))
	}
	if lf.F.RetryStatus() == "" {
		return herald.Errorf(herald.EINVALID, "status", "Only dead or failed deliveries can be retried.")
	}
	// Counting is reading: the log's own permission, whoever asks.
	f := lf.F
	f.Status = lf.F.RetryStatus()
	n, err := c.Log.CountDeliveriesUpTo(ctx, f, herald.MaxBulkRetry+1)
	if err != nil {
		return err
	}
	pk, err := c.loadPickers(ctx, v.Lang)
	if err != nil {
		return err
	}
	d := retryData{Filter: lf, Max: herald.MaxBulkRetry, Summary: lf.summary(v.Lang, pk), Back: logURL(lf),
		Offer: &bulkOffer{Status: f.Status, Count: min(n, herald.MaxBulkRetry), Over: n > herald.MaxBulkRetry, URL: retryURL(lf)}}
	return c.page(w, "log_retry", "Retry deliveries", v, d)
}

// handleRetryAll re-queues every dead (or failed) delivery of the posted
// filter, as far as one bounded call goes, and shows the log with how
// many.
func (c *Console) handleRetryAll(w http.ResponseWriter, r *http.Request, v *view) error {
	lf := readLogFilter(v.Lang, r.PostForm)
	if len(lf.Errors) > 0 {
		return herald.Errorf(herald.EINVALID, "", "%s", strings.Join(lf.Errors, "; "))
	}
	res, err := c.Deliveries.RetryDeliveries(r.Context(), lf.F)
	if err != nil {
		return err
	}
	more := ""
	if res.More {
		more = "1"
	}
	http.Redirect(w, r, logURL(lf, "retried", strconv.Itoa(res.Retried), "more", more), http.StatusSeeOther)
	return nil
}

// fmtTimeIn formats a time, in UTC, the way lang writes dates.
func fmtTimeIn(lang string, t time.Time) string {
	if t.IsZero() {
		return ""
	}
	t = t.UTC()
	if lang == langZH {
		return t.Format("2006年1月2日 15:04:05") + " UTC"
	}
	return t.Format("2 Jan 2006 15:04:05") + " UTC"
}
