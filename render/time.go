package render

import (
	"fmt"
	"time"

	"github.com/heraldhq/herald"
)

// FormatTime writes t for a reader in zone (an IANA name; "" is UTC) and
// locale: the date and clock in that zone, and the zone's offset, so that
// nobody needs to convert. English reads "2026-03-04 13:06:07 UTC+08:00",
// Chinese "2026年03月04日 13:06:07 (UTC+08:00)"; with no offset, "UTC".
func FormatTime(t time.Time, zone, locale string) string {
	t = t.In(herald.LoadTimeZone(zone))
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
