package render

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald"
)

// TestNative_MatchesLiquid: the native rendering of every built-in
// template is, byte for byte, the Liquid one, over inputs with and
// without a source, actor, payload and roles, with characters HTML and
// JSON escape, in both locales and several zones.
func TestNative_MatchesLiquid(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(1, 2))
	words := []string{"", "a", "main", "<b>&'\"", "构建 #42", "x\ny\tz", `\u003c`, "{{ title }}", "emoji 🎉", "a\u2028b", " ", "%s"}
	word := func() string { return words[rng.IntN(len(words))] + words[rng.IntN(len(words))] }
	for i := range 400 {
		payload := map[string]any{}
		for range rng.IntN(5) {
			switch rng.IntN(4) {
			case 0:
				payload[word()] = word()
			case 1:
				payload["n"+word()] = rng.IntN(1000)
			case 2:
				payload["l"+word()] = []any{word(), 1.5, nil, true}
			default:
				payload["o"+word()] = map[string]any{"k": word()}
			}
		}
		var raw json.RawMessage
		if rng.IntN(4) > 0 {
			raw, _ = json.Marshal(payload)
		}
		var roles map[string][]string
		if rng.IntN(3) > 0 {
			roles = map[string][]string{word(): {word(), word()}, "creator": {word()}}
		}
		ev := &herald.Event{ID: rng.Int64N(1 << 40), Type: []string{"build.failed", "deploy.succeeded", "custom." + word()}[rng.IntN(3)],
			Actor: word(), CreatedAt: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(rng.Int64N(1 << 50))), Roles: roles, Payload: raw}
		var src *herald.Source
		if rng.IntN(4) > 0 {
			src = &herald.Source{ID: 3, Kind: word(), ExternalID: word(), Name: word()}
		}
		var fields []herald.BodyField
		for k := range payload {
			if rng.IntN(3) == 0 {
				fields = append(fields, herald.BodyField{Name: k, Shown: rng.IntN(2) == 0})
			}
		}
		zone := []string{"", "Asia/Shanghai", "America/St_Johns", "Nowhere/Bad"}[rng.IntN(4)]
		for key, ct := range builtin.byKey {
			in := Input{Event: ev, Source: src, Notifier: &herald.Notifier{Type: key.Channel}, Locale: key.Locale, TimeZone: zone, BodyFields: fields}
			d, err := NewData(in)
			if err != nil {
				t.Fatal(err)
			}
			for _, skip := range []bool{false, true} {
				native, ok := nativeRender(key.Channel, key.Locale, d, in, skip)
				if !ok {
					t.Fatalf("case %d %v: the native rendering declined a small message", i, key)
				}
				liquid := *ct
				liquid.native = false
				want, err := liquid.render(d, in, skip)
				if err != nil {
					t.Fatalf("case %d %v: %v", i, key, err)
				}
				if !reflect.DeepEqual(native, want) {
					t.Fatalf("case %d %v skipBody=%v:\nnative %s\nliquid %s", i, key, skip, dump(native), dump(want))
				}
			}
		}
	}
}

func dump(v any) string { b, _ := json.Marshal(v); return string(b) }

// TestNative_LargeFallsBackToLiquid: a message past the native bound
// renders through Liquid, whose limits still fail a render too large.
func TestNative_LargeFallsBackToLiquid(t *testing.T) {
	t.Parallel()
	big := strings.Repeat("x", 300<<10)
	in := Input{Event: &herald.Event{ID: 1, Type: "build.failed", Actor: big}, Notifier: &herald.Notifier{Type: herald.NotifierWebhook}}
	d, err := NewData(in)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := nativeRender(herald.NotifierWebhook, herald.LocaleEN, d, in, false); ok {
		t.Fatal("the native rendering took a message past its bound")
	}
	_, err = pick(in, herald.NotifierWebhook).render(d, in, false)
	var se *SyntaxError
	if err == nil || !strings.Contains(err.Error(), fmt.Sprint(DefaultLimits.MaxBytes)) {
		t.Fatalf("err = %v (%T), want the Liquid limit's", err, se)
	}
}

// TestDirectFilters_Guarded: the filters registered as plain functions
// refuse an input past the bounds, as the guard does for the others.
func TestDirectFilters_Guarded(t *testing.T) {
	t.Parallel()
	big := strings.Repeat("x", maxValueBytes+1)
	long := make([]any, maxItems+1)
	jsonFilter := directFilters()["json"].(func(any) (any, error))
	defaultFilter := directFilters()["default"].(func(any, any) (any, error))
	for name, call := range map[string]func() error{
		"json big":     func() error { _, err := jsonFilter(big); return err },
		"json long":    func() error { _, err := jsonFilter(long); return err },
		"default big":  func() error { _, err := defaultFilter(nil, big); return err },
		"default long": func() error { _, err := defaultFilter(long, 1); return err },
	} {
		var le *LimitError
		if err := call(); !errors.As(err, &le) {
			t.Errorf("%s: err = %v, want a LimitError", name, err)
		}
	}
	if out, err := jsonFilter(map[string][]string{"a": {"<b>"}}); err != nil || out != `{"a":["\u003cb\u003e"]}` {
		t.Errorf("json = %v, %v", out, err)
	}
}
