-- +goose Up
-- The read cache's epoch (store/cache.go): every change to a cached table
-- bumps it in the changing transaction, whoever makes it, and each node
-- reads it at most once a second to learn that its cache is stale.
CREATE TABLE cache_epoch (n BIGINT NOT NULL); -- one row
INSERT INTO cache_epoch (n) VALUES (0);

-- +goose StatementBegin
CREATE FUNCTION herald_cache_epoch_bump() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE cache_epoch SET n = n + 1;
    RETURN NULL;
END
$$;
-- +goose StatementEnd

-- A token's use (last_used_at) changes nothing cached.
CREATE TRIGGER tokens_cache AFTER UPDATE OF tenant_id, hash, permissions, project_id, revoked_at OR DELETE ON tokens
    FOR EACH STATEMENT EXECUTE FUNCTION herald_cache_epoch_bump();
CREATE TRIGGER sources_cache AFTER UPDATE OR DELETE ON sources
    FOR EACH STATEMENT EXECUTE FUNCTION herald_cache_epoch_bump();
CREATE TRIGGER settings_cache AFTER UPDATE OR DELETE ON settings
    FOR EACH STATEMENT EXECUTE FUNCTION herald_cache_epoch_bump();

-- +goose Down
DROP TRIGGER settings_cache ON settings;
DROP TRIGGER sources_cache ON sources;
DROP TRIGGER tokens_cache ON tokens;
DROP FUNCTION herald_cache_epoch_bump();
DROP TABLE cache_epoch;
