-- +goose Up
-- Leases: a claimed delivery (sending) or a fanned-out event belongs to the
-- node that claimed it until lease_until; past it, any node's dispatcher
-- takes it again. A pending delivery waiting for its retry or its rate
-- limit slot has lease_until = its due time.
ALTER TABLE deliveries ADD COLUMN lease_until INTEGER;
CREATE INDEX deliveries_lease ON deliveries (lease_until) WHERE status IN ('pending', 'sending');
CREATE INDEX deliveries_unleased ON deliveries (updated_at) WHERE status = 'pending' AND lease_until IS NULL;
ALTER TABLE events ADD COLUMN fanout_lease_until INTEGER;
CREATE INDEX events_unfanned ON events (created_at) WHERE fanned_out_at IS NULL;

-- Rate limits shared by every node: the sends of the last window per
-- target (a hash of the robot's URL), and a pause a target asked for.
CREATE TABLE rate_limit_keys (
    key TEXT PRIMARY KEY,
    blocked_until INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE rate_limit_sends (
    key TEXT NOT NULL,
    at INTEGER NOT NULL
);
CREATE INDEX rate_limit_sends_key ON rate_limit_sends (key, at);

-- +goose Down
DROP TABLE rate_limit_sends;
DROP TABLE rate_limit_keys;
DROP INDEX events_unfanned;
ALTER TABLE events DROP COLUMN fanout_lease_until;
DROP INDEX deliveries_unleased;
DROP INDEX deliveries_lease;
ALTER TABLE deliveries DROP COLUMN lease_until;
