-- +goose Up
-- The read cache's epoch (store/cache.go): every change to a cached table
-- bumps it in the changing transaction, whoever makes it (another process
-- writing the same file, a cascade), and each process reads it at most once
-- a second to learn that its cache is stale.
CREATE TABLE cache_epoch (n INTEGER NOT NULL); -- one row
INSERT INTO cache_epoch (n) VALUES (0);

-- +goose StatementBegin
CREATE TRIGGER tokens_cache_update AFTER UPDATE OF tenant_id, hash, permissions, project_id, revoked_at ON tokens BEGIN
    UPDATE cache_epoch SET n = n + 1;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER tokens_cache_delete AFTER DELETE ON tokens BEGIN
    UPDATE cache_epoch SET n = n + 1;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER sources_cache_update AFTER UPDATE ON sources BEGIN
    UPDATE cache_epoch SET n = n + 1;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER sources_cache_delete AFTER DELETE ON sources BEGIN
    UPDATE cache_epoch SET n = n + 1;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER settings_cache_update AFTER UPDATE ON settings BEGIN
    UPDATE cache_epoch SET n = n + 1;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER settings_cache_delete AFTER DELETE ON settings BEGIN
    UPDATE cache_epoch SET n = n + 1;
END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER settings_cache_delete;
DROP TRIGGER settings_cache_update;
DROP TRIGGER sources_cache_delete;
DROP TRIGGER sources_cache_update;
DROP TRIGGER tokens_cache_delete;
DROP TRIGGER tokens_cache_update;
DROP TABLE cache_epoch;
