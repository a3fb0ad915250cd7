-- +goose Up
-- A broadcast push. The target lists are JSON arrays of ids, checked
-- against the directory when written; the counts are computed from
-- push_recipients, deliveries and inbox_messages, except read_user_count,
-- which is kept here once a recall removes the inbox messages it counts.
CREATE TABLE pushes (
    id INTEGER PRIMARY KEY,
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
CREATE INDEX pushes_tenant ON pushes (tenant_id, id);
CREATE INDEX pushes_status ON pushes (tenant_id, status, id);

-- The distinct users a push targeted when it was sent.
CREATE TABLE push_recipients (
    tenant_id INTEGER NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    push_id INTEGER NOT NULL REFERENCES pushes (id) ON DELETE CASCADE,
    user_id INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (push_id, user_id)
);

CREATE INDEX inbox_push ON inbox_messages (tenant_id, push_id) WHERE push_id IS NOT NULL;

-- +goose Down
DROP INDEX inbox_push;
DROP TABLE push_recipients;
DROP TABLE pushes;
