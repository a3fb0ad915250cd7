package store

import (
	"context"
	"database/sql"
	"slices"
	"time"

	"github.com/heraldhq/herald"
)

var _ herald.NotificationSettingsService = (*DB)(nil)

// FindNotificationSettings returns a project's notification settings: the
// defaults when it saved none.
func (db *DB) FindNotificationSettings(ctx context.Context, projectID int64) (*herald.NotificationSettings, error) {
	c, err := db.reader(ctx)
	if err != nil {
		return nil, err
	}
	return c.notificationSettings(projectID)
}

func (c conn) notificationSettings(projectID int64) (*herald.NotificationSettings, error) {
	if _, err := c.findProject(projectID); err != nil {
		return nil, err
	}
	s := herald.DefaultNotificationSettings(projectID)
	var (
		smsID, emailID     sql.NullInt64
		smsName, emailName sql.NullString
	)
	err := c.queryRow(`SELECT s.otp_code_len, s.otp_ttl, s.sms_notifier_id, ns.name, s.email_notifier_id, ne.name
		FROM project_notification_settings s
		LEFT JOIN notifiers ns ON ns.id = s.sms_notifier_id AND ns.tenant_id = s.tenant_id
		LEFT JOIN notifiers ne ON ne.id = s.email_notifier_id AND ne.tenant_id = s.tenant_id
		WHERE s.tenant_id = ? AND s.project_id = ?`, c.tenantID, projectID).
		Scan(&s.OTPCodeLen, &s.OTPTTL, &smsID, &smsName, &emailID, &emailName)
	if err == sql.ErrNoRows {
		return s, nil
	} else if err != nil {
		return nil, err
	}
	if smsID.Valid && smsName.Valid {
		s.SMSNotifier = &herald.NotifierRef{ID: smsID.Int64, Name: smsName.String, Type: herald.NotifierSMS}
	}
	if emailID.Valid && emailName.Valid {
		s.EmailNotifier = &herald.NotifierRef{ID: emailID.Int64, Name: emailName.String, Type: herald.NotifierEmail}
	}
	return s, nil
}

// UpdateNotificationSettings applies u to a project's notification
// settings and returns them as stored. Each notifier named must be one of
// the project's, of the slot's type. Every field at fault is reported at
// once (herald.FieldErrors).
func (db *DB) UpdateNotificationSettings(ctx context.Context, projectID int64, u herald.NotificationSettingsUpdate) (*herald.NotificationSettings, error) {
	verr := u.Validate()
	if verr != nil && herald.ErrorCode(verr) != herald.EINVALID {
		return nil, verr
	}
	invalid := herald.ErrorFields(verr)
	faulty := map[string]bool{}
	for _, e := range invalid {
		faulty[e.Field] = true
	}
	var out *herald.NotificationSettings
	err := db.update(ctx, func(tx *Tx) error {
		c := tx.conn()
		errs := herald.FieldErrors(slices.Clone(invalid)) // the closure may run again
		s, err := c.notificationSettings(projectID)
		if err != nil {
			return err
		}
		slots := []struct {
			field string
			in    *herald.NullableID
			ref   **herald.NotifierRef
		}{
			{herald.FieldSMSNotifier, u.SMSNotifier, &s.SMSNotifier},
			{herald.FieldEmailNotifier, u.EmailNotifier, &s.EmailNotifier},
		}
		for _, slot := range slots {
			switch {
			case slot.in == nil, faulty[slot.field]:
			case slot.in.Null:
				*slot.ref = nil
			default:
				n, err := c.findNotifier(slot.in.ID)
				if herald.ErrorCode(err) == herald.ENOTFOUND {
					n, err = nil, nil
				}
				if err != nil {
					return err
				}
				if err := herald.CheckNotifierSlot(slot.field, slot.in.ID, projectID, n); err != nil {
					errs = append(errs, herald.ErrorFields(err)...)
					continue
				}
				*slot.ref = &herald.NotifierRef{ID: n.ID, Name: n.Name, Type: n.Type}
			}
		}
		if err := errs.Err(); err != nil {
			return err
		}
		if u.OTPCodeLen != nil {
			s.OTPCodeLen = *u.OTPCodeLen
		}
		if u.OTPTTL != nil {
			s.OTPTTL = *u.OTPTTL
		}
		refID := func(r *herald.NotifierRef) any {
			if r == nil {
				return nil
			}
			return r.ID
		}
		res, err := c.exec(`UPDATE project_notification_settings SET sms_notifier_id = ?, email_notifier_id = ?, otp_code_len = ?, otp_ttl = ?, updated_at = ?
			WHERE tenant_id = ? AND project_id = ?`, refID(s.SMSNotifier), refID(s.EmailNotifier), s.OTPCodeLen, s.OTPTTL, ms(tx.now), tx.tenantID, projectID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			if _, err := c.exec(`INSERT INTO project_notification_settings (project_id, tenant_id, sms_notifier_id, email_notifier_id, otp_code_len, otp_ttl, updated_at)
				VALUES (?, ?, ?, ?, ?, ?, ?)`, projectID, tx.tenantID, refID(s.SMSNotifier), refID(s.EmailNotifier), s.OTPCodeLen, s.OTPTTL, ms(tx.now)); err != nil {
				return err
			}
		}
		out = s
		return nil
	})
	return out, err
}

