package queue

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
)

// River's client keeps timers running while it has nothing to do (its job
// completer wakes every 50 ms, which alone costs an idle node about 0.4 %
// of a core on a 2-core VM), so a node that has worked no job for
// SuspendAfter stops the client, and the dispatcher, which runs
// throughout, starts it again when there is work:
//
//   - a commit of this process enqueued jobs to run now (store.DB.WatchJobs;
//     the dispatcher's own rounds enqueue what falls due);
//   - a round finds River jobs waiting (enqueued by another process, or by
//     a node that died), within IdleWait;
//   - every maintainEvery, so that River's leader maintenance (the periodic
//     purge of one-time codes, cleaning finished jobs) keeps running.
//
// Stopping is graceful and happens only with no job in hand; leases,
// heartbeats and the dispatcher do not depend on the client.

// maintainEvery is how often a suspended node runs River for its
// maintenance, for SuspendAfter.
const maintainEvery = OTPPurgeInterval

// activity counts the jobs in hand and when the last one ended.
type activity struct {
	river.MiddlewareDefaults
	busy atomic.Int64
	last atomic.Int64 // unix nanoseconds
}

func (a *activity) Work(ctx context.Context, job *rivertype.JobRow, doInner func(context.Context) error) error {
	a.busy.Add(1)
	a.last.Store(time.Now().UnixNano())
	defer func() {
		a.last.Store(time.Now().UnixNano())
		a.busy.Add(-1)
	}()
	return doInner(ctx)
}

// idleSince is when the node last worked a job, zero while it works one.
func (a *activity) idleSince() time.Time {
	if a.busy.Load() > 0 {
		return time.Time{}
	}
	return time.Unix(0, a.last.Load())
}

// Working reports whether the node's River client runs (false while it is
// suspended for want of work).
func (e *Engine) Working() bool { return e.working.Load() }

// resume starts River's client if it is suspended.
func (e *Engine) resume() {
	if e.working.Load() {
		return
	}
	if err := e.client.Start(e.ctx); err != nil {
		e.logger.Warn("start the job queue", "err", err)
		return
	}
	e.working.Store(true)
	e.activity.last.Store(time.Now().UnixNano())
	e.logger.Debug("job queue resumed")
}

// suspendAt is when the node may stop River's client, zero while it
// must not (it is stopped, or works a job).
func (e *Engine) suspendAt() time.Time {
	if !e.working.Load() {
		return time.Time{}
	}
	since := e.activity.idleSince()
	if since.IsZero() {
		return time.Time{}
	}
	return since.Add(e.cfg.SuspendAfter)
}

// maybeSuspend stops River's client once the node has worked nothing for
// SuspendAfter and River has no job waiting.
func (e *Engine) maybeSuspend() {
	at := e.suspendAt()
	if at.IsZero() || time.Now().Before(at) {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(e.ctx), 30*time.Second)
	defer cancel()
	if err := e.client.Stop(ctx); err != nil {
		e.logger.Warn("suspend the job queue", "err", err)
		return
	}
	e.working.Store(false)
	e.suspendedAt = time.Now()
	e.logger.Debug("job queue suspended: no work")
}
