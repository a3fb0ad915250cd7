-- +goose Up
-- People decide (issue 15). A person's time zone (IANA name, '' = UTC);
-- why a delivery was skipped or held (reason: preference, quiet_hours,
-- no_address); deliveries deferred to the end of quiet hours, which the
-- dispatcher takes at lease_until = their due time.
ALTER TABLE users ADD COLUMN time_zone TEXT NOT NULL DEFAULT '';
ALTER TABLE deliveries ADD COLUMN reason TEXT NOT NULL DEFAULT '';
CREATE INDEX deliveries_deferred ON deliveries (lease_until) WHERE status = 'deferred';

-- A person's preferences, one JSON document (herald.UserPreferences) per
-- person, for every project of the tenant.
CREATE TABLE user_preferences (
    user_id INTEGER PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    tenant_id INTEGER NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    revision INTEGER NOT NULL,
    document TEXT NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX user_preferences_tenant ON user_preferences (tenant_id, user_id);

-- The administrator's side (herald.PreferencePolicy): a project's, or with
-- project_id NULL the tenant's, the default of every project.
CREATE TABLE preference_policies (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id INTEGER NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    project_id INTEGER REFERENCES projects (id) ON DELETE CASCADE,
    revision INTEGER NOT NULL,
    document TEXT NOT NULL,
    updated_at INTEGER NOT NULL,
    updated_by TEXT NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX preference_policies_scope ON preference_policies (tenant_id, COALESCE(project_id, 0));

-- The key a project's end-user tokens are signed with, sealed as notifier
-- credentials are.
CREATE TABLE end_user_keys (
    project_id INTEGER PRIMARY KEY REFERENCES projects (id) ON DELETE CASCADE,
    tenant_id INTEGER NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    sealed TEXT NOT NULL,
    created_at INTEGER NOT NULL
);

-- +goose Down
DROP TABLE end_user_keys;
DROP TABLE preference_policies;
DROP TABLE user_preferences;
DROP INDEX deliveries_deferred;
ALTER TABLE deliveries DROP COLUMN reason;
ALTER TABLE users DROP COLUMN time_zone;
