package store

import (
	"context"
	"time"
)

// QueueStat is how many River jobs of one kind are in one unfinished
// state, and, for available jobs, how long the oldest has waited.
type QueueStat struct {
	Kind  string // herald.fanout, herald.deliver, …
	State string // available, pending, retryable, running or scheduled
	Jobs  int
	// OldestAge is how long the oldest job of this kind and state has been
	// due (now less its scheduled_at; zero when none is due yet). For
	// available jobs it is the queue's lag.
	OldestAge time.Duration
}

// QueueStats reads the job queue's depth by kind and state across every
// tenant, for the metrics collector: one grouped query over the
// unfinished jobs, which River's state index reaches without touching the
// completed ones.
func (db *DB) QueueStats(ctx context.Context) ([]QueueStat, error) {
	age := `CAST(EXTRACT(EPOCH FROM (now() - MIN(scheduled_at))) AS DOUBLE PRECISION)`
	if db.dialect == DialectSQLite {
		age = `(julianday('now') - julianday(MIN(scheduled_at))) * 86400.0`
	}
	rows, err := db.read.QueryContext(ctx, `SELECT kind, state, COUNT(*), `+age+` FROM river_job
		WHERE state IN ('available', 'pending', 'retryable', 'running', 'scheduled') GROUP BY kind, state ORDER BY kind, state`)
	if err != nil {
		return nil, interpretError(err)
	}
	defer rows.Close()
	var out []QueueStat
	for rows.Next() {
		var (
			s    QueueStat
			secs float64
		)
		if err := rows.Scan(&s.Kind, &s.State, &s.Jobs, &secs); err != nil {
			return nil, err
		}
		if secs > 0 {
			s.OldestAge = time.Duration(secs * float64(time.Second))
		}
		out = append(out, s)
	}
	return out, rows.Err()
}
