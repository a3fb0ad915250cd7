-- +goose Up
-- Four eyes on pushes: who submitted a push (token, and the directory user
-- it acts for), so that the approver can be told apart; and the tenant's
-- push policy, whose self-approval is off unless the tenant turns it on.
ALTER TABLE pushes ADD COLUMN submitted_by_token_id INTEGER;
ALTER TABLE pushes ADD COLUMN submitted_by_user_id INTEGER;
ALTER TABLE tenants ADD COLUMN push_self_approval INTEGER NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE tenants DROP COLUMN push_self_approval;
ALTER TABLE pushes DROP COLUMN submitted_by_user_id;
ALTER TABLE pushes DROP COLUMN submitted_by_token_id;
