-- +goose Up
-- Offers, vouchers and coupons (Oscar's model with edX's additions), and their redemptions:
-- reserved when a basket is frozen, consumed when its order is placed, released when its
-- payment fails or expires.

CREATE TABLE ranges (
    id                    bigserial   PRIMARY KEY,
    name                  text        NOT NULL,
    includes_all_products boolean     NOT NULL DEFAULT false,
    course_seat_types     text[]      NOT NULL DEFAULT '{}'
        CHECK (course_seat_types <@ ARRAY['verified', 'professional', 'credit']),
    created_at            timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE range_products (
    range_id   bigint NOT NULL REFERENCES ranges (id) ON DELETE CASCADE,
    product_id bigint NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    PRIMARY KEY (range_id, product_id)
);
CREATE INDEX range_products_product_idx ON range_products (product_id);

CREATE TABLE offers (
    id                      bigserial     PRIMARY KEY,
    name                    text          NOT NULL UNIQUE CHECK (name <> ''),
    offer_type              text          NOT NULL CHECK (offer_type IN ('Site', 'Voucher', 'User', 'Session')),
    range_id                bigint        NOT NULL REFERENCES ranges (id) ON DELETE RESTRICT,
    condition_type          text          NOT NULL DEFAULT 'Count' CHECK (condition_type IN ('Count', 'Value', 'Coverage')),
    condition_value         numeric(12,2) NOT NULL DEFAULT 1 CHECK (condition_value >= 0),
    benefit_type            text          NOT NULL CHECK (benefit_type IN ('Percentage', 'Absolute', 'Fixed price')),
    benefit_value           numeric(12,2) NOT NULL CHECK (benefit_value >= 0),
    max_affected_items      integer       CHECK (max_affected_items IS NULL OR max_affected_items >= 1),
    priority                integer       NOT NULL DEFAULT 0,
    exclusive               boolean       NOT NULL DEFAULT true,
    status                  text          NOT NULL DEFAULT 'Open' CHECK (status IN ('Open', 'Suspended', 'Consumed')),
    start_datetime          timestamptz,
    end_datetime            timestamptz,
    max_global_applications integer       CHECK (max_global_applications IS NULL OR max_global_applications >= 1),
    max_user_applications   integer       CHECK (max_user_applications IS NULL OR max_user_applications >= 1),
    max_basket_applications integer       CHECK (max_basket_applications IS NULL OR max_basket_applications >= 1),
    max_discount            numeric(12,2) CHECK (max_discount IS NULL OR max_discount >= 0),
    email_domains           text          NOT NULL DEFAULT '',
    total_discount          numeric(12,2) NOT NULL DEFAULT 0 CHECK (total_discount >= 0),
    num_applications        integer       NOT NULL DEFAULT 0 CHECK (num_applications >= 0),
    num_orders              integer       NOT NULL DEFAULT 0 CHECK (num_orders >= 0),
    created_at              timestamptz   NOT NULL DEFAULT now(),
    updated_at              timestamptz   NOT NULL DEFAULT now(),
    CHECK (benefit_type <> 'Percentage' OR benefit_value <= 100),
    CHECK (start_datetime IS NULL OR end_datetime IS NULL OR start_datetime < end_datetime)
);
CREATE INDEX offers_site_open_idx ON offers (priority DESC, id) WHERE offer_type = 'Site' AND status = 'Open';

-- Coupons: a product of class Coupon (with its stock record) and these details.
CREATE TABLE coupons (
    product_id    bigint      PRIMARY KEY REFERENCES products (id) ON DELETE CASCADE,
    category      text        NOT NULL DEFAULT '',
    note          text        NOT NULL DEFAULT '',
    voucher_type  text        NOT NULL CHECK (voucher_type IN ('Single use', 'Multi-use', 'Once per customer', 'Multi-use-per-Customer')),
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE vouchers (
    id                   bigserial     PRIMARY KEY,
    code                 text          NOT NULL UNIQUE CHECK (code ~ '^[A-Z0-9]{1,128}$'),
    name                 text          NOT NULL DEFAULT '',
    usage                text          NOT NULL DEFAULT 'Multi-use'
        CHECK (usage IN ('Single use', 'Multi-use', 'Once per customer', 'Multi-use-per-Customer')),
    start_datetime       timestamptz   NOT NULL,
    end_datetime         timestamptz   NOT NULL,
    coupon_id            bigint        REFERENCES coupons (product_id) ON DELETE CASCADE,
    num_basket_additions integer       NOT NULL DEFAULT 0 CHECK (num_basket_additions >= 0),
    num_orders           integer       NOT NULL DEFAULT 0 CHECK (num_orders >= 0),
    total_discount       numeric(12,2) NOT NULL DEFAULT 0 CHECK (total_discount >= 0),
    created_at           timestamptz   NOT NULL DEFAULT now(),
    CHECK (start_datetime < end_datetime)
);
CREATE INDEX vouchers_coupon_idx ON vouchers (coupon_id);

CREATE TABLE voucher_offers (
    voucher_id bigint NOT NULL REFERENCES vouchers (id) ON DELETE CASCADE,
    offer_id   bigint NOT NULL REFERENCES offers (id) ON DELETE CASCADE,
    PRIMARY KEY (voucher_id, offer_id)
);
CREATE INDEX voucher_offers_offer_idx ON voucher_offers (offer_id);

-- One voucher per basket.
CREATE TABLE basket_vouchers (
    basket_id  bigint      PRIMARY KEY REFERENCES baskets (id) ON DELETE CASCADE,
    voucher_id bigint      NOT NULL REFERENCES vouchers (id) ON DELETE CASCADE,
    added_at   timestamptz NOT NULL DEFAULT now()
);

-- What a frozen basket took from an offer (and its voucher). Limits count Reserved and Consumed.
CREATE TABLE redemptions (
    id         bigserial     PRIMARY KEY,
    basket_id  bigint        NOT NULL REFERENCES baskets (id) ON DELETE CASCADE,
    offer_id   bigint        REFERENCES offers (id) ON DELETE SET NULL,
    voucher_id bigint        REFERENCES vouchers (id) ON DELETE SET NULL,
    user_id    bigint        NOT NULL REFERENCES users (id) ON DELETE RESTRICT,
    frequency  integer       NOT NULL CHECK (frequency >= 1),
    amount     numeric(12,2) NOT NULL CHECK (amount >= 0),
    status     text          NOT NULL DEFAULT 'Reserved' CHECK (status IN ('Reserved', 'Consumed', 'Released')),
    created_at timestamptz   NOT NULL DEFAULT now(),
    updated_at timestamptz   NOT NULL DEFAULT now(),
    UNIQUE (basket_id, offer_id)
);
CREATE INDEX redemptions_offer_idx ON redemptions (offer_id, user_id) WHERE status <> 'Released';
CREATE INDEX redemptions_voucher_idx ON redemptions (voucher_id, user_id) WHERE status <> 'Released';

CREATE TABLE order_discounts (
    id           bigserial     PRIMARY KEY,
    order_id     bigint        NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    category     text          NOT NULL DEFAULT 'Basket',
    offer_id     bigint        REFERENCES offers (id) ON DELETE SET NULL,
    offer_name   text          NOT NULL,
    voucher_id   bigint        REFERENCES vouchers (id) ON DELETE SET NULL,
    voucher_code text          NOT NULL DEFAULT '',
    benefit_type text          NOT NULL DEFAULT '',
    benefit_value numeric(12,2) NOT NULL DEFAULT 0,
    frequency    integer       NOT NULL CHECK (frequency >= 1),
    amount       numeric(12,2) NOT NULL CHECK (amount >= 0)
);
CREATE INDEX order_discounts_order_idx ON order_discounts (order_id);

-- Who used a voucher in which order (Oscar's VoucherApplication).
CREATE TABLE voucher_applications (
    id         bigserial   PRIMARY KEY,
    voucher_id bigint      NOT NULL REFERENCES vouchers (id) ON DELETE CASCADE,
    user_id    bigint      NOT NULL REFERENCES users (id) ON DELETE RESTRICT,
    order_id   bigint      NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (voucher_id, order_id)
);

ALTER TABLE order_lines ADD COLUMN discount numeric(12,2) NOT NULL DEFAULT 0 CHECK (discount >= 0);

-- Caches of the catalog and offers hear about every change (LISTEN commerce_cache).
-- +goose StatementBegin
CREATE FUNCTION notify_commerce_cache() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('commerce_cache', TG_TABLE_NAME);
    RETURN NULL;
END;
$$;
-- +goose StatementEnd
CREATE TRIGGER offers_cache AFTER INSERT OR UPDATE OR DELETE ON offers FOR EACH STATEMENT EXECUTE FUNCTION notify_commerce_cache();
CREATE TRIGGER ranges_cache AFTER INSERT OR UPDATE OR DELETE ON ranges FOR EACH STATEMENT EXECUTE FUNCTION notify_commerce_cache();
CREATE TRIGGER range_products_cache AFTER INSERT OR UPDATE OR DELETE ON range_products FOR EACH STATEMENT EXECUTE FUNCTION notify_commerce_cache();
CREATE TRIGGER products_cache AFTER INSERT OR UPDATE OR DELETE ON products FOR EACH STATEMENT EXECUTE FUNCTION notify_commerce_cache();
CREATE TRIGGER stock_records_cache AFTER INSERT OR UPDATE OR DELETE ON stock_records FOR EACH STATEMENT EXECUTE FUNCTION notify_commerce_cache();

-- +goose Down
DROP TRIGGER stock_records_cache ON stock_records;
DROP TRIGGER products_cache ON products;
DROP TRIGGER range_products_cache ON range_products;
DROP TRIGGER ranges_cache ON ranges;
DROP TRIGGER offers_cache ON offers;
DROP FUNCTION notify_commerce_cache();
ALTER TABLE order_lines DROP COLUMN discount;
DROP TABLE voucher_applications, order_discounts, redemptions, basket_vouchers, voucher_offers, vouchers, coupons, offers, range_products, ranges;
