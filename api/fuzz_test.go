package api

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/heraldhq/herald"
)

// FuzzDecodeSettings feeds the settings PUT decoder and the domain's
// validation. Neither may panic; a body is either refused with a herald
// error or gives a document that validates and survives a JSON round trip
// unchanged. Seeds are in testdata/fuzz/FuzzDecodeSettings.
func FuzzDecodeSettings(f *testing.F) {
	f.Add([]byte(`{"revision":3,"channels":[{"notifier_id":1,"enabled":true,"events":[{"type":"build.failed","enabled":true,"recipients":[{"type":"USER","code":"alice"}]}]}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		doc, rev, err := decodeSettings(bytes.NewReader(body))
		if err == nil {
			err = doc.Validate()
		}
		if err != nil {
			if code := herald.ErrorCode(err); code != herald.EINVALID && code != herald.ETOOLARGE {
				t.Fatalf("error %v (%T) has code %q, want invalid", err, err, code)
			}
			return
		}
		if rev < herald.NoRevisionCheck {
			t.Fatalf("revision %d accepted", rev)
		}
		first, err := json.Marshal(doc)
		if err != nil {
			t.Fatalf("marshal a valid document: %v", err)
		}
		again, rev2, err := decodeSettings(bytes.NewReader(first))
		if err != nil {
			t.Fatalf("decode the document's own JSON %s: %v", first, err)
		}
		if doc.Revision != 0 || rev2 != 0 {
			t.Fatalf("the decoded document carries revision %d (read back as %d); the expected revision belongs to the request", doc.Revision, rev2)
		}
		if err := again.Validate(); err != nil {
			t.Fatalf("the document's own JSON %s does not validate: %v", first, err)
		}
		second, err := json.Marshal(again)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(first, second) {
			t.Fatalf("round trip changed the document:\n%s\n%s", first, second)
		}
	})
}

func TestDecodeSettings(t *testing.T) {
	t.Parallel()
	tests := []struct {
		body  string
		rev   int64
		field string // "" and ok: decodes
		ok    bool
	}{
		{`{}`, herald.NoRevisionCheck, "", true},
		{`{"revision":-1}`, herald.NoRevisionCheck, "", true},
		{`{"revision":0,"channels":[]}`, 0, "", true},
		{`{"revision":7,"project_id":"anything","version":"live","updated_at":5}`, 7, "", true},
		{`{"revision":-2}`, 0, "revision", false},
		{`{"revision":1.5}`, 0, "revision", false},
		{`{"revision":null}`, herald.NoRevisionCheck, "", true},
		{`{"channels":{}}`, 0, "channels", false},
		{`{"channels":[{"notifier_id":1,"events":[{"type":"build.failed","recipients":[{"type":"USER","code":"a","extra":1}]}]}]}`, 0, "extra", false},
		{`{"inherit_project":"yes"}`, 0, "inherit_project", false},
		{`null`, 0, "", false},
		{`"channels"`, 0, "", false},
		{`{} []`, 0, "", false},
		{`{`, 0, "", false},
		{``, 0, "", false},
	}
	for _, tt := range tests {
		doc, rev, err := decodeSettings(strings.NewReader(tt.body))
		if tt.ok {
			if err != nil || rev != tt.rev || doc == nil {
				t.Errorf("decodeSettings(%s) = %v, %d, %v; want revision %d", tt.body, doc, rev, err, tt.rev)
			}
			continue
		}
		if herald.ErrorCode(err) != herald.EINVALID || herald.ErrorField(err) != tt.field {
			t.Errorf("decodeSettings(%s) error = %v, want invalid on field %q", tt.body, err, tt.field)
		}
	}
}
