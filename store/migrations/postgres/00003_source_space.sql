-- +goose Up
ALTER TABLE sources ADD COLUMN space_id TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE sources DROP COLUMN space_id;
