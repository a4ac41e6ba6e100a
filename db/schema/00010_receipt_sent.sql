-- +goose Up
-- When the order's receipt was emailed: the receipt step may run again (a retried activity, a
-- workflow task replayed after a signal arrived during it), and the learner gets one email.
ALTER TABLE orders ADD COLUMN receipt_sent_at timestamptz;

-- +goose Down
ALTER TABLE orders DROP COLUMN receipt_sent_at;
