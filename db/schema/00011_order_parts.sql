-- +goose Up
-- Which optional parts an order has, so that reading an order skips the parts it has not (most
-- orders have no notes, discounts or enrollment codes).
CREATE VIEW order_parts AS
SELECT o.id AS order_id,
    EXISTS (SELECT 1 FROM order_notes n WHERE n.order_id = o.id) AS has_notes,
    EXISTS (SELECT 1 FROM order_discounts d WHERE d.order_id = o.id) AS has_discounts,
    EXISTS (SELECT 1 FROM order_line_vouchers olv JOIN order_lines ol ON ol.id = olv.order_line_id
            WHERE ol.order_id = o.id) AS has_enrollment_codes
FROM orders o;

-- +goose Down
DROP VIEW order_parts;
