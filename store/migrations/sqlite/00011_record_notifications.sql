-- +goose Up
-- Kintone's per-record and reminder notifications of a source
-- (herald.RecordNotifications): a draft and a live document, deployed and
-- reverted with the source's settings row, whose revision they share. A
-- source without a row has none.
CREATE TABLE record_notifications (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id INTEGER NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    project_id INTEGER NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    source_id INTEGER NOT NULL REFERENCES sources (id) ON DELETE CASCADE,
    draft TEXT NOT NULL,
    live TEXT NOT NULL,
    UNIQUE (tenant_id, source_id)
);

-- A record's reminder from one reminder notification (rule_key, its
-- content's digest): due at due_at, set by the event event_id (a later
-- event's word wins). seq grows whenever due_at changes; the River job
-- scheduled for due_at carries (id, seq), so a job of an older due time
-- does nothing. fired_at is set when it was sent, cancelled_at when an
-- event of the record cancelled it: the row stays, so that an older event
-- of the record fanned out late cannot bring it back.
CREATE TABLE reminders (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id INTEGER NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    project_id INTEGER NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    source_id INTEGER NOT NULL REFERENCES sources (id) ON DELETE CASCADE,
    record_id TEXT NOT NULL,
    rule_key TEXT NOT NULL,
    event_id INTEGER NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    due_at INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    fired_at INTEGER,
    cancelled_at INTEGER,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    UNIQUE (tenant_id, source_id, record_id, rule_key)
);
CREATE INDEX reminders_event ON reminders (event_id);

-- +goose Down
DROP TABLE reminders;
DROP TABLE record_notifications;
