package store

import (
	"context"
	"database/sql"
	"slices"

	"github.com/heraldhq/herald"
)

// Settings workflows: a surface's change applied to live or draft settings
// together with the notifiers it needs, in one transaction.

// settingsTx is the herald.SettingsTx a workflow's change runs with.
type settingsTx struct {
	tx        *Tx
	projectID int64
}

var _ herald.SettingsTx = (*settingsTx)(nil)

// Notifiers lists the project's notifiers, oldest first.
func (s *settingsTx) Notifiers() ([]*herald.Notifier, error) {
	return s.tx.projectNotifiers(s.projectID, "")
}

// EnsureNotifier finds, creates or re-points the project's notifier spec
// asks for.
func (s *settingsTx) EnsureNotifier(spec herald.NotifierSpec) (*herald.Notifier, error) {
	if spec.ProjectID != 0 && spec.ProjectID != s.projectID {
		return nil, herald.Errorf(herald.EINVALID, "project_id", "a settings workflow of project %d cannot ensure a notifier of project %d", s.projectID, spec.ProjectID)
	}
	spec.ProjectID = s.projectID
	return s.tx.ensureNotifier(spec)
}

// projectNotifiers lists a project's notifiers (of one type unless typ is
// ""), oldest first.
func (tx *Tx) projectNotifiers(projectID int64, typ string) ([]*herald.Notifier, error) {
	q, args := `SELECT `+notifierCols+` FROM notifiers WHERE tenant_id = ? AND project_id = ?`, []any{tx.tenantID, projectID}
	if typ != "" {
		q, args = q+` AND type = ?`, append(args, typ)
	}
	rows, err := tx.conn().query(q+` ORDER BY id`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*herald.Notifier
	for rows.Next() {
		n, err := tx.db.scanNotifier(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, rows.Err()
}

// ensureNotifier applies the domain's NotifierSpec rule. The project's row
// is locked first, so that two transactions ensuring the same notifier on
// PostgreSQL create it once (SQLite has a single writer anyway).
func (tx *Tx) ensureNotifier(spec herald.NotifierSpec) (*herald.Notifier, error) {
	if err := spec.Validate(); err != nil {
		return nil, err
	}
	res, err := tx.conn().exec(`UPDATE projects SET updated_at = updated_at WHERE tenant_id = ? AND id = ?`, tx.tenantID, spec.ProjectID)
	if err != nil {
		return nil, err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return nil, notFound("project", spec.ProjectID)
	}
	ns, err := tx.projectNotifiers(spec.ProjectID, spec.Type)
	if err != nil {
		return nil, err
	}
	found := spec.Match(ns)
	if found == nil {
		n, err := spec.New()
		if err != nil {
			return nil, err
		}
		return n, tx.insertNotifier(n)
	}
	n, changed, err := spec.Reconfigure(found)
	if err != nil || !changed {
		return n, err
	}
	return n, tx.saveNotifier(n)
}

// EnsureNotifier finds, creates or re-points the notifier spec asks for,
// in a transaction of its own.
func (db *DB) EnsureNotifier(ctx context.Context, spec herald.NotifierSpec) (*herald.Notifier, error) {
	var out *herald.Notifier
	err := db.update(ctx, func(tx *Tx) error {
		var err error
		out, err = tx.ensureNotifier(spec)
		return err
	})
	return out, err
}

// lockSettings reads a scope's row for a write. The no-op UPDATE holds the
// row until the transaction ends, so that on PostgreSQL concurrent
// workflows on one scope run one after the other instead of one of them
// losing; the read that follows sees the latest committed row.
func (tx *Tx) lockSettings(scope herald.SettingsScope) (*settingsRow, error) {
	tx.touchCache()
	if _, err := tx.conn().exec(`UPDATE settings SET revision = revision WHERE tenant_id = ? AND project_id = ? AND source_id = ?`,
		tx.tenantID, scope.ProjectID, scope.SourceID); err != nil {
		return nil, err
	}
	return tx.conn().findSettingsRow(scope)
}

// changeVersion runs change on one version of the row inside the
// transaction and checks the result as UpdateSettings checks a draft.
func (tx *Tx) changeVersion(r *settingsRow, version string, change herald.SettingsChangeFunc) (*herald.Settings, error) {
	s, err := r.settings(version)
	if err != nil {
		return nil, err
	}
	if err := change(&settingsTx{tx: tx, projectID: r.projectID}, s); err != nil {
		return nil, err
	}
	if err := s.Validate(); err != nil {
		return nil, err
	}
	return s, tx.checkNotifiers(r.projectID, s)
}

// checkNotifiers refuses channels whose notifier is not one of project's.
func (tx *Tx) checkNotifiers(projectID int64, s *herald.Settings) error {
	ids, err := tx.conn().ids(`SELECT id FROM notifiers WHERE tenant_id = ? AND project_id = ?`, tx.tenantID, projectID)
	if err != nil {
		return err
	}
	for i, ch := range s.Channels {
		if !slices.Contains(ids, ch.NotifierID) {
			return herald.Errorf(herald.EINVALID, "channels["+itoa(i)+"].notifier_id", "notifier %d is not a notifier of project %d", ch.NotifierID, projectID)
		}
	}
	return nil
}

// lockAtRevision locks ref's settings row and checks ref's revision.
func (tx *Tx) lockAtRevision(ref herald.SettingsRef) (*settingsRow, error) {
	r, err := tx.lockSettings(ref.Scope)
	if err != nil {
		return nil, err
	}
	if ref.Revision != herald.NoRevisionCheck && ref.Revision != r.revision {
		return nil, staleRevision(r, ref.Revision)
	}
	return r, nil
}

// ApplyLive applies change to the live settings, rebasing the draft, in
// one transaction.
func (db *DB) ApplyLive(ctx context.Context, ref herald.SettingsRef, change herald.SettingsChangeFunc) (*herald.Settings, error) {
	if err := checkRevisionArg(ref.Revision); err != nil {
		return nil, err
	}
	var out *herald.Settings
	err := db.update(ctx, func(tx *Tx) error {
		r, err := tx.lockAtRevision(ref)
		if err != nil {
			return err
		}
		live, err := tx.changeVersion(r, herald.VersionLive, change)
		if err != nil {
			return err
		}
		liveDoc, draftDoc := docOf(live), docOf(live)
		if r.draft != r.live {
			// Pending draft edits stay pending: the draft gets the same
			// change on top of them.
			draft, err := tx.changeVersion(r, herald.VersionDraft, change)
			if err != nil {
				return err
			}
			draftDoc = docOf(draft)
		}
		at, by := ms(tx.now), actor(ctx)
		if _, err := tx.conn().exec(`UPDATE settings SET draft = ?, live = ?, revision = revision + 1, live_revision = revision + 1,
			updated_at = ?, updated_by = ?, deployed_at = ?, deployed_by = ? WHERE id = ?`,
			draftDoc, liveDoc, at, by, at, by, r.id); err != nil {
			return err
		}
		r.draft, r.live, r.revision, r.liveRevision = draftDoc, liveDoc, r.revision+1, r.revision+1
		r.updatedAt, r.updatedBy, r.deployedAt, r.deployedBy = at, by, sql.NullInt64{Int64: at, Valid: true}, by
		if out, err = r.settings(herald.VersionLive); err != nil {
			return err
		}
		return tx.recordHistory(r, herald.ActionApply, out)
	})
	return out, err
}

// ApplyDraft applies change to the draft in one transaction.
func (db *DB) ApplyDraft(ctx context.Context, ref herald.SettingsRef, change herald.SettingsChangeFunc) (*herald.Settings, error) {
	if err := checkRevisionArg(ref.Revision); err != nil {
		return nil, err
	}
	var out *herald.Settings
	err := db.update(ctx, func(tx *Tx) error {
		r, draft, err := tx.changedDraft(ref, change)
		if err != nil {
			return err
		}
		out, err = tx.writeDraft(r, draft, ref.Revision)
		return err
	})
	return out, err
}

// changedDraft locks the settings row at ref's revision and returns it
// with change applied to its draft (not yet written).
func (tx *Tx) changedDraft(ref herald.SettingsRef, change herald.SettingsChangeFunc) (*settingsRow, *herald.Settings, error) {
	r, err := tx.lockAtRevision(ref)
	if err != nil {
		return nil, nil, err
	}
	draft, err := tx.changeVersion(r, herald.VersionDraft, change)
	if err != nil {
		return nil, nil, err
	}
	return r, draft, nil
}

// writeDraft writes a checked draft over the row read in this transaction,
// moving the revision on, and records the change; want is the revision the
// writer named, for the conflict's message.
func (tx *Tx) writeDraft(r *settingsRow, s *herald.Settings, want int64) (*herald.Settings, error) {
	tx.touchCache()
	r.draft, r.updatedAt, r.updatedBy = docOf(s), ms(tx.now), actor(tx.ctx)
	// The revision condition makes a concurrent writer lose, not overwrite.
	res, err := tx.conn().exec(`UPDATE settings SET draft = ?, revision = revision + 1, updated_at = ?, updated_by = ? WHERE id = ? AND revision = ?`,
		r.draft, r.updatedAt, r.updatedBy, r.id, r.revision)
	if err != nil {
		return nil, err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return nil, staleRevision(r, want)
	}
	r.revision++
	out, err := r.settings(herald.VersionDraft)
	if err != nil {
		return nil, err
	}
	return out, tx.recordHistory(r, herald.ActionUpdate, out)
}
