package console

import (
	"context"

	"github.com/heraldhq/herald"
)

// firstRun is the path to a project's first notification, shown on the
// project's page until each step is done: a source that emits events, a
// notifier that carries messages, and live settings that switch an event
// on for a notifier.
type firstRun struct {
	Source, Notifier, Settings bool
	// SettingsPath is the matrix the third step opens: the first
	// source's, or the project default's.
	SettingsPath string
}

// loadFirstRun reads the steps for the project page d; nil once all three
// are done.
func (c *Console) loadFirstRun(ctx context.Context, d *projectData) (*firstRun, error) {
	pid := d.Project.ID
	fr := &firstRun{Source: len(d.Sources) > 0, Notifier: len(d.Notifiers) > 0, SettingsPath: sourcePath(pid, 0)}
	scopes := []herald.SettingsScope{{ProjectID: pid}}
	for _, s := range d.Sources {
		scopes = append(scopes, herald.SettingsScope{ProjectID: pid, SourceID: s.ID})
	}
	if fr.Source {
		fr.SettingsPath = sourcePath(pid, d.Sources[0].ID)
	}
	if fr.Notifier && can(ctx, herald.ResSettings, herald.ActRead) {
		for _, scope := range scopes {
			live, err := c.Settings.FindSettings(ctx, scope, herald.VersionLive)
			if err != nil {
				return nil, err
			}
			if switchedOn(live) {
				fr.Settings = true
				break
			}
		}
	}
	if fr.Source && fr.Notifier && fr.Settings {
		return nil, nil
	}
	return fr, nil
}

// switchedOn reports whether settings tell anyone anything: a channel on
// with an event on.
func switchedOn(s *herald.Settings) bool {
	for _, ch := range s.Channels {
		if !ch.Enabled {
			continue
		}
		for _, e := range ch.Events {
			if e.Enabled {
				return true
			}
		}
	}
	return false
}
