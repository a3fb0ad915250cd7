package store_test

import (
	"strings"
	"testing"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/store"
	"github.com/heraldhq/herald/store/storetest"
)

// An import creates and updates users in one go, and a file with one bad
// line (an unknown department) writes nothing.
func TestImportUsers(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := storetest.NewTenant(t, db, "acme")
		eng := &herald.Department{Code: "eng", Name: "Engineering"}
		must(t, db.CreateDepartment(ctx, eng))
		ann := &herald.User{Code: "ann", Name: "Ann", Mobile: "+8613800000000", DepartmentIDs: []int64{eng.ID}}
		must(t, db.CreateUser(ctx, ann))

		bad := "code,name,departments\nann,Ann Li,eng\ncat,Cat,nowhere\n"
		if _, err := herald.ImportUsers(ctx, db, strings.NewReader(bad)); herald.ErrorField(err) != "lines[3].departments" {
			t.Fatalf("a file naming an unknown department: %v", err)
		}
		if got, err := db.FindUserByCode(ctx, "ann"); err != nil || got.Name != "Ann" {
			t.Fatalf("ann after the refused import: %+v %v", got, err)
		}
		if _, err := db.FindUserByCode(ctx, "cat"); herald.ErrorCode(err) != herald.ENOTFOUND {
			t.Fatalf("cat after the refused import: %v", err)
		}

		good := "code,name,time_zone,locale,departments\nann,Ann Li,Asia/Shanghai,zh,\ncat,Cat,Europe/Paris,en,eng\n"
		res, err := herald.ImportUsers(ctx, db, strings.NewReader(good))
		if err != nil || res.Created != 1 || res.Updated != 1 {
			t.Fatalf("import = %+v %v", res, err)
		}
		got, err := db.FindUserByCode(ctx, "ann")
		must(t, err)
		// The file's columns changed; the mobile, which it lacks, stayed.
		if got.Name != "Ann Li" || got.TimeZone != "Asia/Shanghai" || got.Locale != "zh" || got.Mobile != "+8613800000000" || len(got.DepartmentIDs) != 0 {
			t.Errorf("ann after the import: %+v", got)
		}
		cat, err := db.FindUserByCode(ctx, "cat")
		must(t, err)
		if cat.TimeZone != "Europe/Paris" || len(cat.DepartmentIDs) != 1 || cat.DepartmentIDs[0] != eng.ID {
			t.Errorf("cat after the import: %+v", cat)
		}
		// Another tenant's import does not see these users.
		other := storetest.NewTenant(t, db, "other")
		res, err = herald.ImportUsers(other, db, strings.NewReader("code,name\nann,Other Ann\n"))
		if err != nil || res.Created != 1 {
			t.Fatalf("the other tenant's import = %+v %v", res, err)
		}
	})
}
