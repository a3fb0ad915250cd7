package store

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"slices"

	"github.com/heraldhq/herald"
)

var _ herald.SettingsService = (*DB)(nil)

// settingsDoc is what a draft or live column holds.
type settingsDoc struct {
	InheritProject   bool                     `json:"inherit_project"`
	NotifyCommenters bool                     `json:"notify_commenters"`
	Channels         []herald.ChannelSettings `json:"channels"`
}

func docOf(s *herald.Settings) string {
	b, err := json.Marshal(settingsDoc{InheritProject: s.InheritProject, NotifyCommenters: s.NotifyCommenters, Channels: s.Channels})
	if err != nil {
		panic(err) // a validated document always marshals
	}
	return string(b)
}

// settingsRow is one scope's row.
type settingsRow struct {
	id, projectID, sourceID int64
	revision, liveRevision  int64
	draft, live             string
	updatedAt               int64
	updatedBy               string
	deployedAt              sql.NullInt64
	deployedBy              string

	// draftJSON and liveJSON are the encoded answers of a row kept in the
	// read cache (see encode); "" elsewhere. Strings, so a caller cannot
	// change what the next request gets.
	draftJSON, liveJSON string
}

const settingsCols = `id, project_id, source_id, revision, live_revision, draft, live, updated_at, updated_by, deployed_at, deployed_by`

func (c conn) findSettingsRow(scope herald.SettingsScope) (*settingsRow, error) {
	var r settingsRow
	err := c.queryRow(`SELECT `+settingsCols+` FROM settings WHERE tenant_id = ? AND project_id = ? AND source_id = ?`,
		c.tenantID, scope.ProjectID, scope.SourceID).Scan(&r.id, &r.projectID, &r.sourceID, &r.revision, &r.liveRevision,
		&r.draft, &r.live, &r.updatedAt, &r.updatedBy, &r.deployedAt, &r.deployedBy)
	if err == sql.ErrNoRows {
		if scope.SourceID != 0 {
			return nil, herald.Errorf(herald.ENOTFOUND, "", "source %d of project %d not found", scope.SourceID, scope.ProjectID)
		}
		return nil, notFound("project", scope.ProjectID)
	}
	return &r, err
}

// settingsRow is findSettingsRow on the read pool through the read cache.
func (db *DB) settingsRow(c conn, scope herald.SettingsScope) (*settingsRow, error) {
	k := settingsKey{c.tenantID, scope.ProjectID, scope.SourceID}
	gen, cached := db.cacheGen(c.ctx)
	if cached {
		if r, ok := db.cache.settingsRow(k); ok {
			return r, nil
		}
	}
	r, err := c.findSettingsRow(scope)
	if err == nil && cached {
		r.encode()
		db.cache.putSettingsRow(gen, k, r)
	}
	return r, err
}

// encode fills the row's encoded answers, once, before the row is shared
// through the cache: an authenticated settings GET then writes them as
// they are instead of decoding the stored document and encoding it again.
// A document that does not decode is left to settings to report.
func (r *settingsRow) encode() {
	for _, version := range []string{herald.VersionDraft, herald.VersionLive} {
		s, err := r.settings(version)
		if err != nil {
			return
		}
		js, err := encodeSettings(s)
		if err != nil {
			return
		}
		if version == herald.VersionLive {
			r.liveJSON = js
		} else {
			r.draftJSON = js
		}
	}
}

// encodeSettings is the JSON of s as the API answers it: what
// json.Encoder writes, newline included.
func encodeSettings(s *herald.Settings) (string, error) {
	var buf bytes.Buffer
	if err := json.NewEncoder(&buf).Encode(s); err != nil {
		return "", err
	}
	return buf.String(), nil
}

// settings decodes the row's draft or live version.
func (r *settingsRow) settings(version string) (*herald.Settings, error) {
	s := &herald.Settings{ProjectID: r.projectID, SourceID: r.sourceID, Version: version}
	raw := r.draft
	s.Revision, s.UpdatedAt, s.UpdatedBy = r.revision, fromMS(r.updatedAt), r.updatedBy
	if version == herald.VersionLive {
		raw, s.Revision = r.live, r.liveRevision
		if r.deployedAt.Valid {
			s.UpdatedAt, s.UpdatedBy = fromMS(r.deployedAt.Int64), r.deployedBy
		}
	}
	var d settingsDoc
	if err := json.Unmarshal([]byte(raw), &d); err != nil {
		return nil, err
	}
	s.InheritProject, s.NotifyCommenters, s.Channels = d.InheritProject, d.NotifyCommenters, d.Channels
	if s.Channels == nil {
		s.Channels = []herald.ChannelSettings{}
	}
	return s, nil
}

