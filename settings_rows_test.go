package herald_test

import (
	"slices"
	"testing"

	"github.com/heraldhq/herald"
)

func TestEventTypesOf(t *testing.T) {
	t.Parallel()
	for kind, want := range map[string][]string{
		herald.SourceBuildJob:    {"build.succeeded", "build.failed", "job.updated", "job.deleted", "job.disabled"},
		herald.SourceApplication: {"deploy.succeeded", "deploy.failed", "app.updated", "app.deleted"},
		herald.SourceApp:         {"record.added", "record.edited", "comment.added", "status.changed", "file.imported"},
		herald.SourceGeneric:     {},
		"":                       herald.EventTypes,
	} {
		if got := herald.EventTypesOf(kind); !slices.Equal(got, want) {
			t.Errorf("EventTypesOf(%q) = %v, want %v", kind, got, want)
		}
	}
	// Every native type belongs to a kind.
	var all []string
	for _, k := range herald.SourceKinds {
		all = append(all, herald.EventTypesOf(k)...)
	}
	for _, typ := range herald.EventTypes {
		if !slices.Contains(all, typ) {
			t.Errorf("%s is no kind's", typ)
		}
	}
}

func TestSettings_AddRemoveEventType(t *testing.T) {
	t.Parallel()
	s := &herald.Settings{Channels: []herald.ChannelSettings{{NotifierID: 1, Enabled: true,
		Events: []herald.EventSettings{{Type: "custom.paid", Enabled: true, Recipients: []herald.Recipient{{Type: herald.EntityUser, Code: "ann"}}}}}}}
	for _, bad := range []string{"Order Paid", "custom.", "custom.A", "paid"} {
		if err := s.AddEventType(bad, []int64{1}); herald.ErrorCode(err) != herald.EINVALID || herald.ErrorField(err) != "event_type" {
			t.Errorf("AddEventType(%q) = %v, want invalid event_type", bad, err)
		}
	}
	if err := s.AddEventType("custom.shipped", nil); herald.ErrorCode(err) != herald.EINVALID {
		t.Errorf("a row without notifiers: %v", err)
	}
	if err := s.AddEventType("custom.paid", []int64{1, 2}); err != nil {
		t.Fatal(err)
	}
	if e := s.Channel(1).Event("custom.paid"); !e.Enabled || len(e.Recipients) != 1 {
		t.Errorf("adding a type the settings carry changed its cell: %+v", e)
	}
	if ch := s.Channel(2); ch == nil || ch.Enabled || ch.Event("custom.paid") == nil || ch.Event("custom.paid").Enabled {
		t.Errorf("notifier 2 after adding the row: %+v", ch)
	}
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	s.RemoveEventType("custom.paid")
	if s.Channel(1).Event("custom.paid") != nil || s.Channel(2).Event("custom.paid") != nil {
		t.Errorf("the removed type stays: %+v", s.Channels)
	}
}

func TestDiffSettings(t *testing.T) {
	t.Parallel()
	ann, bob := herald.Recipient{Type: herald.EntityUser, Code: "ann"}, herald.Recipient{Type: herald.EntityUser, Code: "bob"}
	doc := func(on bool, rs ...herald.Recipient) *herald.Settings {
		return &herald.Settings{Channels: []herald.ChannelSettings{{NotifierID: 7, Enabled: true,
			Events: []herald.EventSettings{{Type: "build.failed", Enabled: on, Recipients: rs}}}}}
	}
	if d := herald.DiffSettings(doc(true, ann), doc(true, ann)); len(d) != 0 {
		t.Errorf("same documents differ: %+v", d)
	}
	d := herald.DiffSettings(doc(true, ann), doc(true, bob))
	if len(d) != 1 || d[0].Field != "event" || d[0].NotifierID != 7 || d[0].Switched() ||
		!slices.Equal(d[0].Added, []herald.Recipient{bob}) || !slices.Equal(d[0].Removed, []herald.Recipient{ann}) {
		t.Errorf("recipients only: %+v", d)
	}
	d = herald.DiffSettings(nil, doc(false))
	if len(d) != 1 || d[0].Field != "channel" || !d[0].On {
		t.Errorf("from nothing to a channel with an event off: %+v", d)
	}
	d = herald.DiffSettings(doc(true), &herald.Settings{InheritProject: true})
	if len(d) != 3 || d[0].Field != "inherit_project" || d[1].Field != "channel" || d[2].Field != "event" || d[2].On {
		t.Errorf("to inheriting: %+v", d)
	}
}
