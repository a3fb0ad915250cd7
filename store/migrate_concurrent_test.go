package store_test

import (
	"context"
	"sync"
	"testing"

	"github.com/heraldhq/herald/store"
	"github.com/heraldhq/herald/store/storetest"
)

// Nodes started together on an empty database all migrate it: one does
// the work, the others wait for it and find nothing left to do (they
// collided on "relation already exists" before).
func TestMigrate_ConcurrentNodes(t *testing.T) {
	for _, dialect := range storetest.Dialects {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			url := storetest.NewURL(t, dialect)
			const nodes = 3
			dbs := make([]*store.DB, nodes)
			for i := range dbs {
				db, err := store.Open(context.Background(), store.Config{URL: url, SecretKey: storetest.Key()})
				must(t, err)
				t.Cleanup(func() { db.Close() })
				dbs[i] = db
			}
			errs := make([]error, nodes)
			var wg sync.WaitGroup
			for i, db := range dbs {
				wg.Add(1)
				go func() {
					defer wg.Done()
					errs[i] = db.Migrate(context.Background())
				}()
			}
			wg.Wait()
			for i, err := range errs {
				if err != nil {
					t.Errorf("node %d: %v", i, err)
				}
			}
			// The database works: a tenant can be made.
			storetest.NewTenant(t, dbs[0], "acme")
		})
	}
}