const otpCols = `id, public_id, project_id, notifier_id, channel, destination, purpose, status, attempts, code_hash, created_at, expires_at`

func scanOTP(row scanner) (*herald.OTP, int64, error) {
	var (
		o                int64
		otp              herald.OTP
		created, expires int64
	)
	if err := row.Scan(&o, &otp.ID, &otp.ProjectID, &otp.NotifierID, &otp.Channel, &otp.To, &otp.Purpose,
		&otp.Status, &otp.Attempts, &otp.CodeHash, &created, &expires); err != nil {
		return nil, 0, err
	}
	otp.CreatedAt, otp.ExpiresAt = fromMS(created), fromMS(expires)
	return &otp, o, nil
}

// CreateOTP stores a code about to be sent, after checking the limits of
// its destination: at most one code per lim.ResendInterval and lim.DailyCap
// codes per 24 hours (ERATELIMITED). It replaces the active code of the
// same destination and purpose. o arrives complete (id, hash, times): the
// otp package owns the clock and the hashing.
func (db *DB) CreateOTP(ctx context.Context, o *herald.OTP, lim herald.OTPLimits) error {
	return db.update(ctx, func(tx *Tx) error {
		c := tx.conn()
		now := o.CreatedAt
		// Replace first: on PostgreSQL the UPDATE locks the active rows of
		// this destination, so two concurrent sends queue here and the
		// second one's count below sees the first one's code.
		if _, err := c.exec(`UPDATE otps SET status = ?, code_hash = '', closed_at = ?
			WHERE tenant_id = ? AND project_id = ? AND destination = ? AND purpose = ? AND status = ?`,
			herald.OTPReplaced, ms(now), tx.tenantID, o.ProjectID, o.To, o.Purpose, herald.OTPActive); err != nil {
			return err
		}
		var (
			last  sql.NullInt64
			count int
		)
		if err := c.queryRow(`SELECT MAX(created_at), COUNT(*) FROM otps WHERE tenant_id = ? AND destination = ? AND created_at > ?`,
			tx.tenantID, o.To, ms(now.Add(-24*time.Hour))).Scan(&last, &count); err != nil {
			return err
		}
		if last.Valid && lim.ResendInterval > 0 {
			if wait := fromMS(last.Int64).Add(lim.ResendInterval).Sub(now); wait > 0 {
				return herald.Errorf(herald.ERATELIMITED, "", "A code was sent to this destination less than %d seconds ago; try again in %d seconds.",
					int(lim.ResendInterval/time.Second), int((wait+time.Second-1)/time.Second))
			}
		}
		if lim.DailyCap > 0 && count >= lim.DailyCap {
			return herald.Errorf(herald.ERATELIMITED, "", "This destination has been sent %d codes in the last 24 hours, the most allowed; try again later.", count)
		}
		o.Status, o.Attempts = herald.OTPActive, 0
		_, err := c.insert(`INSERT INTO otps (public_id, tenant_id, project_id, notifier_id, channel, destination, purpose, status, attempts, code_hash, created_at, expires_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?, ?)`,
			o.ID, tx.tenantID, o.ProjectID, o.NotifierID, o.Channel, o.To, o.Purpose, o.Status, o.CodeHash, ms(o.CreatedAt), ms(o.ExpiresAt))
		return err
	})
}

