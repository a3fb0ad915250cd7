-- +goose Up
CREATE TABLE project_notification_settings (
    project_id INTEGER PRIMARY KEY REFERENCES projects (id) ON DELETE CASCADE,
    tenant_id INTEGER NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    sms_notifier_id INTEGER REFERENCES notifiers (id) ON DELETE SET NULL,
    email_notifier_id INTEGER REFERENCES notifiers (id) ON DELETE SET NULL,
    otp_code_len INTEGER NOT NULL,
    otp_ttl INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);

-- One-time codes. code_hash is an HMAC of the code, cleared once the code
-- is used or void; the code itself is never stored.
CREATE TABLE otps (
    id INTEGER PRIMARY KEY,
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
CREATE INDEX otps_destination ON otps (tenant_id, destination, created_at);
CREATE INDEX otps_purpose ON otps (tenant_id, project_id, destination, purpose, id);
CREATE INDEX otps_expires ON otps (expires_at);

-- +goose Down
DROP TABLE otps;
DROP TABLE project_notification_settings;
