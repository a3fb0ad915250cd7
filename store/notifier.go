package store

import (
	"context"
	"database/sql"
	"encoding/json"

	"github.com/heraldhq/herald"
)

var _ herald.NotifierService = (*DB)(nil)

const notifierCols = `id, project_id, type, name, config, secret, created_at, updated_at`

func (db *DB) scanNotifier(row scanner) (*herald.Notifier, error) {
	var (
		n                herald.Notifier
		config, sealed   string
		created, updated int64
	)
	if err := row.Scan(&n.ID, &n.ProjectID, &n.Type, &n.Name, &config, &sealed, &created, &updated); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(config), &n.Config); err != nil {
		return nil, err
	}
	secret, err := db.box.open(sealed)
	if err != nil {
		return nil, err
	}
	n.Secret = secret
	n.CreatedAt, n.UpdatedAt = fromMS(created), fromMS(updated)
	return &n, nil
}

func (c conn) findNotifier(id int64) (*herald.Notifier, error) {
	n, err := c.db.scanNotifier(c.queryRow(`SELECT `+notifierCols+` FROM notifiers WHERE tenant_id = ? AND id = ?`, c.tenantID, id))
	if err == sql.ErrNoRows {
		return nil, notFound("notifier", id)
	}
	return n, err
}

// FindNotifierByID returns a notifier with its secret in clear (for the
// delivery engine; JSON output masks it).
func (db *DB) FindNotifierByID(ctx context.Context, id int64) (*herald.Notifier, error) {
	c, err := db.reader(ctx)
	if err != nil {
		return nil, err
	}
	return c.findNotifier(id)
}

// FindNotifiers lists notifiers, optionally of one project or type.
func (db *DB) FindNotifiers(ctx context.Context, f herald.NotifierFilter, p herald.Page) ([]*herald.Notifier, string, error) {
	if err := f.Validate(); err != nil {
		return nil, "", err
	}
	c, err := db.reader(ctx)
	if err != nil {
		return nil, "", err
	}
	q, args := `SELECT `+notifierCols+` FROM notifiers WHERE tenant_id = ?`, []any{c.tenantID}
	if f.ProjectID != 0 {
		q, args = q+` AND project_id = ?`, append(args, f.ProjectID)
	}
	if f.Type != "" {
		q, args = q+` AND type = ?`, append(args, f.Type)
	}
	return page(c, p, q, args, func(rows *sql.Rows) (*herald.Notifier, int64, error) {
		n, err := db.scanNotifier(rows)
		if err != nil {
			return nil, 0, err
		}
		return n, n.ID, nil
	})
}

// CreateNotifier creates a notifier in its project, sealing the secret.
func (db *DB) CreateNotifier(ctx context.Context, n *herald.Notifier) error {
	if n.Secret == herald.SecretMask {
		return herald.Errorf(herald.EINVALID, "secret", "secret must be the real secret, not the mask")
	}
	if err := n.Validate(); err != nil {
		return err
	}
	return db.update(ctx, func(tx *Tx) error {
		if _, err := tx.findProject(n.ProjectID); err != nil {
			return err
		}
		config, err := json.Marshal(n.Config)
		if err != nil {
			return err
		}
		id, err := tx.conn().insert(`INSERT INTO notifiers (tenant_id, project_id, type, name, config, secret, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, tx.tenantID, n.ProjectID, n.Type, n.Name, string(config), db.box.seal(n.Secret), ms(tx.now), ms(tx.now))
		if err != nil {
			return err
		}
		n.ID, n.CreatedAt, n.UpdatedAt = id, fromMS(ms(tx.now)), fromMS(ms(tx.now))
		return nil
	})
}

// UpdateNotifier saves a notifier's name and config; its type and project
// are fixed. A Secret of "" or the mask keeps the stored secret.
func (db *DB) UpdateNotifier(ctx context.Context, n *herald.Notifier) error {
	return db.update(ctx, func(tx *Tx) error {
		c := tx.conn()
		old, err := c.findNotifier(n.ID)
		if err != nil {
			return err
		}
		if n.Type != old.Type {
			return herald.Errorf(herald.EINVALID, "type", "a notifier's type cannot change")
		}
		if n.Secret == "" || n.Secret == herald.SecretMask {
			n.Secret = old.Secret
		}
		n.ProjectID = old.ProjectID
		if err := n.Validate(); err != nil {
			return err
		}
		config, err := json.Marshal(n.Config)
		if err != nil {
			return err
		}
		if _, err := c.exec(`UPDATE notifiers SET name = ?, config = ?, secret = ?, updated_at = ? WHERE tenant_id = ? AND id = ?`,
			n.Name, string(config), db.box.seal(n.Secret), ms(tx.now), tx.tenantID, n.ID); err != nil {
			return err
		}
		n.CreatedAt, n.UpdatedAt = old.CreatedAt, fromMS(ms(tx.now))
		return nil
	})
}

// DeleteNotifier deletes a notifier that no settings of its project use.
func (db *DB) DeleteNotifier(ctx context.Context, id int64) error {
	return db.update(ctx, func(tx *Tx) error {
		n, err := tx.conn().findNotifier(id)
		if err != nil {
			return err
		}
		docs, err := tx.projectSettingsDocs(n.ProjectID)
		if err != nil {
			return err
		}
		for _, d := range docs {
			if d.Channel(id) != nil {
				return herald.Errorf(herald.ECONFLICT, "", "notifier %d is used by notification settings; remove it there first", id)
			}
		}
		return tx.deleteRow("notifiers", "notifier", id)
	})
}
