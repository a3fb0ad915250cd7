package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"slices"

	"github.com/heraldhq/herald"
)

var (
	_ herald.ProjectService = (*DB)(nil)
	_ herald.SourceService  = (*DB)(nil)
)

// scanner is a *sql.Row or *sql.Rows.
type scanner interface{ Scan(dest ...any) error }

const projectCols = `id, name, description, external_id, allowed_origins, created_at, updated_at`

func scanProject(row scanner) (*herald.Project, error) {
	var (
		p                herald.Project
		origins          string
		created, updated int64
	)
	if err := row.Scan(&p.ID, &p.Name, &p.Description, &p.ExternalID, &origins, &created, &updated); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(origins), &p.AllowedOrigins); err != nil || p.AllowedOrigins == nil {
		p.AllowedOrigins = []string{}
	}
	p.CreatedAt, p.UpdatedAt = fromMS(created), fromMS(updated)
	return &p, nil
}

func (c conn) findProject(id int64) (*herald.Project, error) {
	p, err := scanProject(c.queryRow(`SELECT `+projectCols+` FROM projects WHERE tenant_id = ? AND id = ?`, c.tenantID, id))
	if err == sql.ErrNoRows {
		return nil, notFound("project", id)
	}
	return p, err
}

func (tx *Tx) findProject(id int64) (*herald.Project, error) { return tx.conn().findProject(id) }

// FindProjectByID returns a project of ctx's tenant.
func (db *DB) FindProjectByID(ctx context.Context, id int64) (*herald.Project, error) {
	c, err := db.reader(ctx)
	if err != nil {
		return nil, err
	}
	return c.findProject(id)
}

// FindProjects lists the tenant's projects by id.
func (db *DB) FindProjects(ctx context.Context, p herald.Page) ([]*herald.Project, string, error) {
	c, err := db.reader(ctx)
	if err != nil {
		return nil, "", err
	}
	return page(c, p, `SELECT `+projectCols+` FROM projects WHERE tenant_id = ?`, []any{c.tenantID},
		func(rows *sql.Rows) (*herald.Project, int64, error) {
			p, err := scanProject(rows)
			if err != nil {
				return nil, 0, err
			}
			return p, p.ID, nil
		})
}

