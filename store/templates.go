package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"time"

	"github.com/heraldhq/herald"
)

// Templates are stored as the settings are: one row per project with the
// draft and the live set, one revision counter, and a history. A project
// without a row has empty templates at revision 0 (the built-in ones
// serve it); its first write creates the row.
//
// The store checks a set's shape (herald.TemplateSet.Validate); the
// template service (package templates) parses and renders it first.

// templatesDoc is what a draft or live column holds.
type templatesDoc struct {
	Templates []herald.Template `json:"templates"`
}

func templatesDocOf(ts []herald.Template) string {
	if ts == nil {
		ts = []herald.Template{}
	}
	b, err := json.Marshal(templatesDoc{Templates: ts})
	if err != nil {
		panic(err) // a validated set always marshals
	}
	return string(b)
}

// templatesRow is a project's row; id 0 when it has none yet.
type templatesRow struct {
	id, projectID          int64
	revision, liveRevision int64
	draft, live            string
	updatedAt              int64
	updatedBy              string
	deployedAt             sql.NullInt64
	deployedBy             string
}

// findTemplatesRow reads a project's row, or an empty one at revision 0
// when the project has none; an unknown project is not found.
func (c conn) findTemplatesRow(projectID int64) (*templatesRow, error) {
	r := templatesRow{projectID: projectID}
	err := c.queryRow(`SELECT id, revision, live_revision, draft, live, updated_at, updated_by, deployed_at, deployed_by
		FROM templates WHERE tenant_id = ? AND project_id = ?`, c.tenantID, projectID).Scan(&r.id, &r.revision, &r.liveRevision,
		&r.draft, &r.live, &r.updatedAt, &r.updatedBy, &r.deployedAt, &r.deployedBy)
	if err == nil {
		return &r, nil
	}
	if err != sql.ErrNoRows {
		return nil, err
	}
	var one int
	if err := c.queryRow(`SELECT 1 FROM projects WHERE tenant_id = ? AND id = ?`, c.tenantID, projectID).Scan(&one); err == sql.ErrNoRows {
		return nil, notFound("project", projectID)
	} else if err != nil {
		return nil, err
	}
	r.draft, r.live = templatesDocOf(nil), templatesDocOf(nil)
	return &r, nil
}

// set decodes the row's draft or live version.
func (r *templatesRow) set(version string) (*herald.TemplateSet, error) {
	s := &herald.TemplateSet{ProjectID: r.projectID, Version: version, Revision: r.revision, UpdatedBy: r.updatedBy}
	raw := r.draft
	if r.id != 0 {
		s.UpdatedAt = fromMS(r.updatedAt)
	}
	if version == herald.VersionLive {
		raw, s.Revision = r.live, r.liveRevision
		s.UpdatedAt, s.UpdatedBy = fromNullMSValue(r.deployedAt), r.deployedBy
	}
	return s, decodeTemplates(raw, s)
}

func decodeTemplates(raw string, s *herald.TemplateSet) error {
	var d templatesDoc
	if err := json.Unmarshal([]byte(raw), &d); err != nil {
		return err
	}
	s.Templates = d.Templates
	if s.Templates == nil {
		s.Templates = []herald.Template{}
	}
	return nil
}

func fromNullMSValue(v sql.NullInt64) time.Time {
	if v.Valid {
		return fromMS(v.Int64)
	}
	return time.Time{}
}

// FindTemplates returns a project's draft or live templates.
func (db *DB) FindTemplates(ctx context.Context, projectID int64, version string) (*herald.TemplateSet, error) {
	if version != herald.VersionDraft && version != herald.VersionLive {
		return nil, herald.Errorf(herald.EINVALID, "version", "version must be draft or live")
	}
	c, err := db.reader(ctx)
	if err != nil {
		return nil, err
	}
	r, err := c.findTemplatesRow(projectID)
	if err != nil {
		return nil, err
	}
	return r.set(version)
}

func staleTemplates(r *templatesRow, want int64) error {
	return herald.Errorf(herald.ECONFLICT, "revision", "revision %d is stale: the templates are at revision %d", want, r.revision)
}

// lockTemplates reads a project's row for a write, the project's row
// locked first (a no-op UPDATE) so that on PostgreSQL two writers of one
// project, even its first two, run one after the other.
func (tx *Tx) lockTemplates(projectID int64, want int64) (*templatesRow, error) {
	if err := checkRevisionArg(want); err != nil {
		return nil, err
	}
	res, err := tx.conn().exec(`UPDATE projects SET updated_at = updated_at WHERE tenant_id = ? AND id = ?`, tx.tenantID, projectID)
	if err != nil {
		return nil, err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return nil, notFound("project", projectID)
	}
	r, err := tx.conn().findTemplatesRow(projectID)
	if err != nil {
		return nil, err
	}
	if want != herald.NoRevisionCheck && want != r.revision {
		return nil, staleTemplates(r, want)
	}
	return r, nil
}

