package store

// HoldIngest makes CreateEvents calls queue as if a batch were being
// written, until release is called: the calls queued meanwhile are then
// written together.
func HoldIngest(db *DB) (release func()) {
	g := &db.ingest
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.leading {
		panic("HoldIngest: a batch is being written")
	}
	g.leading = true
	return func() {
		g.mu.Lock()
		defer g.mu.Unlock()
		g.handOffLocked()
	}
}

// QueuedIngest returns how many CreateEvents calls wait in the queue.
func QueuedIngest(db *DB) int {
	db.ingest.mu.Lock()
	defer db.ingest.mu.Unlock()
	return len(db.ingest.queue)
}

// OnEpochRead makes f run before each read of the cache epoch.
func OnEpochRead(db *DB, f func()) { db.cache.onEpochRead = f }
