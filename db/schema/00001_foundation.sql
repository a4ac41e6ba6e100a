-- +goose Up
-- The whole domain: users mirrored from the LMS, the catalog, baskets, orders, payments and
-- refunds. Behaviour comes with later migrations' issues; constraints live here.

CREATE TABLE users (
    id            bigserial PRIMARY KEY,
    username      text        NOT NULL UNIQUE CHECK (username <> ''),
    email         text        NOT NULL DEFAULT '',
    full_name     text        NOT NULL DEFAULT '',
    is_staff      boolean     NOT NULL DEFAULT false,
    lms_user_id   bigint,
    date_joined   timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX users_email_idx ON users (lower(email));

CREATE TABLE courses (
    id                    text        PRIMARY KEY CHECK (id ~ '^[^/+]+(/|\+)[^/+]+(/|\+)[^/]+$'),
    name                  text        NOT NULL CHECK (name <> ''),
    verification_deadline timestamptz,
    created_at            timestamptz NOT NULL DEFAULT now(),
    updated_at            timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE products (
    id                       bigserial   PRIMARY KEY,
    product_class            text        NOT NULL
        CHECK (product_class IN ('Seat', 'Coupon', 'Enrollment Code', 'Course Entitlement')),
    course_id                text        REFERENCES courses (id) ON DELETE RESTRICT,
    title                    text        NOT NULL CHECK (title <> ''),
    expires                  timestamptz,
    -- attributes (typed columns instead of Oscar's entity-attribute-value rows)
    certificate_type         text        NOT NULL DEFAULT '',
    id_verification_required boolean     NOT NULL DEFAULT false,
    course_key               text,
    credit_provider          text        NOT NULL DEFAULT '',
    credit_hours             integer     CHECK (credit_hours IS NULL OR credit_hours >= 0),
    seat_type                text        NOT NULL DEFAULT '',
    created_at               timestamptz NOT NULL DEFAULT now(),
    updated_at               timestamptz NOT NULL DEFAULT now(),
    CHECK (product_class NOT IN ('Seat', 'Enrollment Code') OR course_id IS NOT NULL)
);
CREATE INDEX products_course_idx ON products (course_id);
-- One seat per (course, certificate type, verification, credit provider).
CREATE UNIQUE INDEX products_one_seat_per_kind ON products
    (course_id, certificate_type, id_verification_required, credit_provider)
    WHERE product_class = 'Seat';

CREATE TABLE stock_records (
    id             bigserial     PRIMARY KEY,
    product_id     bigint        NOT NULL UNIQUE REFERENCES products (id) ON DELETE CASCADE,
    partner_sku    text          NOT NULL UNIQUE CHECK (partner_sku <> ''),
    price          numeric(12,2) NOT NULL CHECK (price >= 0),
    price_currency text          NOT NULL CHECK (price_currency ~ '^[A-Z]{3}$'),
    created_at     timestamptz   NOT NULL DEFAULT now(),
    updated_at     timestamptz   NOT NULL DEFAULT now()
);

CREATE TABLE catalogs (
    id         bigserial   PRIMARY KEY,
    name       text        NOT NULL CHECK (name <> ''),
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE catalog_stock_records (
    catalog_id      bigint NOT NULL REFERENCES catalogs (id) ON DELETE CASCADE,
    stock_record_id bigint NOT NULL REFERENCES stock_records (id) ON DELETE CASCADE,
    PRIMARY KEY (catalog_id, stock_record_id)
);

CREATE TABLE baskets (
    id             bigserial   PRIMARY KEY,
    owner_id       bigint      NOT NULL REFERENCES users (id) ON DELETE RESTRICT,
    status         text        NOT NULL DEFAULT 'Open'
        CHECK (status IN ('Open', 'Merged', 'Saved', 'Frozen', 'Submitted')),
    created_at     timestamptz NOT NULL DEFAULT now(),
    date_merged    timestamptz,
    date_submitted timestamptz,
    CHECK ((status = 'Submitted') = (date_submitted IS NOT NULL))
);
CREATE INDEX baskets_owner_idx ON baskets (owner_id);
-- One open basket per user.
CREATE UNIQUE INDEX baskets_one_open_per_owner ON baskets (owner_id) WHERE status = 'Open';

CREATE TABLE basket_lines (
    id              bigserial     PRIMARY KEY,
    basket_id       bigint        NOT NULL REFERENCES baskets (id) ON DELETE CASCADE,
    product_id      bigint        NOT NULL REFERENCES products (id) ON DELETE RESTRICT,
    stock_record_id bigint        NOT NULL REFERENCES stock_records (id) ON DELETE RESTRICT,
    quantity        integer       NOT NULL DEFAULT 1 CHECK (quantity > 0),
    price_currency  text          NOT NULL CHECK (price_currency ~ '^[A-Z]{3}$'),
    price_excl_tax  numeric(12,2) NOT NULL CHECK (price_excl_tax >= 0),
    price_incl_tax  numeric(12,2) NOT NULL CHECK (price_incl_tax >= 0),
    created_at      timestamptz   NOT NULL DEFAULT now(),
    UNIQUE (basket_id, product_id)
);

CREATE TABLE orders (
    id                              bigserial     PRIMARY KEY,
    number                          text          NOT NULL UNIQUE CHECK (number <> ''),
    basket_id                       bigint        NOT NULL UNIQUE REFERENCES baskets (id) ON DELETE RESTRICT,
    user_id                         bigint        NOT NULL REFERENCES users (id) ON DELETE RESTRICT,
    currency                        text          NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    total_incl_tax                  numeric(12,2) NOT NULL CHECK (total_incl_tax >= 0),
    total_excl_tax                  numeric(12,2) NOT NULL CHECK (total_excl_tax >= 0),
    total_before_discounts_incl_tax numeric(12,2) NOT NULL CHECK (total_before_discounts_incl_tax >= 0),
    status                          text          NOT NULL DEFAULT 'Open'
        CHECK (status IN ('Pending', 'Payment Error', 'Open', 'Fulfillment Error', 'Complete')),
    payment_processor               text          NOT NULL DEFAULT '',
    date_placed                     timestamptz   NOT NULL DEFAULT now(),
    updated_at                      timestamptz   NOT NULL DEFAULT now()
);
CREATE INDEX orders_user_idx ON orders (user_id, date_placed DESC);

CREATE TABLE order_lines (
    id                                bigserial     PRIMARY KEY,
    order_id                          bigint        NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    product_id                        bigint        REFERENCES products (id) ON DELETE SET NULL,
    stock_record_id                   bigint        REFERENCES stock_records (id) ON DELETE SET NULL,
    partner_sku                       text          NOT NULL,
    title                             text          NOT NULL,
    quantity                          integer       NOT NULL CHECK (quantity > 0),
    unit_price_incl_tax               numeric(12,2) NOT NULL CHECK (unit_price_incl_tax >= 0),
    unit_price_excl_tax               numeric(12,2) NOT NULL CHECK (unit_price_excl_tax >= 0),
    line_price_incl_tax               numeric(12,2) NOT NULL CHECK (line_price_incl_tax >= 0),
    line_price_excl_tax               numeric(12,2) NOT NULL CHECK (line_price_excl_tax >= 0),
    line_price_before_discounts_incl_tax numeric(12,2) NOT NULL CHECK (line_price_before_discounts_incl_tax >= 0),
    line_price_before_discounts_excl_tax numeric(12,2) NOT NULL CHECK (line_price_before_discounts_excl_tax >= 0),
    status                            text          NOT NULL DEFAULT 'Open'
        CHECK (status IN ('Open', 'Complete', 'Fulfillment Configuration Error',
                          'Fulfillment Network Error', 'Fulfillment Timeout Error',
                          'Fulfillment Server Error')),
    UNIQUE (order_id, product_id)
);
CREATE INDEX order_lines_product_idx ON order_lines (product_id);

CREATE TABLE payment_sources (
    id               bigserial     PRIMARY KEY,
    order_id         bigint        NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    source_type      text          NOT NULL CHECK (source_type <> ''),
    currency         text          NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    amount_allocated numeric(12,2) NOT NULL DEFAULT 0 CHECK (amount_allocated >= 0),
    amount_debited   numeric(12,2) NOT NULL DEFAULT 0 CHECK (amount_debited >= 0),
    amount_refunded  numeric(12,2) NOT NULL DEFAULT 0 CHECK (amount_refunded >= 0),
    reference        text          NOT NULL DEFAULT '',
    label            text          NOT NULL DEFAULT '',
    card_type        text          NOT NULL DEFAULT ''
        CHECK (card_type IN ('', 'american_express', 'diners', 'discover', 'jcb', 'mastercard',
                             'unionpay', 'unknown', 'visa')),
    created_at       timestamptz   NOT NULL DEFAULT now(),
    CHECK (amount_refunded <= amount_debited),
    UNIQUE (order_id, source_type, reference)
);

CREATE TABLE payment_events (
    id             bigserial     PRIMARY KEY,
    order_id       bigint        NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    event_type     text          NOT NULL CHECK (event_type IN ('Paid', 'Refunded')),
    amount         numeric(12,2) NOT NULL CHECK (amount >= 0),
    reference      text          NOT NULL DEFAULT '',
    processor_name text          NOT NULL CHECK (processor_name <> ''),
    created_at     timestamptz   NOT NULL DEFAULT now(),
    UNIQUE (order_id, event_type, processor_name, reference)
);

-- Every message exchanged with a processor, authentic or not, recorded before it is acted on.
CREATE TABLE payment_processor_responses (
    id              bigserial   PRIMARY KEY,
    processor_name  text        NOT NULL CHECK (processor_name <> ''),
    transaction_id  text,
    basket_id       bigint      REFERENCES baskets (id) ON DELETE SET NULL,
    order_number    text        NOT NULL DEFAULT '',
    kind            text        NOT NULL DEFAULT 'notification',
    authentic       boolean,
    response        jsonb       NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX payment_processor_responses_txn_idx
    ON payment_processor_responses (processor_name, transaction_id);
CREATE INDEX payment_processor_responses_basket_idx ON payment_processor_responses (basket_id);

CREATE TABLE refunds (
    id                    bigserial     PRIMARY KEY,
    order_id              bigint        NOT NULL REFERENCES orders (id) ON DELETE RESTRICT,
    user_id               bigint        NOT NULL REFERENCES users (id) ON DELETE RESTRICT,
    total_credit_excl_tax numeric(12,2) NOT NULL CHECK (total_credit_excl_tax >= 0),
    currency              text          NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    status                text          NOT NULL DEFAULT 'Open'
        CHECK (status IN ('Open', 'Denied', 'Payment Refund Error', 'Payment Refunded',
                          'Revocation Error', 'Complete')),
    created_at            timestamptz   NOT NULL DEFAULT now(),
    updated_at            timestamptz   NOT NULL DEFAULT now()
);
CREATE INDEX refunds_order_idx ON refunds (order_id);

CREATE TABLE refund_lines (
    id                  bigserial     PRIMARY KEY,
    refund_id           bigint        NOT NULL REFERENCES refunds (id) ON DELETE CASCADE,
    order_line_id       bigint        NOT NULL REFERENCES order_lines (id) ON DELETE RESTRICT,
    line_credit_excl_tax numeric(12,2) NOT NULL CHECK (line_credit_excl_tax >= 0),
    quantity            integer       NOT NULL CHECK (quantity > 0),
    status              text          NOT NULL DEFAULT 'Open'
        CHECK (status IN ('Open', 'Revocation Error', 'Denied', 'Complete')),
    created_at          timestamptz   NOT NULL DEFAULT now(),
    updated_at          timestamptz   NOT NULL DEFAULT now()
);
CREATE INDEX refund_lines_order_line_idx ON refund_lines (order_line_id);

-- +goose Down
DROP TABLE refund_lines, refunds, payment_processor_responses, payment_events, payment_sources,
    order_lines, orders, basket_lines, baskets, catalog_stock_records, catalogs, stock_records,
    products, courses, users;
