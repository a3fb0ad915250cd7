package otp_test

import (
	"testing"
	"time"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/otp"
	"github.com/heraldhq/herald/store"
	"github.com/heraldhq/herald/store/storetest"
)

// spellings of one Chinese mobile number: international, without the +,
// with the 00 international prefix, and national.
var spellings = []string{"+8613800000000", "8613800000000", "008613800000000", "13800000000"}

// TestService_OneDestinationManySpellings checks that every spelling of a
// number is one destination: the resend interval and the daily cap count
// them together, the gateway is sent the E.164 form, and a code sent to one
// spelling verifies by another.
func TestService_OneDestinationManySpellings(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		b := setup(t, db, 5, otp.Config{DailyCap: len(spellings)})
		o, code := b.sendSMS(t, spellings[0], "login")
		if o.To != "+8613800000000" {
			t.Fatalf("destination = %q", o.To)
		}
		for _, s := range spellings[1:] {
			_, err := b.svc.SendOTP(b.ctx, herald.OTPSend{Channel: "sms", To: s, Purpose: "login"})
			wantFail(t, err, herald.ERATELIMITED, "try again in 30 seconds")
		}
		if _, err := b.svc.VerifyOTP(b.ctx, herald.OTPVerify{To: spellings[3], Purpose: "login", Code: code}); err != nil {
			t.Fatalf("verify by the national spelling: %v", err)
		}

		for _, s := range spellings[1:] {
			b.clock.Advance(31 * time.Second)
			b.sendSMS(t, s, "login")
		}
		b.clock.Advance(31 * time.Second)
		for _, s := range spellings {
			_, err := b.svc.SendOTP(b.ctx, herald.OTPSend{Channel: "sms", To: s, Purpose: "login"})
			wantFail(t, err, herald.ERATELIMITED, "4 codes in the last 24 hours")
		}
		for _, m := range b.gw.sent() {
			if m["to"] != "+8613800000000" {
				t.Errorf("the gateway was sent to %q", m["to"])
			}
		}
		// The last code, sent to the national spelling, verifies by the
		// international one.
		code = b.lastSMSCode(t)
		if _, err := b.svc.VerifyOTP(b.ctx, herald.OTPVerify{To: "+86 138 0000 0000", Purpose: "login", Code: code}); err != nil {
			t.Fatalf("verify by the international spelling: %v", err)
		}
	})
}

// TestService_EmailCase checks that an address in any case and spacing is
// one destination, so that case cannot bypass the limits.
func TestService_EmailCase(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		b := setup(t, db, 5, otp.Config{})
		if _, err := b.svc.SendOTP(b.ctx, herald.OTPSend{Channel: "email", To: "Ann.Lee@Example.COM", Purpose: "login"}); err != nil {
			t.Fatal(err)
		}
		for _, s := range []string{"ann.lee@example.com", " ANN.LEE@EXAMPLE.COM "} {
			_, err := b.svc.SendOTP(b.ctx, herald.OTPSend{Channel: "email", To: s, Purpose: "login"})
			wantFail(t, err, herald.ERATELIMITED, "try again in")
		}
	})
}

// TestService_DefaultRegion checks that a national number is read in the
// configured region, and that a number no region could dial is refused
// naming the field.
func TestService_DefaultRegion(t *testing.T) {
	t.Parallel()
	db := storetest.NewDB(t, store.DialectSQLite)
	b := setup(t, db, 5, otp.Config{DefaultRegion: "US"})
	if o, _ := b.sendSMS(t, "(202) 555-0123", "login"); o.To != "+12025550123" {
		t.Fatalf("destination = %q; want +12025550123", o.To)
	}
	for _, to := range []string{"call me", "+86 1380", "12", "+999 1234567"} {
		_, err := b.svc.SendOTP(b.ctx, herald.OTPSend{Channel: "sms", To: to, Purpose: "login"})
		if herald.ErrorCode(err) != herald.EINVALID || herald.ErrorField(err) != "to" {
			t.Errorf("SendOTP to %q = %v; want invalid to", to, err)
		}
	}
	if _, err := otp.New(otp.Config{Store: db, Settings: db, Notifiers: db, Projects: db, Key: make([]byte, 32), DefaultRegion: "XX"}); err == nil {
		t.Error("an unknown default region is accepted")
	}
}

// TestService_UnstorableText sends and verifies with text no database
// holds alike: each is EINVALID naming the field on both databases, where
// PostgreSQL answered an internal error for the code's id.
func TestService_UnstorableText(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		b := setup(t, db, 5, otp.Config{})
		for _, bad := range []string{"\x00", "\xff"} {
			for _, tt := range []struct {
				req   herald.OTPSend
				field string
			}{
				{herald.OTPSend{Channel: "sms" + bad, To: "+15550000050"}, "channel"},
				{herald.OTPSend{Channel: "sms", To: "+1555000005" + bad}, "to"},
				{herald.OTPSend{Channel: "email", To: "ann" + bad + "@example.com"}, "to"},
				{herald.OTPSend{Channel: "sms", To: "+15550000050", Purpose: bad}, "purpose"},
			} {
				if _, err := b.svc.SendOTP(b.ctx, tt.req); herald.ErrorCode(err) != herald.EINVALID || herald.ErrorField(err) != tt.field {
					t.Errorf("SendOTP(%#v) = %v; want invalid %s", tt.req, err, tt.field)
				}
			}
			for _, tt := range []struct {
				req   herald.OTPVerify
				field string
			}{
				{herald.OTPVerify{ID: "otp_" + bad, Code: "12345"}, "id"},
				{herald.OTPVerify{To: "+15550000050" + bad, Purpose: "login", Code: "12345"}, "to"},
				{herald.OTPVerify{ID: "otp_A", Code: "1234" + bad}, "code"},
			} {
				if _, err := b.svc.VerifyOTP(b.ctx, tt.req); herald.ErrorCode(err) != herald.EINVALID || herald.ErrorField(err) != tt.field {
					t.Errorf("VerifyOTP(%#v) = %v; want invalid %s", tt.req, err, tt.field)
				}
			}
		}
		if n := len(b.gw.sent()); n != 0 {
			t.Fatalf("the gateway got %d messages", n)
		}
	})
}
