-- +goose Up
-- The single-use 100% vouchers an order line of enrollment codes created at fulfillment.
CREATE TABLE order_line_vouchers (
    order_line_id bigint NOT NULL REFERENCES order_lines (id) ON DELETE CASCADE,
    voucher_id    bigint NOT NULL REFERENCES vouchers (id) ON DELETE CASCADE,
    PRIMARY KEY (order_line_id, voucher_id)
);
CREATE INDEX order_line_vouchers_voucher_idx ON order_line_vouchers (voucher_id);

-- One enrollment code product per course and seat type.
CREATE UNIQUE INDEX products_one_enrollment_code_per_seat_type ON products (course_id, seat_type)
    WHERE product_class = 'Enrollment Code';

-- +goose Down
DROP INDEX products_one_enrollment_code_per_seat_type;
DROP TABLE order_line_vouchers;
