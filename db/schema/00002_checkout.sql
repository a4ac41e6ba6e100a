-- +goose Up
-- A checkout is a frozen basket on its way to an order: the answer given to the storefront
-- (so asking twice returns the same), and the snapshot the checkout workflow starts from (so a
-- late payment can always restart it).
CREATE TABLE checkouts (
    basket_id         bigint      PRIMARY KEY REFERENCES baskets (id) ON DELETE RESTRICT,
    order_number      text        NOT NULL UNIQUE CHECK (order_number <> ''),
    user_id           bigint      NOT NULL REFERENCES users (id) ON DELETE RESTRICT,
    payment_processor text        NOT NULL CHECK (payment_processor <> ''),
    payment_page_url  text        NOT NULL DEFAULT '',
    payment_form_data jsonb       NOT NULL DEFAULT '{}',
    snapshot          jsonb       NOT NULL,
    status            text        NOT NULL DEFAULT 'AwaitingPayment',
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now()
);

ALTER TABLE order_lines ADD COLUMN course_id text;
ALTER TABLE order_lines ADD COLUMN fulfillment_attempts integer NOT NULL DEFAULT 0 CHECK (fulfillment_attempts >= 0);
ALTER TABLE order_lines ADD COLUMN fulfillment_error text NOT NULL DEFAULT '';

-- Order notes, as edX keeps them: why a fulfillment failed, who marked an order fulfilled.
CREATE TABLE order_notes (
    id         bigserial   PRIMARY KEY,
    order_id   bigint      NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    note_type  text        NOT NULL DEFAULT 'Info' CHECK (note_type IN ('Info', 'Error', 'Warning')),
    message    text        NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX order_notes_order_idx ON order_notes (order_id);

CREATE INDEX payment_processor_responses_order_idx ON payment_processor_responses (order_number);

-- +goose Down
DROP INDEX payment_processor_responses_order_idx;
DROP TABLE order_notes;
ALTER TABLE order_lines DROP COLUMN fulfillment_error, DROP COLUMN fulfillment_attempts, DROP COLUMN course_id;
DROP TABLE checkouts;
