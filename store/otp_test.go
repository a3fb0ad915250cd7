package store_test

import (
	"testing"
	"time"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/store"
	"github.com/heraldhq/herald/store/storetest"
)

func otpInt(v int) *int { return &v }

func TestNotificationSettings(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := storetest.NewTenant(t, db, "acme")
		p, other := &herald.Project{Name: "shop"}, &herald.Project{Name: "blog"}
		for _, pr := range []*herald.Project{p, other} {
			if err := db.CreateProject(ctx, pr); err != nil {
				t.Fatal(err)
			}
		}
		newNotifier := func(project int64, typ, name string) *herald.Notifier {
			n := &herald.Notifier{ProjectID: project, Type: typ, Name: name}
			switch typ {
			case herald.NotifierEmail:
				n.Config = herald.NotifierConfig{Host: "smtp.example.com", From: "a@example.com"}
			default:
				n.Config = herald.NotifierConfig{URL: "https://sms.example.com/send"}
			}
			if err := db.CreateNotifier(ctx, n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		smsN := newNotifier(p.ID, herald.NotifierSMS, "ippanel_one")
		mailN := newNotifier(p.ID, herald.NotifierEmail, "moeinmail")
		hook := newNotifier(p.ID, herald.NotifierWebhook, "hook")
		foreign := newNotifier(other.ID, herald.NotifierSMS, "blog sms")

		got, err := db.FindNotificationSettings(ctx, p.ID)
		if err != nil || got.SMSNotifier != nil || got.EmailNotifier != nil || got.OTPCodeLen != 5 || got.OTPTTL != 120 {
			t.Fatalf("defaults = %+v, %v", got, err)
		}

		got, err = db.UpdateNotificationSettings(ctx, p.ID, herald.NotificationSettingsUpdate{
			SMSNotifier: &herald.NullableID{ID: smsN.ID}, EmailNotifier: &herald.NullableID{ID: mailN.ID}, OTPCodeLen: otpInt(6), OTPTTL: otpInt(180),
		})
		if err != nil || got.SMSNotifier.Name != "ippanel_one" || got.EmailNotifier.ID != mailN.ID || got.OTPCodeLen != 6 || got.OTPTTL != 180 {
			t.Fatalf("update = %+v, %v", got, err)
		}

		for name, tt := range map[string]struct {
			u     herald.NotificationSettingsUpdate
			field string
		}{
			"UnknownNotifier":  {herald.NotificationSettingsUpdate{SMSNotifier: &herald.NullableID{ID: 9999}}, herald.FieldSMSNotifier},
			"ZeroNotifier":     {herald.NotificationSettingsUpdate{EmailNotifier: &herald.NullableID{ID: 0}}, herald.FieldEmailNotifier},
			"OtherProject":     {herald.NotificationSettingsUpdate{SMSNotifier: &herald.NullableID{ID: foreign.ID}}, herald.FieldSMSNotifier},
			"EmailInSMSSlot":   {herald.NotificationSettingsUpdate{SMSNotifier: &herald.NullableID{ID: mailN.ID}}, herald.FieldSMSNotifier},
			"SMSInEmailSlot":   {herald.NotificationSettingsUpdate{EmailNotifier: &herald.NullableID{ID: smsN.ID}}, herald.FieldEmailNotifier},
			"WebhookInSMSSlot": {herald.NotificationSettingsUpdate{SMSNotifier: &herald.NullableID{ID: hook.ID}}, herald.FieldSMSNotifier},
			"CodeLenLow":       {herald.NotificationSettingsUpdate{OTPCodeLen: otpInt(3)}, herald.FieldOTPCodeLen},
			"CodeLenHigh":      {herald.NotificationSettingsUpdate{OTPCodeLen: otpInt(11)}, herald.FieldOTPCodeLen},
			"TTLLow":           {herald.NotificationSettingsUpdate{OTPTTL: otpInt(29)}, herald.FieldOTPTTL},
			"TTLHigh":          {herald.NotificationSettingsUpdate{OTPTTL: otpInt(86401)}, herald.FieldOTPTTL},
			// One bad field refuses the whole update.
			"MixedWithValid": {herald.NotificationSettingsUpdate{OTPCodeLen: otpInt(8), EmailNotifier: &herald.NullableID{ID: hook.ID}}, herald.FieldEmailNotifier},
		} {
			_, err := db.UpdateNotificationSettings(ctx, p.ID, tt.u)
			if herald.ErrorCode(err) != herald.EINVALID || herald.ErrorField(err) != tt.field {
				t.Errorf("%s: err = %v; want invalid %s", name, err, tt.field)
			}
		}
		if got, _ := db.FindNotificationSettings(ctx, p.ID); got.OTPCodeLen != 6 || got.EmailNotifier.ID != mailN.ID {
			t.Fatalf("a refused update changed the settings: %+v", got)
		}

		// Bounds are inclusive; only the fields given change; null clears.
		got, err = db.UpdateNotificationSettings(ctx, p.ID, herald.NotificationSettingsUpdate{OTPCodeLen: otpInt(10), OTPTTL: otpInt(30), EmailNotifier: &herald.NullableID{Null: true}})
		if err != nil || got.OTPCodeLen != 10 || got.OTPTTL != 30 || got.EmailNotifier != nil || got.SMSNotifier.ID != smsN.ID {
			t.Fatalf("update = %+v, %v", got, err)
		}

		// Deleting a notifier empties its slot.
		if err := db.DeleteNotifier(ctx, smsN.ID); err != nil {
			t.Fatal(err)
		}
		if got, _ := db.FindNotificationSettings(ctx, p.ID); got.SMSNotifier != nil {
			t.Fatalf("slot of a deleted notifier = %+v", got.SMSNotifier)
		}

		// Another tenant sees neither the project nor its notifiers.
		globex := storetest.NewTenant(t, db, "globex")
		if _, err := db.FindNotificationSettings(globex, p.ID); herald.ErrorCode(err) != herald.ENOTFOUND {
			t.Errorf("foreign project: %v", err)
		}
		gp := &herald.Project{Name: "g"}
		if err := db.CreateProject(globex, gp); err != nil {
			t.Fatal(err)
		}
		_, err = db.UpdateNotificationSettings(globex, gp.ID, herald.NotificationSettingsUpdate{EmailNotifier: &herald.NullableID{ID: mailN.ID}})
		if herald.ErrorField(err) != herald.FieldEmailNotifier {
			t.Errorf("foreign notifier: %v", err)
		}
	})
}

