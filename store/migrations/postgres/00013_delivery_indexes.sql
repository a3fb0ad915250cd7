-- +goose Up
-- Every index on deliveries is written again by each claim and each
-- outcome (neither is a HOT update: status changes), so the engine's cost
-- grows with their number. Two go:
-- - deliveries_message: a message id is a UUIDv7 (48 bits of time, 74
--   random), unique by construction, and nothing looks a delivery up by it.
-- - deliveries_unleased: the dispatcher's look-up of new deliveries whose
--   job nobody took (lease_until IS NULL, oldest updated_at first) is served
--   by the lease index once it carries updated_at after lease_until.
DROP INDEX deliveries_message;
DROP INDEX deliveries_unleased;
DROP INDEX deliveries_lease;
CREATE INDEX deliveries_lease ON deliveries (lease_until, updated_at) WHERE status IN ('pending', 'sending');

-- +goose Down
DROP INDEX deliveries_lease;
CREATE INDEX deliveries_lease ON deliveries (lease_until) WHERE status IN ('pending', 'sending');
CREATE INDEX deliveries_unleased ON deliveries (updated_at) WHERE status = 'pending' AND lease_until IS NULL;
CREATE UNIQUE INDEX deliveries_message ON deliveries (message_id);
