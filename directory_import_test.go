package herald_test

import (
	"strings"
	"testing"

	"github.com/heraldhq/herald"
)

func TestParseUserImport(t *testing.T) {
	t.Parallel()
	t.Run("Good", func(t *testing.T) {
		im, err := herald.ParseUserImport(strings.NewReader("\uFEFFexternal_id,name,email,mobile,time_zone,locale,department\r\n" +
			"ann,Ann,ann@example.com,+8613800000000,Asia/Shanghai,zh,eng;ops\r\n" +
			"bob, Bob ,,,,en,\r\n"))
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(im.Columns, ","); got != "code,name,email,mobile,time_zone,locale,departments" {
			t.Errorf("columns %s", got)
		}
		if len(im.Rows) != 2 || im.Rows[0].User.TimeZone != "Asia/Shanghai" || im.Rows[0].Line != 2 ||
			strings.Join(im.Rows[0].Departments, " ") != "eng ops" || im.Rows[1].User.Name != "Bob" || im.Rows[1].Line != 3 {
			t.Errorf("rows %+v", im.Rows)
		}
	})
	t.Run("EveryBadCell", func(t *testing.T) {
		_, err := herald.ParseUserImport(strings.NewReader("code,name,email,time_zone,locale\n" +
			"ann,Ann,not-an-email,Mars/Olympus,fr\n" +
			"bob,Bob,bob@example.com,UTC,en\n" +
			"ann,,x@example.com,,\n"))
		if herald.ErrorCode(err) != herald.EINVALID {
			t.Fatalf("err %v", err)
		}
		var got []string
		for _, fe := range herald.ErrorFields(err) {
			got = append(got, fe.Field)
		}
		want := "lines[2].email lines[2].time_zone lines[2].locale lines[4].name lines[4].code"
		if strings.Join(got, " ") != want {
			t.Errorf("fields %v, want %s", got, want)
		}
		if line, col, ok := herald.ImportCell("lines[2].time_zone"); !ok || line != 2 || col != "time_zone" {
			t.Errorf("ImportCell = %d %q %v", line, col, ok)
		}
	})
	for name, file := range map[string]string{
		"Empty":         "",
		"NoRows":        "code,name\n",
		"UnknownColumn": "code,name,shoe_size\nann,Ann,42\n",
		"NoName":        "code,email\nann,a@example.com\n",
		"ShortLine":     "code,name\nann\n",
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := herald.ParseUserImport(strings.NewReader(file)); herald.ErrorCode(err) != herald.EINVALID {
				t.Errorf("err %v, want invalid", err)
			} else if _, _, ok := herald.ImportCell(herald.ErrorField(err)); !ok {
				t.Errorf("field %q names no line", herald.ErrorField(err))
			}
		})
	}
}
