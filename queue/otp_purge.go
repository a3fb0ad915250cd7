package queue

import (
	"context"
	"time"

	"github.com/riverqueue/river"
)

// OTPPurgeArgs is the periodic job that purges expired one-time codes.
type OTPPurgeArgs struct{}

// Kind names the job for River.
func (OTPPurgeArgs) Kind() string { return "herald.otp_purge" }

// OTPPurgeInterval is how often expired one-time codes are purged.
const OTPPurgeInterval = 10 * time.Minute

// otpPurgeJob is the periodic job the engine's leader inserts every
// OTPPurgeInterval, and once at start.
func otpPurgeJob() *river.PeriodicJob {
	return river.NewPeriodicJob(river.PeriodicInterval(OTPPurgeInterval),
		func() (river.JobArgs, *river.InsertOpts) { return OTPPurgeArgs{}, nil },
		&river.PeriodicJobOpts{ID: "herald.otp_purge", RunOnStart: true})
}

// otpPurgeWorker clears the hashes of expired codes and deletes their rows
// once the daily cap no longer counts them (store.DB.PurgeExpiredOTPs).
type otpPurgeWorker struct {
	river.WorkerDefaults[OTPPurgeArgs]
	e *Engine
}

func (w *otpPurgeWorker) Work(ctx context.Context, _ *river.Job[OTPPurgeArgs]) error {
	n, err := w.e.db.PurgeExpiredOTPs(ctx, time.Now())
	if err != nil {
		return err
	}
	if n > 0 {
		w.e.logger.InfoContext(ctx, "purged expired one-time codes", "count", n)
	}
	return nil
}
