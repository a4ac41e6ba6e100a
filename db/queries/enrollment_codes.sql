-- name: GetOrderLineBySKU :one
SELECT * FROM order_lines WHERE order_id = @order_id AND partner_sku = @partner_sku;

-- name: CountOrderLineVouchers :one
SELECT count(*) FROM order_line_vouchers WHERE order_line_id = @order_line_id;

-- name: AddOrderLineVoucher :exec
INSERT INTO order_line_vouchers (order_line_id, voucher_id) VALUES (@order_line_id, @voucher_id);

-- name: GetSeatOfCourse :one
SELECT * FROM products
WHERE product_class = 'Seat' AND course_id = @course_id AND certificate_type = @certificate_type
ORDER BY id LIMIT 1;

-- name: ListOrderEnrollmentCodes :many
SELECT olv.order_line_id, sqlc.embed(v)
FROM order_line_vouchers olv
JOIN order_lines ol ON ol.id = olv.order_line_id
JOIN vouchers v ON v.id = olv.voucher_id
WHERE ol.order_id = @order_id
ORDER BY v.id;

-- name: SetOrderLineComplete :exec
UPDATE order_lines SET status = 'Complete', fulfillment_error = '', fulfillment_attempts = fulfillment_attempts + 1
WHERE id = @id;

-- name: CreateEnrollmentCodeVoucher :one
INSERT INTO vouchers (code, name, usage, start_datetime, end_datetime)
VALUES (@code, @name, 'Single use', @start_datetime, @end_datetime)
ON CONFLICT (code) DO NOTHING
RETURNING id;
