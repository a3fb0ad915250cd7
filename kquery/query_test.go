package kquery_test

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/heraldhq/herald/kquery"
)

// record is a Kintone record as a webhook carries it.
const record = `{
  "$id": {"type": "__ID__", "value": "42"},
  "レコード番号": {"type": "RECORD_NUMBER", "value": "SALES-42"},
  "作成者": {"type": "CREATOR", "value": {"code": "ann", "name": "Ann"}},
  "作成日時": {"type": "CREATED_TIME", "value": "2024-05-01T23:30:00Z"},
  "Title": {"type": "SINGLE_LINE_TEXT", "value": "Quarterly Report"},
  "Note": {"type": "MULTI_LINE_TEXT", "value": ""},
  "Amount": {"type": "NUMBER", "value": "1500"},
  "Due": {"type": "DATE", "value": "2024-05-10"},
  "Start": {"type": "TIME", "value": "09:30"},
  "Status": {"type": "DROP_DOWN", "value": "Open"},
  "Tags": {"type": "CHECK_BOX", "value": ["red", "blue"]},
  "担当者": {"type": "USER_SELECT", "value": [{"code": "bob", "name": "Bob"}]},
  "Depts": {"type": "ORGANIZATION_SELECT", "value": []},
  "Items": {"type": "SUBTABLE", "value": [
    {"id": "1", "value": {"Item": {"type": "SINGLE_LINE_TEXT", "value": "pen"}}},
    {"id": "2", "value": {"Item": {"type": "SINGLE_LINE_TEXT", "value": "ink"}}}]}
}`

func TestQuery_Match(t *testing.T) {
	t.Parallel()
	rec, err := kquery.ParseRecord(json.RawMessage(record))
	if err != nil {
		t.Fatal(err)
	}
	tokyo, err := time.LoadLocation("Asia/Tokyo")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		q    string
		want bool
	}{
		{``, true},
		{`  `, true},
		{`Title = "Quarterly Report"`, true},
		{`Title = "quarterly report"`, false},
		{`Title != "Quarterly Report"`, false},
		{`Title like "report"`, true},
		{`Title not like "memo"`, true},
		{`Title LIKE "memo"`, false},
		{`Amount > 1000`, true},
		{`Amount > "1000"`, true},
		{`Amount >= 1500 and Amount <= 1500`, true},
		{`Amount < 1000`, false},
		{`Amount = 1500.0`, true},
		{`Amount > -5`, true},
		{`Title > "A"`, false}, // no order between texts
		{`Due = "2024-05-10"`, true},
		{`Due > "2024-05-09" and Due < "2024-05-11"`, true},
		{`Due >= "2024-05-11"`, false},
		// 23:30 UTC on 1 May is 2 May in Tokyo.
		{`作成日時 = "2024-05-02"`, true},
		{`作成日時 > "2024-05-01T23:00:00Z"`, true},
		{`作成日時 < "2024-05-02T09:00:00+0900"`, true},
		{`Start < "10:00"`, true},
		{`Status in ("Open", "Pending")`, true},
		{`Status not in ("Open", "Pending")`, false},
		{`Status in ("Closed")`, false},
		{`Tags in ("blue")`, true},
		{`Tags not in ("green", "yellow")`, true},
		{`Tags in ("green")`, false},
		{`担当者 in ("bob")`, true},
		{`作成者 in ("ann", "cid")`, true},
		{`作成者 = "bob"`, false},
		{`Depts is empty`, true},
		{`Depts is not empty`, false},
		{`Note is empty and Title is not empty`, true},
		{`Note = ""`, true},
		{`Item in ("ink")`, true},
		{`Item like "pe"`, true},
		{`レコード番号 = 42`, true},
		{`$id > 40`, true},
		{`Missing = "x" or Missing != "x" or Missing not in ("x")`, false},
		{`Status = "Open" and (Amount > 2000 or Tags in ("red"))`, true},
		{`Status = "Open" and Amount > 2000 or Tags in ("red")`, true},
		{`(Status = "Closed" or Amount > 2000) and Tags in ("red")`, false},
		{`Status = "Open" AND (Amount > 2000 OR Tags in ("green"))`, false},
		{`Title = "Quarterly \"Report\""`, false},
	} {
		q, err := kquery.Parse(c.q)
		if err != nil {
			t.Errorf("Parse(%q): %v", c.q, err)
			continue
		}
		if got := q.Match(rec, tokyo); got != c.want {
			t.Errorf("%q: %v, want %v", c.q, got, c.want)
		}
	}
}

func TestParse_Unsupported(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ q, field string }{
		{`Due = TODAY()`, "Due"},
		{`Due > FROM_TODAY(5, DAYS)`, "Due"},
		{`担当者 in (LOGINUSER())`, "担当者"},
		{`LOGINUSER() in (担当者)`, "LOGINUSER"},
		{`Amount > 10 order by Amount desc`, ""},
		{`Amount > 10 limit 5`, ""},
		{`Amount > 10 offset 5`, ""},
		{`order by Amount`, ""},
		{`Amount >`, "Amount"},
		{`Amount ~ 5`, "Amount"},
		{`Amount between 1`, "Amount"},
		{`Amount > 10 and`, ""},
		{`(Amount > 10`, ""},
		{`Title = "open`, ""},
		{`Title = open`, "Title"},
		{`Status in ("a", "b"`, "Status"},
		{`Status not = "a"`, "Status"},
		{`Status is null`, "Status"},
		{`Amount > 10 Status = "a"`, ""},
		{`Amount ! 10`, ""},
	} {
		_, err := kquery.Parse(c.q)
		var qe *kquery.Error
		if !errors.As(err, &qe) {
			t.Errorf("Parse(%q): %v, want a *kquery.Error", c.q, err)
			continue
		}
		if qe.Field != c.field {
			t.Errorf("Parse(%q): field %q, want %q (%v)", c.q, qe.Field, c.field, err)
		}
	}
}

func TestRecord_IDAndEntities(t *testing.T) {
	t.Parallel()
	rec, err := kquery.ParseRecord(json.RawMessage(record))
	if err != nil {
		t.Fatal(err)
	}
	if id := rec.ID(); id != "42" {
		t.Errorf("ID %q", id)
	}
	delete(rec, "$id")
	if id := rec.ID(); id != "42" {
		t.Errorf("ID from the record number %q", id)
	}
	if kind, codes, ok := rec.Entities("担当者"); !ok || kind != kquery.EntityUser || len(codes) != 1 || codes[0] != "bob" {
		t.Errorf("担当者: %v %v %v", kind, codes, ok)
	}
	if kind, _, ok := rec.Entities("Depts"); !ok || kind != kquery.EntityOrganization {
		t.Errorf("Depts: %v %v", kind, ok)
	}
	if _, _, ok := rec.Entities("Title"); ok {
		t.Error("a text field names no one")
	}
	for _, bad := range []string{`[]`, `"x"`, `null`, `{"a":`} {
		if _, err := kquery.ParseRecord(json.RawMessage(bad)); err == nil {
			t.Errorf("ParseRecord(%s) succeeded", bad)
		}
	}
}
