-- +goose Up
CREATE TABLE events (
    id INTEGER PRIMARY KEY,
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
CREATE INDEX events_tenant ON events (tenant_id, id);
CREATE UNIQUE INDEX events_idempotency ON events (tenant_id, idempotency_key) WHERE idempotency_key <> '';

CREATE TABLE deliveries (
    id INTEGER PRIMARY KEY,
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
    delivered_at INTEGER
);
CREATE INDEX deliveries_event ON deliveries (tenant_id, event_id, id);
CREATE INDEX deliveries_status ON deliveries (tenant_id, status, id);
CREATE INDEX deliveries_notifier ON deliveries (tenant_id, notifier_id, id);
CREATE INDEX deliveries_push ON deliveries (tenant_id, push_id) WHERE push_id IS NOT NULL;

CREATE TABLE inbox_messages (
    id INTEGER PRIMARY KEY,
    tenant_id INTEGER NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    event_id INTEGER REFERENCES events (id) ON DELETE CASCADE,
    push_id INTEGER,
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    read_at INTEGER
);
CREATE INDEX inbox_user ON inbox_messages (tenant_id, user_id, id);

-- +goose Down
DROP TABLE inbox_messages;
DROP TABLE deliveries;
DROP TABLE events;
