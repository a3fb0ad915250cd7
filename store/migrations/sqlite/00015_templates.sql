-- +goose Up
-- A project's message templates (issue 15): one row per project holding
-- the draft and the live set, as JSON, with one revision counter as the
-- settings have; a project that never wrote templates has no row (the
-- built-in templates serve it).
CREATE TABLE templates (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id INTEGER NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    project_id INTEGER NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    revision INTEGER NOT NULL,
    draft TEXT NOT NULL,
    live TEXT NOT NULL,
    live_revision INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    updated_by TEXT NOT NULL DEFAULT '',
    deployed_at INTEGER,
    deployed_by TEXT NOT NULL DEFAULT '',
    UNIQUE (tenant_id, project_id)
);

CREATE TABLE templates_history (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id INTEGER NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    project_id INTEGER NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    revision INTEGER NOT NULL,
    action TEXT NOT NULL,
    actor TEXT NOT NULL,
    at INTEGER NOT NULL,
    document TEXT NOT NULL
);
CREATE INDEX templates_history_project ON templates_history (tenant_id, project_id, id);

-- +goose Down
DROP TABLE templates_history;
DROP TABLE templates;
