-- +goose Up
-- The outcome a processor message was signalled to its checkout workflow with, once it was. A
-- second message for the same transaction and outcome (the browser's redirect after the
-- server-to-server notification, or a processor's retry) is then recorded but not signalled
-- again: the workflow already has it.
ALTER TABLE payment_processor_responses ADD COLUMN delivered_outcome text;

-- +goose Down
ALTER TABLE payment_processor_responses DROP COLUMN delivered_outcome;
