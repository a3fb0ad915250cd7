-- +goose Up
-- A fan-out writes deliveries and inbox messages by the ten thousand, and
-- on PostgreSQL every row's foreign keys (its tenant, its event, its
-- person) were checked by a trigger that looks the referenced row up and
-- locks it: half the time of a 10,000-person fan-out. The store deletes
-- them itself with their event (a source or project deleted) or person
-- (store.Tx.deleteEvents, DB.DeleteUser); SQLite keeps its keys, whose
-- checks are a primary-key look-up.
ALTER TABLE deliveries DROP CONSTRAINT deliveries_tenant_id_fkey, DROP CONSTRAINT deliveries_event_id_fkey;
ALTER TABLE inbox_messages DROP CONSTRAINT inbox_messages_tenant_id_fkey, DROP CONSTRAINT inbox_messages_user_id_fkey,
    DROP CONSTRAINT inbox_messages_event_id_fkey;

-- +goose Down
DELETE FROM deliveries d WHERE NOT EXISTS (SELECT 1 FROM tenants t WHERE t.id = d.tenant_id)
    OR (d.event_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM events e WHERE e.id = d.event_id));
DELETE FROM inbox_messages m WHERE NOT EXISTS (SELECT 1 FROM tenants t WHERE t.id = m.tenant_id)
    OR NOT EXISTS (SELECT 1 FROM users u WHERE u.id = m.user_id)
    OR (m.event_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM events e WHERE e.id = m.event_id));
ALTER TABLE deliveries ADD CONSTRAINT deliveries_tenant_id_fkey FOREIGN KEY (tenant_id) REFERENCES tenants (id) ON DELETE CASCADE,
    ADD CONSTRAINT deliveries_event_id_fkey FOREIGN KEY (event_id) REFERENCES events (id) ON DELETE CASCADE;
ALTER TABLE inbox_messages ADD CONSTRAINT inbox_messages_tenant_id_fkey FOREIGN KEY (tenant_id) REFERENCES tenants (id) ON DELETE CASCADE,
    ADD CONSTRAINT inbox_messages_user_id_fkey FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE,
    ADD CONSTRAINT inbox_messages_event_id_fkey FOREIGN KEY (event_id) REFERENCES events (id) ON DELETE CASCADE;
