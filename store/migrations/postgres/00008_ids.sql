-- +goose Up
-- Identity columns never hand out an id twice, so unlike SQLite (see the
-- SQLite migration) no table is rebuilt here.
--
-- deliveries.message_id is a delivery's globally unique message id
-- ("msg_" and a UUIDv7 in hex, given when the delivery is created): webhooks
-- send it as webhook-id on every attempt. Existing deliveries keep the
-- "dlv_<id>" they were sent with, so their resends still match.
ALTER TABLE deliveries ADD COLUMN message_id TEXT;
UPDATE deliveries SET message_id = 'dlv_' || id;
ALTER TABLE deliveries ALTER COLUMN message_id SET NOT NULL;
CREATE UNIQUE INDEX deliveries_message ON deliveries (message_id);

-- +goose Down
DROP INDEX deliveries_message;
ALTER TABLE deliveries DROP COLUMN message_id;
