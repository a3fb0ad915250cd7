package console

import (
	"fmt"
	"net/http"
	"slices"
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
	Title      string
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
			ch.Bars = append(ch.Bars, bar{X: m * w, Y: y, W: w - 1, H: h, Status: st, Title: fmt.Sprintf("%s %s: %d", t.Format("15:04"), st, n)})
		}
	}
	return ch
}

type logData struct {
	Chart      *chart
	Deliveries []*herald.Delivery
	Next       string
	Events     []*herald.Event
	NextEvents string
	Status     string
	NotifierID int64
	Statuses   []string
	Back       string
	CanRetry   bool
}

// retryable reports whether the retry button applies to a status.
func retryable(status string) bool {
	return status == herald.StatusDead || status == herald.StatusFailed
}

func (c *Console) handleLog(w http.ResponseWriter, r *http.Request, v *view) error {
	ctx := r.Context()
	d := logData{Status: r.URL.Query().Get("status"), Statuses: herald.DeliveryStatuses, Back: r.URL.RequestURI(),
		CanRetry: can(ctx, herald.ResDelivery, herald.ActRetry)}
	if d.Status != "" && !slices.Contains(herald.DeliveryStatuses, d.Status) {
		d.Status = ""
	}
	var err error
	if d.NotifierID, err = formID(r, "notifier"); err != nil {
		return err
	}
	counts, err := c.Log.CountDeliveriesByMinute(ctx, c.now().Add(-chartMinutes*time.Minute))
	if err != nil {
		return err
	}
	d.Chart = buildChart(counts, c.now())
	var next string
	d.Deliveries, next, err = c.Log.FindDeliveriesNewest(ctx, herald.DeliveryFilter{Status: d.Status, NotifierID: d.NotifierID}, pageOf(r, "cursor"))
	if err != nil {
		return err
	}
	if next != "" {
		d.Next = withQuery(r, "cursor", next)
	}
	if d.Events, next, err = c.Log.FindEventsNewest(ctx, 0, herald.Page{Limit: 20, Cursor: r.URL.Query().Get("events")}); err != nil {
		return err
	}
	if next != "" {
		d.NextEvents = withQuery(r, "events", next)
	}
	return c.page(w, "log", "Delivery log", v, d)
}

type eventData struct {
	Event      *herald.Event
	Deliveries []*herald.Delivery
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
	d := eventData{Event: ev, Deliveries: ev.Deliveries, Back: r.URL.RequestURI(), CanRetry: can(ctx, herald.ResDelivery, herald.ActRetry)}
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
