-- +goose Up
-- Idempotency-Key of the POSTs that create or pay (DESIGN.md §5): the first request's answer,
-- kept for a day, is the answer to every retry with the same key by the same user.
CREATE TABLE idempotency_keys (
    user_id      bigint      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    key          text        NOT NULL CHECK (key <> ''),
    method       text        NOT NULL,
    path         text        NOT NULL,
    request_hash bytea       NOT NULL,
    -- NULL while the first request is being answered.
    status       integer,
    content_type text        NOT NULL DEFAULT '',
    body         bytea       NOT NULL DEFAULT '',
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, key)
);

-- +goose Down
DROP TABLE idempotency_keys;
