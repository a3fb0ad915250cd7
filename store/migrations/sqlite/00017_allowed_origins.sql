-- +goose Up
-- The web origins a project's end-user tokens may be used from (CORS for
-- the embedded inbox): a JSON array of normalized origins.
ALTER TABLE projects ADD COLUMN allowed_origins TEXT NOT NULL DEFAULT '[]';

-- +goose Down
ALTER TABLE projects DROP COLUMN allowed_origins;
