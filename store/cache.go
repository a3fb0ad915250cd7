package store

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/heraldhq/herald"
)

// The read cache keeps what every API request reads — the token, the
// source and its settings row — in memory, so an authenticated settings
// GET asks the database nothing.
//
// It stays exact on this node and is at most a second behind others:
//
//   - A transaction that changes cached data (revokes a token, changes a
//     source or settings, deletes a project) clears this process's cache
//     once it commits (Tx.touchCache): a revoked token fails on its very
//     next use here.
//   - Triggers on the cached tables bump cache_epoch.n in the same
//     transaction, whoever writes: another node, a CLI process, a cascade.
//     Before it answers from memory, a node reads the epoch again once a
//     second has passed since it last did, and clears its cache if the
//     epoch moved. So a change made elsewhere is seen within a second, and
//     an idle node reads nothing at all.
//   - A node that cannot read the epoch answers from the database until it
//     can, and fills nothing.
//   - A lookup that misses fills the cache only if no clear happened while
//     it read (the generation is unchanged), so a read racing a local
//     revocation cannot put the old row back.
//
// Why an epoch row rather than LISTEN/NOTIFY: one mechanism serves both
// databases and every process (on SQLite a CLI process writes the same
// file), needs no connection of its own, and has no listener whose loss
// must be noticed; its cost is one indexed read per second per busy node.

// cacheRecheck is how often a node reads the epoch while it answers from
// memory: the bound on how late a change made elsewhere is seen.
const cacheRecheck = time.Second

// cacheRecheckAhead is how long before cacheRecheck a busy node reads the
// epoch again: one request reads it while the others go on answering from
// memory, which they still may. Without it, every request arriving once
// the second is over read the epoch itself (64 connections: up to 64
// reads at once on a loaded pool, the settings GET's p99 on PostgreSQL).
const cacheRecheckAhead = 250 * time.Millisecond

type readCache struct {
	mu         sync.Mutex
	gen        uint64    // bumped by every clear
	epoch      int64     // cache_epoch.n when last read
	checked    time.Time // when the epoch was last read; zero: read it first
	rechecking bool      // a request reads the epoch ahead of time

	onEpochRead func() // tests: runs before each read of the epoch

	tokens   map[string]*cachedToken // by token hash
	sources  map[tenantKey]*herald.Source
	settings map[settingsKey]*settingsRow
}

type tenantKey struct{ tenant, id int64 }

type settingsKey struct{ tenant, project, source int64 }

type cachedToken struct {
	p        herald.Principal
	lastUsed time.Time
}

// clearLocked empties the cache; c.mu is held.
func (c *readCache) clearLocked() {
	c.gen++
	c.tokens, c.sources, c.settings = nil, nil, nil
}

// clear empties the cache and makes the next lookup read the epoch first.
func (c *readCache) clear() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.clearLocked()
	c.checked = time.Time{}
}

// cacheGen makes sure the cache may answer — reading the epoch again if a
// second has passed — and returns its generation; ok false means answer
// from the database and fill nothing. In the last cacheRecheckAhead of the
// second, the first request to come reads the epoch and the others answer
// from memory meanwhile; past the second, every request reads it first.
func (db *DB) cacheGen(ctx context.Context) (gen uint64, ok bool) {
	c := &db.cache
	now := db.now()
	c.mu.Lock()
	valid := !c.checked.IsZero() && !now.Before(c.checked) && now.Sub(c.checked) < cacheRecheck
	if valid && (c.rechecking || now.Sub(c.checked) < cacheRecheck-cacheRecheckAhead) {
		gen = c.gen
		c.mu.Unlock()
		return gen, true
	}
	ahead := valid // the others answer from memory while this one reads
	if ahead {
		c.rechecking = true
	}
	gen = c.gen
	c.mu.Unlock()

	if c.onEpochRead != nil {
		c.onEpochRead()
	}
	var epoch int64
	r := conn{q: db.read, db: db, ctx: ctx}
	err := r.queryRow(`SELECT n FROM cache_epoch`).Scan(&epoch)
	c.mu.Lock()
	defer c.mu.Unlock()
	if ahead {
		c.rechecking = false
	}
	if err != nil {
		db.logger.Warn("read cache: the epoch cannot be read; answering from the database", "err", err)
		c.clearLocked()
		c.checked = time.Time{}
		return 0, false
	}
	if c.gen != gen {
		// Cleared while we read: what we read may predate the clear.
		return 0, false
	}
	if epoch != c.epoch {
		c.clearLocked()
		c.epoch = epoch
	}
	c.checked = now // before the read: what it saw is at least this new
	return c.gen, true
}

// ClearCache empties the read cache: for a program that wrote to the
// database behind the store's back (a test, a repair) and needs this
// process to see it at once rather than within a second.
func (db *DB) ClearCache() { db.cache.clear() }

// put stores an entry through fill if the cache is still at generation
// gen.
func (c *readCache) put(gen uint64, fill func()) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen == gen {
		fill()
	}
}

// touchCache clears this process's read cache once tx commits; tx changes
// a token, source, project or settings row. (The triggers tell the other
// nodes.)
func (tx *Tx) touchCache() {
	if tx.touched {
		return
	}
	tx.touched = true
	tx.committed = append(tx.committed, tx.db.cache.clear)
}

func (c *readCache) token(hash string) (*cachedToken, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	t, ok := c.tokens[hash]
	if !ok {
		return nil, false
	}
	cp := *t
	cp.p.Permissions = slices.Clone(t.p.Permissions)
	return &cp, true
}

func (c *readCache) putToken(gen uint64, hash string, t cachedToken) {
	c.put(gen, func() {
		if c.tokens == nil {
			c.tokens = map[string]*cachedToken{}
		}
		t.p.Permissions = slices.Clone(t.p.Permissions)
		c.tokens[hash] = &t
	})
}

// usedToken records that a cached token's use was written at t.
func (c *readCache) usedToken(hash string, t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.tokens[hash]; ok {
		e.lastUsed = t
	}
}

func (c *readCache) source(k tenantKey) (*herald.Source, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	s, ok := c.sources[k]
	if !ok {
		return nil, false
	}
	cp := *s
	return &cp, true
}

func (c *readCache) putSource(gen uint64, k tenantKey, s herald.Source) {
	c.put(gen, func() {
		if c.sources == nil {
			c.sources = map[tenantKey]*herald.Source{}
		}
		c.sources[k] = &s
	})
}

// settingsRow returns a cached row; rows are never changed in place, so
// the pointer may be shared.
func (c *readCache) settingsRow(k settingsKey) (*settingsRow, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	r, ok := c.settings[k]
	return r, ok
}

func (c *readCache) putSettingsRow(gen uint64, k settingsKey, r *settingsRow) {
	c.put(gen, func() {
		if c.settings == nil {
			c.settings = map[settingsKey]*settingsRow{}
		}
		c.settings[k] = r
	})
}
