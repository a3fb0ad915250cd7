package otp_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/metrics"
	"github.com/heraldhq/herald/otp"
	"github.com/heraldhq/herald/store"
	"github.com/heraldhq/herald/store/storetest"
)

// Every send and verification is counted by its outcome, decided in the
// service.
func TestService_Metrics(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		reg := prometheus.NewRegistry()
		b := setup(t, db, 5, otp.Config{Metrics: metrics.New(reg), MaxAttempts: 2})
		verify := func(v herald.OTPVerify) { _, _ = b.svc.VerifyOTP(b.ctx, v) }

		o, code := b.sendSMS(t, "+15550000030", "login") // sent
		wrong := "00000"
		if code == wrong {
			wrong = "11111"
		}
		verify(herald.OTPVerify{ID: o.ID, Code: wrong})                                                   // wrong
		verify(herald.OTPVerify{ID: o.ID, Code: code})                                                    // verified
		verify(herald.OTPVerify{ID: o.ID, Code: code})                                                    // used
		verify(herald.OTPVerify{ID: "otp_NOSUCHCODE", Code: code})                                        // not_found
		verify(herald.OTPVerify{To: "+15550000030", Code: "12a45"})                                       // rejected
		_, _ = b.svc.SendOTP(b.ctx, herald.OTPSend{Channel: "sms", To: "+15550000030", Purpose: "login"}) // rate_limited
		_, _ = b.svc.SendOTP(b.ctx, herald.OTPSend{Channel: "fax", To: "+15550000031"})                   // rejected, other

		o, code = b.sendSMS(t, "+15550000032", "login") // sent
		verify(herald.OTPVerify{ID: o.ID, Code: wrong})
		verify(herald.OTPVerify{ID: o.ID, Code: wrong}) // wrong twice: locked by the second
		verify(herald.OTPVerify{ID: o.ID, Code: code})  // locked

		o, code = b.sendSMS(t, "+15550000033", "login") // sent
		b.clock.Advance(time.Hour)
		verify(herald.OTPVerify{ID: o.ID, Code: code}) // expired

		b.gw.setStatus(http.StatusBadRequest)
		_, _ = b.svc.SendOTP(b.ctx, herald.OTPSend{Channel: "sms", To: "+15550000034", Purpose: "login"}) // failed

		want := `
# HELP herald_otp_sends_total One-time code send requests by channel and outcome: sent, failed (the notifier could not send), rate_limited (resend interval or daily cap), rejected (bad request or no notifier), error.
# TYPE herald_otp_sends_total counter
herald_otp_sends_total{channel="other",outcome="rejected"} 1
herald_otp_sends_total{channel="sms",outcome="failed"} 1
herald_otp_sends_total{channel="sms",outcome="rate_limited"} 1
herald_otp_sends_total{channel="sms",outcome="sent"} 3
# HELP herald_otp_verifications_total One-time code verifications by outcome: verified, wrong, expired, locked, used, replaced, not_found, conflict, rejected, error.
# TYPE herald_otp_verifications_total counter
herald_otp_verifications_total{outcome="expired"} 1
herald_otp_verifications_total{outcome="locked"} 1
herald_otp_verifications_total{outcome="not_found"} 1
herald_otp_verifications_total{outcome="rejected"} 1
herald_otp_verifications_total{outcome="used"} 1
herald_otp_verifications_total{outcome="verified"} 1
herald_otp_verifications_total{outcome="wrong"} 3
`
		if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "herald_otp_sends_total", "herald_otp_verifications_total"); err != nil {
			t.Error(err)
		}
	})
}
