-- +goose Up
-- The console's per-minute chart reads the last hour of deliveries.
CREATE INDEX deliveries_created ON deliveries (tenant_id, created_at);

-- +goose Down
DROP INDEX deliveries_created;
