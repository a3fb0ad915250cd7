package logging

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
)

// JSON lines carry the request id of their context; text lines too.
func TestNew_FormatsAndRequestID(t *testing.T) {
	var buf bytes.Buffer
	l, err := New(&buf, FormatJSON, "info")
	if err != nil {
		t.Fatal(err)
	}
	ctx := WithRequestID(context.Background(), "req-1")
	l.With("a", 1).WarnContext(ctx, "delivery failed", "delivery", 7)
	l.DebugContext(ctx, "hidden")
	var line map[string]any
	if err := json.Unmarshal(buf.Bytes(), &line); err != nil {
		t.Fatalf("not one JSON line: %v\n%s", err, buf.String())
	}
	if line["request_id"] != "req-1" || line["level"] != "WARN" || line["delivery"] != float64(7) || line["a"] != float64(1) {
		t.Errorf("line = %v", line)
	}

	buf.Reset()
	l, err = New(&buf, FormatText, "debug")
	if err != nil {
		t.Fatal(err)
	}
	l.InfoContext(ctx, "request")
	l.Info("no context")
	if lines := strings.Split(strings.TrimSpace(buf.String()), "\n"); len(lines) != 2 ||
		!strings.Contains(lines[0], "request_id=req-1") || strings.Contains(lines[1], "request_id") {
		t.Errorf("text lines:\n%s", buf.String())
	}

	if _, err := New(&buf, "xml", "info"); err == nil {
		t.Error("format xml accepted")
	}
	if _, err := New(&buf, FormatText, "loud"); err == nil {
		t.Error("level loud accepted")
	}
}

func TestSaneRequestID(t *testing.T) {
	for id, want := range map[string]bool{
		"":                       false,
		"abc-123_X.y:z/+=@":      true,
		"has space":              false,
		"new\nline":              false,
		"quote\"":                false,
		strings.Repeat("a", 128): true,
		strings.Repeat("a", 129): false,
		"é":                      false,
	} {
		if got := SaneRequestID(id); got != want {
			t.Errorf("SaneRequestID(%q) = %v, want %v", id, got, want)
		}
	}
	if id := NewRequestID(); !SaneRequestID(id) || id == NewRequestID() {
		t.Errorf("NewRequestID = %q", id)
	}
}