// saveTemplates writes the row (inserting it on a project's first write)
// and records the change.
func (tx *Tx) saveTemplates(r *templatesRow, action string, version string) (*herald.TemplateSet, error) {
	c := tx.conn()
	if r.id == 0 {
		id, err := c.insert(`INSERT INTO templates (tenant_id, project_id, revision, draft, live, live_revision, updated_at, updated_by, deployed_at, deployed_by)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, tx.tenantID, r.projectID, r.revision, r.draft, r.live, r.liveRevision,
			r.updatedAt, r.updatedBy, r.deployedAt, r.deployedBy)
		if err != nil {
			return nil, err
		}
		r.id = id
	} else if _, err := c.exec(`UPDATE templates SET revision = ?, draft = ?, live = ?, live_revision = ?, updated_at = ?, updated_by = ?,
		deployed_at = ?, deployed_by = ? WHERE id = ?`, r.revision, r.draft, r.live, r.liveRevision, r.updatedAt, r.updatedBy,
		r.deployedAt, r.deployedBy, r.id); err != nil {
		return nil, err
	}
	s, err := r.set(version)
	if err != nil {
		return nil, err
	}
	_, err = c.exec(`INSERT INTO templates_history (tenant_id, project_id, revision, action, actor, at, document) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		tx.tenantID, r.projectID, s.Revision, action, actor(tx.ctx), ms(tx.now), templatesDocOf(s.Templates))
	return s, err
}

// UpdateTemplates replaces a project's draft templates.
func (db *DB) UpdateTemplates(ctx context.Context, projectID, revision int64, ts []herald.Template) (*herald.TemplateSet, error) {
	set := &herald.TemplateSet{Templates: ts}
	if err := set.Validate(); err != nil {
		return nil, err
	}
	var out *herald.TemplateSet
	err := db.update(ctx, func(tx *Tx) error {
		r, err := tx.lockTemplates(projectID, revision)
		if err != nil {
			return err
		}
		r.draft, r.revision, r.updatedAt, r.updatedBy = templatesDocOf(set.Templates), r.revision+1, ms(tx.now), actor(ctx)
		out, err = tx.saveTemplates(r, herald.ActionUpdate, herald.VersionDraft)
		return err
	})
	return out, err
}

// DeployTemplates copies a project's draft to live, or with revert the
// live back to the draft, and answers the version written.
func (db *DB) DeployTemplates(ctx context.Context, projectID, revision int64, revert bool) (*herald.TemplateSet, error) {
	var out *herald.TemplateSet
	err := db.update(ctx, func(tx *Tx) error {
		r, err := tx.lockTemplates(projectID, revision)
		if err != nil {
			return err
		}
		if revert {
			r.draft, r.revision, r.updatedAt, r.updatedBy = r.live, r.revision+1, ms(tx.now), actor(ctx)
			out, err = tx.saveTemplates(r, herald.ActionRevert, herald.VersionDraft)
			return err
		}
		r.live, r.liveRevision = r.draft, r.revision
		r.deployedAt, r.deployedBy = sql.NullInt64{Int64: ms(tx.now), Valid: true}, actor(ctx)
		if r.id == 0 {
			// Deploying a project's empty templates writes its row.
			r.updatedAt, r.updatedBy = ms(tx.now), actor(ctx)
		}
		out, err = tx.saveTemplates(r, herald.ActionDeploy, herald.VersionLive)
		return err
	})
	return out, err
}

// FindTemplatesHistory lists a project's template changes, newest first.
func (db *DB) FindTemplatesHistory(ctx context.Context, projectID int64, p herald.Page) ([]*herald.TemplateSetChange, string, error) {
	c, err := db.reader(ctx)
	if err != nil {
		return nil, "", err
	}
	if _, err := c.findTemplatesRow(projectID); err != nil {
		return nil, "", err
	}
	return newestPage(c, p, `SELECT id, revision, action, actor, at, document FROM templates_history WHERE tenant_id = ? AND project_id = ?`,
		[]any{c.tenantID, projectID},
		func(rows *sql.Rows) (*herald.TemplateSetChange, int64, error) {
			var (
				ch  herald.TemplateSetChange
				at  int64
				raw string
			)
			if err := rows.Scan(&ch.ID, &ch.Revision, &ch.Action, &ch.Actor, &at, &raw); err != nil {
				return nil, 0, err
			}
			ch.At = fromMS(at)
			version := herald.VersionDraft
			if ch.Action == herald.ActionDeploy {
				version = herald.VersionLive
			}
			ch.Set = &herald.TemplateSet{ProjectID: projectID, Version: version, Revision: ch.Revision, UpdatedAt: ch.At, UpdatedBy: ch.Actor}
			return &ch, ch.ID, decodeTemplates(raw, ch.Set)
		})
}
