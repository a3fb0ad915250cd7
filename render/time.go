package render

import (
	"fmt"
	"sync"
	"time"

	"github.com/heraldhq/herald"
)

// FormatTime writes t for a reader in zone (an IANA name; "" is UTC) and
// locale: the date and clock in that zone, and the zone's offset, so that
// nobody needs to convert. English reads "2026-03-04 13:06:07 UTC+08:00",
// Chinese "2026年03月04日 13:06:07 (UTC+08:00)"; with no offset, "UTC".
func FormatTime(t time.Time, zone, locale string) string {
	t = t.In(loadZone(zone))
	label := "UTC"
	if _, off := t.Zone(); off != 0 {
		sign := '+'
		if off < 0 {
			sign, off = '-', -off
		}
		label = fmt.Sprintf("UTC%c%02d:%02d", sign, off/3600, off%3600/60)
	}
	if locale == herald.LocaleZH {
		if label != "UTC" {
			label = "(" + label + ")"
		}
		return t.Format("2006年01月02日 15:04:05") + " " + label
	}
	return t.Format(time.DateTime) + " " + label
}

// zones caches the locations FormatTime has loaded: time.LoadLocation
// reads the zone database at every call, which was a tenth of a render.
var zones sync.Map // name → *time.Location

// maxZones bounds the cache (there are some 600 IANA names; a name past
// the bound is loaded at each call, as before).
const maxZones = 1024

var zoneCount struct {
	sync.Mutex
	n int
}

func loadZone(name string) *time.Location {
	if name == "" {
		return time.UTC
	}
	if loc, ok := zones.Load(name); ok {
		return loc.(*time.Location)
	}
	loc := herald.LoadTimeZone(name)
	zoneCount.Lock()
	if zoneCount.n < maxZones {
		if _, loaded := zones.LoadOrStore(name, loc); !loaded {
			zoneCount.n++
		}
	}
	zoneCount.Unlock()
	return loc
}