// CreateProject creates a project and its default settings.
func (db *DB) CreateProject(ctx context.Context, p *herald.Project) error {
	if err := p.Validate(); err != nil {
		return err
	}
	return db.update(ctx, func(tx *Tx) error {
		p.CreatedAt, p.UpdatedAt = fromMS(ms(tx.now)), fromMS(ms(tx.now))
		id, err := tx.conn().insert(`INSERT INTO projects (tenant_id, name, description, external_id, allowed_origins, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, tx.tenantID, p.Name, p.Description, p.ExternalID, originsJSON(p.AllowedOrigins), ms(tx.now), ms(tx.now))
		if err != nil {
			return uniqueErr(err, "external_id", "a project with this external_id")
		}
		p.ID = id
		return tx.createSettings(herald.SettingsScope{ProjectID: id})
	})
}

// UpdateProject saves a project's name, description and external id.
func (db *DB) UpdateProject(ctx context.Context, p *herald.Project) error {
	if err := p.Validate(); err != nil {
		return err
	}
	return db.update(ctx, func(tx *Tx) error {
		res, err := tx.conn().exec(`UPDATE projects SET name = ?, description = ?, external_id = ?, allowed_origins = ?, updated_at = ?
			WHERE tenant_id = ? AND id = ?`, p.Name, p.Description, p.ExternalID, originsJSON(p.AllowedOrigins), ms(tx.now), tx.tenantID, p.ID)
		if err != nil {
			return uniqueErr(err, "external_id", "a project with this external_id")
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return notFound("project", p.ID)
		}
		p.UpdatedAt = fromMS(ms(tx.now))
		return nil
	})
}

// DeleteProject deletes a project with its sources, notifiers and
// settings; with force, also one with events, which go with their
// deliveries.
func (db *DB) DeleteProject(ctx context.Context, id int64, force bool) error {
	return db.update(ctx, func(tx *Tx) error {
		if !force {
			var n int64
			if err := tx.conn().queryRow(`SELECT COUNT(*) FROM events WHERE tenant_id = ? AND project_id = ?`, tx.tenantID, id).Scan(&n); err != nil {
				return err
			}
			if n > 0 {
				return herald.Errorf(herald.ECONFLICT, "force", "project %d has %d events; deleting it erases them and their deliveries too: confirm to delete anyway", id, n)
			}
		}
		if err := tx.deleteEvents("project_id", id); err != nil {
			return err
		}
		return tx.deleteRow("projects", "project", id)
	})
}

// deleteEvents deletes the tenant's events whose col is id, with their
// deliveries and inbox messages, which on PostgreSQL no foreign key takes
// with them (migration 00019; on SQLite the keys' cascade already has).
// The events go first: a fan-out of one of them still writing holds its
// row, so the delete waits for it to commit, and the next statements see
// what it wrote.
func (tx *Tx) deleteEvents(col string, id int64) error {
	c := tx.conn()
	ids, err := c.ids(`DELETE FROM events WHERE tenant_id = ? AND `+col+` = ? RETURNING id`, tx.tenantID, id)
	if err != nil {
		return err
	}
	for chunk := range slices.Chunk(ids, 500) {
		for _, table := range []string{"deliveries", "inbox_messages"} {
			args := append([]any{tx.tenantID}, toAny(chunk)...)
			if _, err := c.exec(`DELETE FROM `+table+` WHERE tenant_id = ? AND event_id IN (`+placeholders(len(chunk))+`)`, args...); err != nil {
				return err
			}
		}
	}
	return nil
}

// deleteRow deletes one row of the tenant by id.
func (tx *Tx) deleteRow(table, what string, id int64) error {
	tx.touchCache() // a project or source takes tokens, sources and settings with it
	res, err := tx.conn().exec(`DELETE FROM `+table+` WHERE tenant_id = ? AND id = ?`, tx.tenantID, id)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return notFound(what, id)
	}
	return nil
}

const sourceCols = `id, project_id, kind, external_id, name, space_id, created_at, updated_at`

func scanSource(row scanner) (*herald.Source, error) {
	var (
		s                herald.Source
		created, updated int64
	)
	if err := row.Scan(&s.ID, &s.ProjectID, &s.Kind, &s.ExternalID, &s.Name, &s.SpaceID, &created, &updated); err != nil {
		return nil, err
	}
	s.CreatedAt, s.UpdatedAt = fromMS(created), fromMS(updated)
	return &s, nil
}

func (c conn) findSource(id int64) (*herald.Source, error) {
	s, err := scanSource(c.queryRow(`SELECT `+sourceCols+` FROM sources WHERE tenant_id = ? AND id = ?`, c.tenantID, id))
	if err == sql.ErrNoRows {
		return nil, notFound("source", id)
	}
	return s, err
}

// FindSourceByID returns a source of ctx's tenant.
func (db *DB) FindSourceByID(ctx context.Context, id int64) (*herald.Source, error) {
	c, err := db.reader(ctx)
	if err != nil {
		return nil, err
	}
	k := tenantKey{c.tenantID, id}
	gen, cached := db.cacheGen(ctx)
	if cached {
		if s, ok := db.cache.source(k); ok {
			return s, nil
		}
	}
	s, err := c.findSource(id)
	if err == nil && cached {
		db.cache.putSource(gen, k, *s)
	}
	return s, err
}

// FindSourceByExternalID finds a source by kind and vendor id.
func (db *DB) FindSourceByExternalID(ctx context.Context, kind, externalID string) (*herald.Source, error) {
	if err := (herald.SourceFilter{Kind: kind, ExternalID: externalID}).Validate(); err != nil {
		return nil, err
	}
	c, err := db.reader(ctx)
	if err != nil {
		return nil, err
	}
	return c.findSourceByExternalID(kind, externalID)
}

func (c conn) findSourceByExternalID(kind, externalID string) (*herald.Source, error) {
	s, err := scanSource(c.queryRow(`SELECT `+sourceCols+` FROM sources WHERE tenant_id = ? AND kind = ? AND external_id = ?`,
		c.tenantID, kind, externalID))
	if err == sql.ErrNoRows {
		return nil, herald.Errorf(herald.ENOTFOUND, "", "%s %q not found", kind, externalID)
	}
	return s, err
}

// FindSources lists sources, optionally of one project, kind or external id.
func (db *DB) FindSources(ctx context.Context, f herald.SourceFilter, p herald.Page) ([]*herald.Source, string, error) {
	if err := f.Validate(); err != nil {
		return nil, "", err
	}
	c, err := db.reader(ctx)
	if err != nil {
		return nil, "", err
	}
	q, args := `SELECT `+sourceCols+` FROM sources WHERE tenant_id = ?`, []any{c.tenantID}
	if f.ProjectID != 0 {
		q, args = q+` AND project_id = ?`, append(args, f.ProjectID)
	}
	if f.Kind != "" {
		q, args = q+` AND kind = ?`, append(args, f.Kind)
	}
	if f.ExternalID != "" {
		q, args = q+` AND external_id = ?`, append(args, f.ExternalID)
	}
	return page(c, p, q, args, func(rows *sql.Rows) (*herald.Source, int64, error) {
		s, err := scanSource(rows)
		if err != nil {
			return nil, 0, err
		}
		return s, s.ID, nil
	})
}

// CreateSource creates a source in its project, with empty settings.
func (db *DB) CreateSource(ctx context.Context, s *herald.Source) error {
	if err := s.Validate(); err != nil {
		return err
	}
	return db.update(ctx, func(tx *Tx) error {
		if _, err := tx.findProject(s.ProjectID); err != nil {
			return err
		}
		s.CreatedAt, s.UpdatedAt = fromMS(ms(tx.now)), fromMS(ms(tx.now))
		id, err := tx.conn().insert(`INSERT INTO sources (tenant_id, project_id, kind, external_id, name, space_id, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, tx.tenantID, s.ProjectID, s.Kind, s.ExternalID, s.Name, s.SpaceID, ms(tx.now), ms(tx.now))
		if err != nil {
			return uniqueErr(err, "external_id", "a "+s.Kind+" with this external_id")
		}
		s.ID = id
		return tx.createSettings(herald.SettingsScope{ProjectID: s.ProjectID, SourceID: id})
	})
}

// UpdateSource saves a source's name and space.
func (db *DB) UpdateSource(ctx context.Context, s *herald.Source) error {
	if err := s.Validate(); err != nil {
		return err
	}
	return db.update(ctx, func(tx *Tx) error {
		tx.touchCache()
		res, err := tx.conn().exec(`UPDATE sources SET name = ?, space_id = ?, updated_at = ? WHERE tenant_id = ? AND id = ?`,
			s.Name, s.SpaceID, ms(tx.now), tx.tenantID, s.ID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return notFound("source", s.ID)
		}
		s.UpdatedAt = fromMS(ms(tx.now))
		return nil
	})
}

// DeleteSource deletes a source with its settings and their history.
func (db *DB) DeleteSource(ctx context.Context, id int64) error {
	return db.update(ctx, func(tx *Tx) error {
		if err := tx.deleteEvents("source_id", id); err != nil {
			return err
		}
		if err := tx.deleteRow("sources", "source", id); err != nil {
			return err
		}
		for _, table := range []string{"settings", "settings_history"} {
			if _, err := tx.conn().exec(`DELETE FROM `+table+` WHERE tenant_id = ? AND source_id = ?`, tx.tenantID, id); err != nil {
				return err
			}
		}
		return nil
	})
}
