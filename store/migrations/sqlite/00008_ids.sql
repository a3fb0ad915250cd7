-- +goose NO TRANSACTION
-- +goose Up
-- Ids are never handed out again once their row is deleted. SQLite gives
-- an INTEGER PRIMARY KEY the highest rowid + 1, so deleting the newest rows
-- (a source with its events and deliveries) made their ids, and the
-- webhook-ids derived from them, come back; AUTOINCREMENT keeps the highest
-- id ever used in sqlite_sequence. A column cannot be made AUTOINCREMENT in
-- place: every table with an integer id is rebuilt (new table, copy, drop,
-- rename, its indexes again), its rows keeping their ids. Ids deleted
-- before this migration at the top of a table are not known, and may be
-- used once more.
--
-- deliveries.message_id is a delivery's globally unique message id
-- ("msg_" and a UUIDv7 in hex, given when the delivery is created): webhooks
-- send it as webhook-id on every attempt. Existing deliveries keep the
-- "dlv_<id>" they were sent with, so their resends still match.
--
-- Dropping a parent table with foreign keys on would delete its children
-- (ON DELETE CASCADE), and foreign_keys cannot change inside a transaction:
-- this migration runs outside goose's transaction, with foreign keys off
-- around its own. The rows are copied as they are, so no reference changes.
PRAGMA foreign_keys = OFF;
BEGIN IMMEDIATE;

-- tenants
CREATE TABLE new_tenants (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL
);
INSERT INTO new_tenants (id, name, created_at)
SELECT id, name, created_at FROM tenants;
DROP TABLE tenants;
ALTER TABLE new_tenants RENAME TO tenants;

