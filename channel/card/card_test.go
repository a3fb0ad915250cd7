package card_test

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/heraldhq/herald/channel/card"
)

func TestParse(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		raw  string
		want card.Card
	}{
		{
			name: "Version1",
			raw: `{"config":{"wide_screen_mode":true},"header":{"title":{"tag":"plain_text","content":" Release "}},"elements":[
{"tag":"div","text":{"tag":"lark_md","content":"Hi <at id=all></at>, <font color='red'>ship</font> [it](https://x.example/a)"}},
{"tag":"hr"},
{"tag":"column_set","columns":[{"tag":"column","elements":[{"tag":"markdown","content":"**left**"}]},{"tag":"column","elements":[{"tag":"img","img_key":"k","alt":{"tag":"plain_text","content":"chart"}}]}]},
{"tag":"action","actions":[{"tag":"button","text":{"content":"Go"},"url":"https://go.example/"},{"tag":"button","text":{"content":"Cb"},"value":{"k":"v"}}]},
{"tag":"unknown","content":"dropped"}]}`,
			want: card.Card{
				Title:    "Release",
				Markdown: "Hi @all, ship [it](https://x.example/a)\n\n---\n\n**left**\n\nchart",
				Text:     "Hi @all, ship it (https://x.example/a)\n\n----------\n\nleft\n\nchart",
				Links:    []card.Link{{Text: "Go", URL: "https://go.example/"}},
			},
		},
		{
			name: "Version2",
			raw: `{"schema":"2.0","header":{"title":{"tag":"plain_text","content":"Alert"}},"body":{"elements":[
{"tag":"markdown","content":"# Disk\nfull <at user_id=\"u1\">Ann</at>"},
{"tag":"button","text":{"tag":"plain_text","content":"Open"},"behaviors":[{"type":"open_url","default_url":"https://o.example/"}]}]}}`,
			want: card.Card{
				Title:    "Alert",
				Markdown: "# Disk\nfull @Ann",
				Text:     "Disk\nfull @Ann",
				Links:    []card.Link{{Text: "Open", URL: "https://o.example/"}},
			},
		},
		{"Empty", `{}`, card.Card{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := card.Parse(json.RawMessage(tt.raw))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(*got, tt.want) {
				t.Errorf("Parse =\n%#v\nwant\n%#v", *got, tt.want)
			}
		})
	}
	if _, err := card.Parse(json.RawMessage(`[1]`)); err == nil {
		t.Error("Parse accepted a JSON array")
	}
}