// DeleteOTP removes a code that could not be sent, so that it neither
// verifies nor counts against its destination's limits.
func (db *DB) DeleteOTP(ctx context.Context, id string) error {
	return db.update(ctx, func(tx *Tx) error {
		_, err := tx.conn().exec(`DELETE FROM otps WHERE tenant_id = ? AND public_id = ?`, tx.tenantID, id)
		return err
	})
}

// CheckOTP verifies a code of project v.ProjectID: the code v.ID, or else
// the latest code sent to v.To for v.Purpose. It asks match whether the
// code is right (the otp package compares hashes); a right code becomes
// used, a wrong one counts an attempt and the maxAttempts-th locks it. The
// outcome is committed whatever it is; the error says why a code failed
// (see herald.OTP.Usable and herald.OTPWrongCode).
func (db *DB) CheckOTP(ctx context.Context, v herald.OTPVerify, now time.Time, maxAttempts int, match func(*herald.OTP) bool) (*herald.OTP, error) {
	var (
		out     *herald.OTP
		verdict error
	)
	err := db.update(ctx, func(tx *Tx) error {
		c := tx.conn()
		var row *sql.Row
		if v.ID != "" {
			row = c.queryRow(`SELECT `+otpCols+` FROM otps WHERE tenant_id = ? AND project_id = ? AND public_id = ?`, tx.tenantID, v.ProjectID, v.ID)
		} else {
			row = c.queryRow(`SELECT `+otpCols+` FROM otps WHERE tenant_id = ? AND project_id = ? AND destination = ? AND purpose = ? ORDER BY id DESC LIMIT 1`,
				tx.tenantID, v.ProjectID, v.To, v.Purpose)
		}
		o, id, err := scanOTP(row)
		if err == sql.ErrNoRows {
			if v.ID != "" {
				return herald.Errorf(herald.ENOTFOUND, "", "code %q not found", v.ID)
			}
			return herald.Errorf(herald.EINVALID, "code", "No code was sent to this destination for this purpose; request one.")
		} else if err != nil {
			return err
		}
		out = o
		if verdict = o.Usable(now, maxAttempts); verdict != nil {
			return nil
		}
		// The conditions on status and attempts make a concurrent check of
		// the same code lose instead of both counting from one reading.
		const guard = ` WHERE id = ? AND status = ? AND attempts = ?`
		var res sql.Result
		if match(o) {
			o.Status = herald.OTPUsed
			res, err = c.exec(`UPDATE otps SET status = ?, code_hash = '', closed_at = ?`+guard,
				herald.OTPUsed, ms(now), id, herald.OTPActive, o.Attempts)
		} else {
			o.Attempts++
			verdict = herald.OTPWrongCode(maxAttempts - o.Attempts)
			if o.Attempts >= maxAttempts {
				o.Status = herald.OTPLocked
				res, err = c.exec(`UPDATE otps SET status = ?, attempts = attempts + 1, code_hash = '', closed_at = ?`+guard,
					herald.OTPLocked, ms(now), id, herald.OTPActive, o.Attempts-1)
			} else {
				res, err = c.exec(`UPDATE otps SET attempts = attempts + 1`+guard, id, herald.OTPActive, o.Attempts-1)
			}
		}
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			verdict = herald.Errorf(herald.EINVALID, "code", "This code was being checked by another request at the same time; try again.")
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, verdict
}

// PurgeExpiredOTPs purges, in every tenant, the codes that expired before
// before and returns how many rows it deleted. An expired code loses its
// hash at once; its row stays until it is 24 hours old, because the daily
// cap of its destination counts it.
func (db *DB) PurgeExpiredOTPs(ctx context.Context, before time.Time) (int, error) {
	if _, err := db.write.ExecContext(ctx, db.rebind(`UPDATE otps SET code_hash = '' WHERE expires_at < ? AND code_hash <> ''`), ms(before)); err != nil {
		return 0, err
	}
	res, err := db.write.ExecContext(ctx, db.rebind(`DELETE FROM otps WHERE expires_at < ? AND created_at < ?`),
		ms(before), ms(before.Add(-24*time.Hour)))
	if err != nil {
		return 0, err
	}
	n, err := res.RowsAffected()
	return int(n), err
}