-- projects
CREATE TABLE new_projects (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id INTEGER NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    external_id TEXT NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
INSERT INTO new_projects (id, tenant_id, name, description, external_id, created_at, updated_at)
SELECT id, tenant_id, name, description, external_id, created_at, updated_at FROM projects;
DROP TABLE projects;
ALTER TABLE new_projects RENAME TO projects;
CREATE INDEX projects_tenant ON projects (tenant_id, id);
CREATE UNIQUE INDEX projects_external ON projects (tenant_id, external_id) WHERE external_id <> '';

-- tokens
CREATE TABLE new_tokens (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id INTEGER NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    prefix TEXT NOT NULL,
    hash TEXT NOT NULL UNIQUE,
    permissions TEXT NOT NULL,
    project_id INTEGER REFERENCES projects (id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    last_used_at INTEGER,
    revoked_at INTEGER
);
INSERT INTO new_tokens (id, tenant_id, name, prefix, hash, permissions, project_id, created_at, last_used_at, revoked_at)
SELECT id, tenant_id, name, prefix, hash, permissions, project_id, created_at, last_used_at, revoked_at FROM tokens;
DROP TABLE tokens;
ALTER TABLE new_tokens RENAME TO tokens;
CREATE INDEX tokens_tenant ON tokens (tenant_id, id);

-- sources
CREATE TABLE new_sources (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id INTEGER NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    project_id INTEGER NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    external_id TEXT NOT NULL,
    name TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    space_id TEXT NOT NULL DEFAULT '',
    UNIQUE (tenant_id, kind, external_id)
);
INSERT INTO new_sources (id, tenant_id, project_id, kind, external_id, name, created_at, updated_at, space_id)
SELECT id, tenant_id, project_id, kind, external_id, name, created_at, updated_at, space_id FROM sources;
DROP TABLE sources;
ALTER TABLE new_sources RENAME TO sources;
CREATE INDEX sources_project ON sources (tenant_id, project_id, id);

-- notifiers
CREATE TABLE new_notifiers (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id INTEGER NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    project_id INTEGER NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    type TEXT NOT NULL,
    name TEXT NOT NULL,
    config TEXT NOT NULL,
    secret TEXT NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
INSERT INTO new_notifiers (id, tenant_id, project_id, type, name, config, secret, created_at, updated_at)
SELECT id, tenant_id, project_id, type, name, config, secret, created_at, updated_at FROM notifiers;
DROP TABLE notifiers;
ALTER TABLE new_notifiers RENAME TO notifiers;
CREATE INDEX notifiers_project ON notifiers (tenant_id, project_id, id);

-- users
CREATE TABLE new_users (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id INTEGER NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    code TEXT NOT NULL,
    name TEXT NOT NULL,
    email TEXT NOT NULL DEFAULT '',
    mobile TEXT NOT NULL DEFAULT '',
    locale TEXT NOT NULL DEFAULT 'en',
    avatar_url TEXT NOT NULL DEFAULT '',
    open_id TEXT NOT NULL DEFAULT '',
    union_id TEXT NOT NULL DEFAULT '',
    lark_user_id TEXT NOT NULL DEFAULT '',
    dingtalk_id TEXT NOT NULL DEFAULT '',
    wecom_id TEXT NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    UNIQUE (tenant_id, code)
);
INSERT INTO new_users (id, tenant_id, code, name, email, mobile, locale, avatar_url, open_id, union_id, lark_user_id, dingtalk_id, wecom_id, created_at, updated_at)
SELECT id, tenant_id, code, name, email, mobile, locale, avatar_url, open_id, union_id, lark_user_id, dingtalk_id, wecom_id, created_at, updated_at FROM users;
DROP TABLE users;
ALTER TABLE new_users RENAME TO users;

-- departments
CREATE TABLE new_departments (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id INTEGER NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    code TEXT NOT NULL,
    name TEXT NOT NULL,
    parent_id INTEGER REFERENCES departments (id),
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    UNIQUE (tenant_id, code)
);
INSERT INTO new_departments (id, tenant_id, code, name, parent_id, created_at, updated_at)
SELECT id, tenant_id, code, name, parent_id, created_at, updated_at FROM departments;
DROP TABLE departments;
ALTER TABLE new_departments RENAME TO departments;
CREATE INDEX departments_parent ON departments (tenant_id, parent_id);

-- user_groups
CREATE TABLE new_user_groups (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id INTEGER NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    code TEXT NOT NULL,
    name TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    UNIQUE (tenant_id, code)
);
INSERT INTO new_user_groups (id, tenant_id, code, name, created_at, updated_at)
SELECT id, tenant_id, code, name, created_at, updated_at FROM user_groups;
DROP TABLE user_groups;
ALTER TABLE new_user_groups RENAME TO user_groups;

-- chats
CREATE TABLE new_chats (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id INTEGER NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    code TEXT NOT NULL,
    name TEXT NOT NULL,
    notifier_id INTEGER REFERENCES notifiers (id) ON DELETE SET NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    UNIQUE (tenant_id, code)
);
INSERT INTO new_chats (id, tenant_id, code, name, notifier_id, created_at, updated_at)
SELECT id, tenant_id, code, name, notifier_id, created_at, updated_at FROM chats;
DROP TABLE chats;
ALTER TABLE new_chats RENAME TO chats;

-- settings
CREATE TABLE new_settings (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id INTEGER NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    project_id INTEGER NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    source_id INTEGER NOT NULL DEFAULT 0,
    revision INTEGER NOT NULL,
    draft TEXT NOT NULL,
    live TEXT NOT NULL,
    live_revision INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    updated_by TEXT NOT NULL DEFAULT '',
    deployed_at INTEGER,
    deployed_by TEXT NOT NULL DEFAULT '',
    UNIQUE (tenant_id, project_id, source_id)
);
INSERT INTO new_settings (id, tenant_id, project_id, source_id, revision, draft, live, live_revision, updated_at, updated_by, deployed_at, deployed_by)
SELECT id, tenant_id, project_id, source_id, revision, draft, live, live_revision, updated_at, updated_by, deployed_at, deployed_by FROM settings;
DROP TABLE settings;
ALTER TABLE new_settings RENAME TO settings;
CREATE INDEX settings_source ON settings (tenant_id, source_id);

-- settings_history
CREATE TABLE new_settings_history (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id INTEGER NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    project_id INTEGER NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    source_id INTEGER NOT NULL DEFAULT 0,
    revision INTEGER NOT NULL,
    action TEXT NOT NULL,
    actor TEXT NOT NULL,
    at INTEGER NOT NULL,
    document TEXT NOT NULL
);
INSERT INTO new_settings_history (id, tenant_id, project_id, source_id, revision, action, actor, at, document)
SELECT id, tenant_id, project_id, source_id, revision, action, actor, at, document FROM settings_history;
DROP TABLE settings_history;
ALTER TABLE new_settings_history RENAME TO settings_history;
CREATE INDEX settings_history_scope ON settings_history (tenant_id, project_id, source_id, id);

-- events
CREATE TABLE new_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id INTEGER NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    project_id INTEGER NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    source_id INTEGER NOT NULL REFERENCES sources (id) ON DELETE CASCADE,
    type TEXT NOT NULL,
    actor TEXT NOT NULL DEFAULT '',
    roles TEXT NOT NULL,
    payload TEXT NOT NULL,
    idempotency_key TEXT NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL,
    fanned_out_at INTEGER
);
INSERT INTO new_events (id, tenant_id, project_id, source_id, type, actor, roles, payload, idempotency_key, created_at, fanned_out_at)
SELECT id, tenant_id, project_id, source_id, type, actor, roles, payload, idempotency_key, created_at, fanned_out_at FROM events;
DROP TABLE events;
ALTER TABLE new_events RENAME TO events;
CREATE INDEX events_tenant ON events (tenant_id, id);
CREATE UNIQUE INDEX events_idempotency ON events (tenant_id, idempotency_key) WHERE idempotency_key <> '';

-- deliveries
CREATE TABLE new_deliveries (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id INTEGER NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    event_id INTEGER REFERENCES events (id) ON DELETE CASCADE,
    push_id INTEGER,
    notifier_id INTEGER NOT NULL,
    channel TEXT NOT NULL,
    user_id INTEGER,
    target TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT NOT NULL DEFAULT '',
    next_attempt_at INTEGER,
    message TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    delivered_at INTEGER,
    message_id TEXT NOT NULL
);
INSERT INTO new_deliveries (id, tenant_id, event_id, push_id, notifier_id, channel, user_id, target, status, attempts, last_error, next_attempt_at, message, created_at, updated_at, delivered_at, message_id)
SELECT id, tenant_id, event_id, push_id, notifier_id, channel, user_id, target, status, attempts, last_error, next_attempt_at, message, created_at, updated_at, delivered_at, 'dlv_' || id FROM deliveries;
DROP TABLE deliveries;
ALTER TABLE new_deliveries RENAME TO deliveries;
CREATE INDEX deliveries_event ON deliveries (tenant_id, event_id, id);
CREATE INDEX deliveries_status ON deliveries (tenant_id, status, id);
CREATE INDEX deliveries_notifier ON deliveries (tenant_id, notifier_id, id);
CREATE INDEX deliveries_push ON deliveries (tenant_id, push_id) WHERE push_id IS NOT NULL;
CREATE INDEX deliveries_created ON deliveries (tenant_id, created_at);

-- inbox_messages
CREATE TABLE new_inbox_messages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id INTEGER NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    event_id INTEGER REFERENCES events (id) ON DELETE CASCADE,
    push_id INTEGER,
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    read_at INTEGER
);
INSERT INTO new_inbox_messages (id, tenant_id, user_id, event_id, push_id, title, body, created_at, read_at)
SELECT id, tenant_id, user_id, event_id, push_id, title, body, created_at, read_at FROM inbox_messages;
DROP TABLE inbox_messages;
ALTER TABLE new_inbox_messages RENAME TO inbox_messages;
CREATE INDEX inbox_user ON inbox_messages (tenant_id, user_id, id);
CREATE INDEX inbox_push ON inbox_messages (tenant_id, push_id) WHERE push_id IS NOT NULL;

-- otps
CREATE TABLE new_otps (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    public_id TEXT NOT NULL UNIQUE,
    tenant_id INTEGER NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    project_id INTEGER NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    notifier_id INTEGER NOT NULL,
    channel TEXT NOT NULL,
    destination TEXT NOT NULL,
    purpose TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    code_hash TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    closed_at INTEGER
);
INSERT INTO new_otps (id, public_id, tenant_id, project_id, notifier_id, channel, destination, purpose, status, attempts, code_hash, created_at, expires_at, closed_at)
SELECT id, public_id, tenant_id, project_id, notifier_id, channel, destination, purpose, status, attempts, code_hash, created_at, expires_at, closed_at FROM otps;
DROP TABLE otps;
ALTER TABLE new_otps RENAME TO otps;
CREATE INDEX otps_destination ON otps (tenant_id, destination, created_at);
CREATE INDEX otps_purpose ON otps (tenant_id, project_id, destination, purpose, id);
CREATE INDEX otps_expires ON otps (expires_at);

-- pushes
CREATE TABLE new_pushes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id INTEGER NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    job_name TEXT NOT NULL,
    content_type TEXT NOT NULL,
    content TEXT NOT NULL,
    push_type INTEGER NOT NULL,
    scope_type INTEGER NOT NULL,
    new_staff_scope_type INTEGER,
    new_staff_department_ids TEXT NOT NULL DEFAULT '[]',
    user_ids TEXT NOT NULL DEFAULT '[]',
    department_ids TEXT NOT NULL DEFAULT '[]',
    chat_ids TEXT NOT NULL DEFAULT '[]',
    send_at INTEGER,
    ext TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL,
    reason TEXT NOT NULL DEFAULT '',
    reject_reason TEXT NOT NULL DEFAULT '',
    read_user_count INTEGER,
    created_by_name TEXT NOT NULL,
    created_by_user_id INTEGER,
    updated_by_name TEXT NOT NULL,
    updated_by_user_id INTEGER,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    started_at INTEGER,
    sent_at INTEGER
);
INSERT INTO new_pushes (id, tenant_id, job_name, content_type, content, push_type, scope_type, new_staff_scope_type, new_staff_department_ids, user_ids, department_ids, chat_ids, send_at, ext, status, reason, reject_reason, read_user_count, created_by_name, created_by_user_id, updated_by_name, updated_by_user_id, created_at, updated_at, started_at, sent_at)
SELECT id, tenant_id, job_name, content_type, content, push_type, scope_type, new_staff_scope_type, new_staff_department_ids, user_ids, department_ids, chat_ids, send_at, ext, status, reason, reject_reason, read_user_count, created_by_name, created_by_user_id, updated_by_name, updated_by_user_id, created_at, updated_at, started_at, sent_at FROM pushes;
DROP TABLE pushes;
ALTER TABLE new_pushes RENAME TO pushes;
CREATE INDEX pushes_tenant ON pushes (tenant_id, id);
CREATE INDEX pushes_status ON pushes (tenant_id, status, id);

-- console_sessions
CREATE TABLE new_console_sessions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    hash TEXT NOT NULL UNIQUE,
    tenant_id INTEGER NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    token_id INTEGER NOT NULL REFERENCES tokens (id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    revoked_at INTEGER
);
INSERT INTO new_console_sessions (id, hash, tenant_id, token_id, created_at, expires_at, revoked_at)
SELECT id, hash, tenant_id, token_id, created_at, expires_at, revoked_at FROM console_sessions;
DROP TABLE console_sessions;
ALTER TABLE new_console_sessions RENAME TO console_sessions;
CREATE INDEX console_sessions_token ON console_sessions (token_id);
CREATE INDEX console_sessions_expires ON console_sessions (expires_at);

CREATE UNIQUE INDEX deliveries_message ON deliveries (message_id);

COMMIT;
PRAGMA foreign_keys = ON;

-- +goose Down
-- The ids stay AUTOINCREMENT: never reusing an id is safe for every
-- version.
DROP INDEX deliveries_message;
ALTER TABLE deliveries DROP COLUMN message_id;