func TestPurgeExpiredOTPs(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := storetest.NewTenant(t, db, "acme")
		p := &herald.Project{Name: "shop"}
		if err := db.CreateProject(ctx, p); err != nil {
			t.Fatal(err)
		}
		now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
		add := func(id, to string, created time.Time) {
			o := &herald.OTP{ID: id, ProjectID: p.ID, Channel: "sms", To: to, NotifierID: 1, CreatedAt: created,
				ExpiresAt: created.Add(2 * time.Minute), CodeHash: "aa"}
			if err := db.CreateOTP(ctx, o, herald.OTPLimits{}); err != nil {
				t.Fatal(err)
			}
		}
		add("old", "+15550000001", now.Add(-25*time.Hour))
		add("recent", "+15550000002", now.Add(-time.Hour))
		add("live", "+15550000003", now)
		n, err := db.PurgeExpiredOTPs(ctx, now)
		if err != nil || n != 1 {
			t.Fatalf("purged %d, %v; want 1", n, err)
		}
		var ids, hashes []string
		rows, err := db.SQL().Query(`SELECT public_id, code_hash FROM otps ORDER BY id`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		for rows.Next() {
			var id, h string
			if err := rows.Scan(&id, &h); err != nil {
				t.Fatal(err)
			}
			ids, hashes = append(ids, id), append(hashes, h)
		}
		// The expired code of the last day stays, for the daily cap, without
		// its hash; the live one keeps its hash.
		if len(ids) != 2 || ids[0] != "recent" || hashes[0] != "" || ids[1] != "live" || hashes[1] != "aa" {
			t.Fatalf("left %v %v", ids, hashes)
		}
	})
}