// createSettings gives a new project or source empty settings, deployed,
// at revision 1.
func (tx *Tx) createSettings(scope herald.SettingsScope) error {
	empty := docOf(&herald.Settings{Channels: []herald.ChannelSettings{}})
	_, err := tx.conn().exec(`INSERT INTO settings (tenant_id, project_id, source_id, revision, draft, live, live_revision, updated_at, updated_by)
		VALUES (?, ?, ?, 1, ?, ?, 1, ?, ?)`, tx.tenantID, scope.ProjectID, scope.SourceID, empty, empty, ms(tx.now), actor(tx.ctx))
	return err
}

// projectSettingsDocs decodes every draft and live document of a project.
func (tx *Tx) projectSettingsDocs(projectID int64) ([]*herald.Settings, error) {
	rows, err := tx.conn().query(`SELECT draft, live FROM settings WHERE tenant_id = ? AND project_id = ?`, tx.tenantID, projectID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*herald.Settings
	for rows.Next() {
		var draft, live string
		if err := rows.Scan(&draft, &live); err != nil {
			return nil, err
		}
		for _, raw := range []string{draft, live} {
			var d settingsDoc
			if err := json.Unmarshal([]byte(raw), &d); err != nil {
				return nil, err
			}
			out = append(out, &herald.Settings{Channels: d.Channels})
		}
	}
	return out, rows.Err()
}

func actor(ctx context.Context) string {
	if p := herald.PrincipalFromContext(ctx); p != nil && p.TokenName != "" {
		return p.TokenName
	}
	return "system"
}

// FindSettings returns the draft or live settings of a scope.
func (db *DB) FindSettings(ctx context.Context, scope herald.SettingsScope, version string) (*herald.Settings, error) {
	if version != herald.VersionDraft && version != herald.VersionLive {
		return nil, herald.Errorf(herald.EINVALID, "version", "version must be draft or live")
	}
	c, err := db.reader(ctx)
	if err != nil {
		return nil, err
	}
	r, err := db.settingsRow(c, scope)
	if err != nil {
		return nil, err
	}
	return r.settings(version)
}

// FindSettingsJSON is FindSettings' answer encoded as JSON, byte for byte
// what json.Encoder makes of it (newline included). A row in the read
// cache answers the encoding it was given when it was cached: no decoding
// and no encoding per request.
func (db *DB) FindSettingsJSON(ctx context.Context, scope herald.SettingsScope, version string) (string, error) {
	if version != herald.VersionDraft && version != herald.VersionLive {
		return "", herald.Errorf(herald.EINVALID, "version", "version must be draft or live")
	}
	c, err := db.reader(ctx)
	if err != nil {
		return "", err
	}
	r, err := db.settingsRow(c, scope)
	if err != nil {
		return "", err
	}
	js := r.draftJSON
	if version == herald.VersionLive {
		js = r.liveJSON
	}
	if js != "" {
		return js, nil
	}
	s, err := r.settings(version)
	if err != nil {
		return "", err
	}
	return encodeSettings(s)
}

func staleRevision(r *settingsRow, want int64) error {
	return herald.Errorf(herald.ECONFLICT, "revision", "revision %d is stale: the settings are at revision %d", want, r.revision)
}

func checkRevisionArg(rev int64) error {
	if rev < herald.NoRevisionCheck {
		return herald.Errorf(herald.EINVALID, "revision", "revision must be -1 (no check) or a revision number")
	}
	return nil
}

// UpdateSettings replaces the draft of a scope.
func (db *DB) UpdateSettings(ctx context.Context, ref herald.SettingsRef, s *herald.Settings) (*herald.Settings, error) {
	if err := checkRevisionArg(ref.Revision); err != nil {
		return nil, err
	}
	if err := s.Validate(); err != nil {
		return nil, err
	}
	var out *herald.Settings
	err := db.update(ctx, func(tx *Tx) error {
		c := tx.conn()
		r, err := c.findSettingsRow(ref.Scope)
		if err != nil {
			return err
		}
		if ref.Revision != herald.NoRevisionCheck && ref.Revision != r.revision {
			return staleRevision(r, ref.Revision)
		}
		if err := tx.checkNotifiers(ref.Scope.ProjectID, s); err != nil {
			return err
		}
		out, err = tx.writeDraft(r, s, ref.Revision)
		return err
	})
	return out, err
}

// DeploySettings deploys (or with revert, discards) each scope's draft; all
// succeed or nothing changes.
func (db *DB) DeploySettings(ctx context.Context, refs []herald.SettingsRef, revert bool) ([]*herald.Settings, error) {
	if len(refs) == 0 {
		return nil, herald.Errorf(herald.EINVALID, "", "nothing to deploy")
	}
	for _, ref := range refs {
		if err := checkRevisionArg(ref.Revision); err != nil {
			return nil, err
		}
	}
	var out []*herald.Settings
	err := db.update(ctx, func(tx *Tx) error {
		tx.touchCache()
		c := tx.conn()
		for _, ref := range refs {
			r, err := c.findSettingsRow(ref.Scope)
			if err != nil {
				return err
			}
			if ref.Revision != herald.NoRevisionCheck && ref.Revision != r.revision {
				return staleRevision(r, ref.Revision)
			}
			s, err := tx.deployRow(r, revert)
			if err != nil {
				return err
			}
			out = append(out, s)
		}
		return nil
	})
	return out, err
}

// deployRow deploys (or with revert, discards) the draft of row r, read in
// this transaction, with the app's record notifications, and records the
// change; it returns the new live settings (or, reverted, the draft).
func (tx *Tx) deployRow(r *settingsRow, revert bool) (*herald.Settings, error) {
	ctx, c := tx.ctx, tx.conn()
	var (
		action = herald.ActionDeploy
		s      *herald.Settings
		err    error
	)
	if revert {
		action = herald.ActionRevert
		r.draft, r.revision, r.updatedAt, r.updatedBy = r.live, r.revision+1, ms(tx.now), actor(ctx)
		_, err = c.exec(`UPDATE settings SET draft = live, revision = ?, updated_at = ?, updated_by = ? WHERE id = ?`,
			r.revision, r.updatedAt, r.updatedBy, r.id)
		if err == nil {
			s, err = r.settings(herald.VersionDraft)
		}
	} else {
		r.live, r.liveRevision = r.draft, r.revision
		r.deployedAt, r.deployedBy = sql.NullInt64{Int64: ms(tx.now), Valid: true}, actor(ctx)
		_, err = c.exec(`UPDATE settings SET live = draft, live_revision = revision, deployed_at = ?, deployed_by = ? WHERE id = ?`,
			r.deployedAt.Int64, r.deployedBy, r.id)
		if err == nil {
			s, err = r.settings(herald.VersionLive)
		}
	}
	if err != nil {
		return nil, err
	}
	// Kintone's per-record and reminder notifications deploy with
	// the rest of the app's settings.
	if err := tx.deployRecordNotifications(r, revert); err != nil {
		return nil, err
	}
	return s, tx.recordHistory(r, action, s)
}

// SaveAndDeploy applies change to the draft and deploys it, in one
// transaction.
func (db *DB) SaveAndDeploy(ctx context.Context, ref herald.SettingsRef, change herald.SettingsChangeFunc) (*herald.Settings, error) {
	if err := checkRevisionArg(ref.Revision); err != nil {
		return nil, err
	}
	var out *herald.Settings
	err := db.update(ctx, func(tx *Tx) error {
		r, draft, err := tx.changedDraft(ref, change)
		if err != nil {
			return err
		}
		// A change that edits nothing writes no revision: the draft as it
		// is gets deployed.
		if docOf(draft) != r.draft {
			if _, err := tx.writeDraft(r, draft, ref.Revision); err != nil {
				return err
			}
		}
		out, err = tx.deployRow(r, false)
		return err
	})
	return out, err
}

// RestoreSettings makes a history entry's document the draft.
func (db *DB) RestoreSettings(ctx context.Context, ref herald.SettingsRef, changeID int64) (*herald.Settings, error) {
	if err := checkRevisionArg(ref.Revision); err != nil {
		return nil, err
	}
	var out *herald.Settings
	err := db.update(ctx, func(tx *Tx) error {
		r, err := tx.lockAtRevision(ref)
		if err != nil {
			return err
		}
		var raw string
		err = tx.conn().queryRow(`SELECT document FROM settings_history WHERE tenant_id = ? AND project_id = ? AND source_id = ? AND id = ?`,
			tx.tenantID, ref.Scope.ProjectID, ref.Scope.SourceID, changeID).Scan(&raw)
		if err == sql.ErrNoRows {
			return herald.Errorf(herald.ENOTFOUND, "", "settings history entry %d not found", changeID)
		} else if err != nil {
			return err
		}
		var d settingsDoc
		if err := json.Unmarshal([]byte(raw), &d); err != nil {
			return err
		}
		// A notifier deleted since cannot come back: its channel is left
		// out rather than the restore refused.
		ids, err := tx.conn().ids(`SELECT id FROM notifiers WHERE tenant_id = ? AND project_id = ?`, tx.tenantID, ref.Scope.ProjectID)
		if err != nil {
			return err
		}
		s := &herald.Settings{InheritProject: d.InheritProject, NotifyCommenters: d.NotifyCommenters}
		for _, ch := range d.Channels {
			if slices.Contains(ids, ch.NotifierID) {
				s.Channels = append(s.Channels, ch)
			}
		}
		if err := s.Validate(); err != nil {
			return err
		}
		out, err = tx.writeDraft(r, s, ref.Revision)
		return err
	})
	return out, err
}

func (tx *Tx) recordHistory(r *settingsRow, action string, s *herald.Settings) error {
	_, err := tx.conn().exec(`INSERT INTO settings_history (tenant_id, project_id, source_id, revision, action, actor, at, document)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, tx.tenantID, r.projectID, r.sourceID, s.Revision, action, actor(tx.ctx), ms(tx.now), docOf(s))
	return err
}

// EffectiveSettings returns live settings after inheritance: a source that
// inherits gets its project's live channels.
func (db *DB) EffectiveSettings(ctx context.Context, scope herald.SettingsScope) (*herald.Settings, error) {
	c, err := db.reader(ctx)
	if err != nil {
		return nil, err
	}
	r, err := db.settingsRow(c, scope)
	if err != nil {
		return nil, err
	}
	s, err := r.settings(herald.VersionLive)
	if err != nil || scope.SourceID == 0 || !s.InheritProject {
		return s, err
	}
	pr, err := db.settingsRow(c, herald.SettingsScope{ProjectID: scope.ProjectID})
	if err != nil {
		return nil, err
	}
	ps, err := pr.settings(herald.VersionLive)
	if err != nil {
		return nil, err
	}
	s.Channels, s.NotifyCommenters = ps.Channels, ps.NotifyCommenters
	return s, nil
}

// FindSettingsHistory lists a scope's changes, newest first.
func (db *DB) FindSettingsHistory(ctx context.Context, scope herald.SettingsScope, p herald.Page) ([]*herald.SettingsChange, string, error) {
	c, err := db.reader(ctx)
	if err != nil {
		return nil, "", err
	}
	if _, err := c.findSettingsRow(scope); err != nil {
		return nil, "", err
	}
	return newestPage(c, p, `SELECT id, revision, action, actor, at, document FROM settings_history
		WHERE tenant_id = ? AND project_id = ? AND source_id = ?`, []any{c.tenantID, scope.ProjectID, scope.SourceID},
		func(rows *sql.Rows) (*herald.SettingsChange, int64, error) {
			var (
				ch  herald.SettingsChange
				at  int64
				raw string
				d   settingsDoc
			)
			if err := rows.Scan(&ch.ID, &ch.Revision, &ch.Action, &ch.Actor, &at, &raw); err != nil {
				return nil, 0, err
			}
			if err := json.Unmarshal([]byte(raw), &d); err != nil {
				return nil, 0, err
			}
			ch.At = fromMS(at)
			version := herald.VersionDraft
			if ch.Action == herald.ActionDeploy || ch.Action == herald.ActionApply {
				version = herald.VersionLive
			}
			ch.Settings = &herald.Settings{ProjectID: scope.ProjectID, SourceID: scope.SourceID, Version: version, Revision: ch.Revision,
				InheritProject: d.InheritProject, NotifyCommenters: d.NotifyCommenters, Channels: d.Channels, UpdatedAt: ch.At, UpdatedBy: ch.Actor}
			return &ch, ch.ID, nil
		})
}
