package queue

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/store"
	"github.com/heraldhq/herald/store/storetest"
	"github.com/riverqueue/river"
)

func TestOTPPurgeWorker(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := storetest.NewTenant(t, db, "acme")
		p := &herald.Project{Name: "shop"}
		if err := db.CreateProject(ctx, p); err != nil {
			t.Fatal(err)
		}
		created := time.Now().Add(-48 * time.Hour)
		if err := db.CreateOTP(ctx, &herald.OTP{ID: "otp_OLD", ProjectID: p.ID, Channel: "sms", To: "+15550000000", NotifierID: 1,
			CreatedAt: created, ExpiresAt: created.Add(time.Minute), CodeHash: "aa"}, herald.OTPLimits{}); err != nil {
			t.Fatal(err)
		}
		w := &otpPurgeWorker{e: &Engine{db: db, logger: slog.New(slog.DiscardHandler)}}
		if err := w.Work(context.Background(), &river.Job[OTPPurgeArgs]{}); err != nil {
			t.Fatal(err)
		}
		var n int
		if err := db.SQL().QueryRow(`SELECT COUNT(*) FROM otps`).Scan(&n); err != nil || n != 0 {
			t.Fatalf("%d codes left, %v", n, err)
		}
		if otpPurgeJob() == nil {
			t.Fatal("no periodic job")
		}
	})
}
