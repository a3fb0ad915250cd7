package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	"github.com/heraldhq/herald"
)

var _ herald.NotifierService = (*DB)(nil)

const notifierCols = `id, project_id, type, name, config, secret, created_at, updated_at`

// credentials are every credential of a notifier, sealed together in the
// secret column (v2); the config column holds the rest, without the URL
// and the header values, so that the row holds nothing in clear that could
// be used to send as the notifier.
type credentials struct {
	Secret      string            `json:"secret,omitempty"`
	URL         string            `json:"url,omitempty"`
	HTTPHeaders map[string]string `json:"http_headers,omitempty"`
}

// sealNotifier returns the config and secret columns of n.
func (db *DB) sealNotifier(n *herald.Notifier) (config, sealed string, err error) {
	c := n.Config
	cred := credentials{Secret: n.Secret, URL: c.URL, HTTPHeaders: c.HTTPHeaders}
	c.URL, c.HTTPHeaders = "", nil
	b, err := json.Marshal(c)
	if err != nil {
		return "", "", err
	}
	if cred.Secret == "" && cred.URL == "" && len(cred.HTTPHeaders) == 0 {
		return string(b), "", nil
	}
	plain, err := json.Marshal(cred)
	if err != nil {
		return "", "", err
	}
	return string(b), db.box.seal(sealedV2, plain), nil
}

// openNotifier fills n's config and credentials from its columns. Rows
// written before v2 (a v1 secret or none) hold the URL and headers in
// config, in clear, until Migrate seals them.
func (db *DB) openNotifier(n *herald.Notifier, config, sealed string) error {
	if err := json.Unmarshal([]byte(config), &n.Config); err != nil {
		return err
	}
	version, plain, err := db.box.open(sealed)
	if err != nil {
		return err
	}
	switch version {
	case sealedV1:
		n.Secret = string(plain)
	case sealedV2:
		var cred credentials
		if err := json.Unmarshal(plain, &cred); err != nil {
			return fmt.Errorf("store: notifier %d: sealed credentials: %w", n.ID, err)
		}
		n.Secret, n.Config.URL, n.Config.HTTPHeaders = cred.Secret, cred.URL, cred.HTTPHeaders
	}
	return nil
}

func (db *DB) scanNotifier(row scanner) (*herald.Notifier, error) {
	var (
		n                herald.Notifier
		config, sealed   string
		created, updated int64
	)
	if err := row.Scan(&n.ID, &n.ProjectID, &n.Type, &n.Name, &config, &sealed, &created, &updated); err != nil {
		return nil, err
	}
	if err := db.openNotifier(&n, config, sealed); err != nil {
		return nil, err
	}
	n.CreatedAt, n.UpdatedAt = fromMS(created), fromMS(updated)
	return &n, nil
}

// resealNotifiers seals the credentials of rows written before v2, once:
// an upgraded database stops holding robot URLs and header values in
// clear. Rows already sealed as v2 are not read.
func (db *DB) resealNotifiers(ctx context.Context) error {
	return db.updateTenant(ctx, 0, func(tx *Tx) error {
		c := tx.conn()
		rows, err := c.query(`SELECT id, config, secret FROM notifiers WHERE secret NOT LIKE 'v2:%'`)
		if err != nil {
			return err
		}
		type row struct {
			id             int64
			config, sealed string
		}
		var legacy []row
		for rows.Next() {
			var r row
			if err := rows.Scan(&r.id, &r.config, &r.sealed); err != nil {
				rows.Close()
				return err
			}
			legacy = append(legacy, r)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		resealed := 0
		for _, r := range legacy {
			n := herald.Notifier{ID: r.id}
			if err := db.openNotifier(&n, r.config, r.sealed); err != nil {
				return err
			}
			if n.Secret == "" && n.Config.URL == "" && len(n.Config.HTTPHeaders) == 0 {
				continue // nothing to seal
			}
			config, sealed, err := db.sealNotifier(&n)
			if err != nil {
				return err
			}
			if _, err := c.exec(`UPDATE notifiers SET config = ?, secret = ? WHERE id = ?`, config, sealed, r.id); err != nil {
				return err
			}
			resealed++
		}
		if resealed > 0 {
			db.logger.Info("sealed the credentials of notifiers written before v2", "notifiers", resealed)
		}
		return nil
	})
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

// CreateNotifier creates a notifier in its project, sealing its
// credentials; a masked value (see herald.Notifier.MergeStored) is refused.
func (db *DB) CreateNotifier(ctx context.Context, n *herald.Notifier) error {
	if err := n.MergeStored(nil); err != nil {
		return err
	}
	if err := n.Validate(); err != nil {
		return err
	}
	return db.update(ctx, func(tx *Tx) error {
		if _, err := tx.findProject(n.ProjectID); err != nil {
			return err
		}
		return tx.insertNotifier(n)
	})
}

// insertNotifier writes a new, validated notifier of an existing project.
func (tx *Tx) insertNotifier(n *herald.Notifier) error {
	config, sealed, err := tx.db.sealNotifier(n)
	if err != nil {
		return err
	}
	id, err := tx.conn().insert(`INSERT INTO notifiers (tenant_id, project_id, type, name, config, secret, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, tx.tenantID, n.ProjectID, n.Type, n.Name, config, sealed, ms(tx.now), ms(tx.now))
	if err != nil {
		return err
	}
	n.ID, n.CreatedAt, n.UpdatedAt = id, fromMS(ms(tx.now)), fromMS(ms(tx.now))
	return nil
}

// saveNotifier writes a validated notifier's name, config and clear
// credentials, sealed, over its row.
func (tx *Tx) saveNotifier(n *herald.Notifier) error {
	config, sealed, err := tx.db.sealNotifier(n)
	if err != nil {
		return err
	}
	_, err = tx.conn().exec(`UPDATE notifiers SET name = ?, config = ?, secret = ?, updated_at = ? WHERE tenant_id = ? AND id = ?`,
		n.Name, config, sealed, ms(tx.now), tx.tenantID, n.ID)
	n.UpdatedAt = fromMS(ms(tx.now))
	return err
}

// UpdateNotifier saves a notifier's name, config and credentials; its type
// and project are fixed. Masked values keep the stored credentials, and a
// new destination needs them again (herald.Notifier.MergeStored).
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
		n.ProjectID = old.ProjectID
		// Bad input is named as such before the credential rule looks at
		// where the notifier now points. An empty secret keeps the stored
		// one (MergeStored), so it is judged here as what it stands for.
		pre := *n
		if pre.Secret == "" && old.Secret != "" {
			pre.Secret = herald.SecretMask
		}
		if err := pre.Validate(); err != nil {
			return err
		}
		if err := n.MergeStored(old); err != nil {
			return err
		}
		if err := n.Validate(); err != nil {
			return err
		}
		n.CreatedAt = old.CreatedAt
		return tx.saveNotifier(n)
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
