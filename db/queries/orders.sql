-- name: GetOrderByNumber :one
-- The order and which optional parts it has (order_parts): reads of the others are skipped.
SELECT sqlc.embed(o), u.username, u.email, sqlc.embed(p)
FROM orders o JOIN users u ON u.id = o.user_id JOIN order_parts p ON p.order_id = o.id
WHERE o.number = @number;

-- name: LockOrderByNumber :one
SELECT * FROM orders WHERE number = @number FOR UPDATE;

-- name: CreateOrder :one
INSERT INTO orders (number, basket_id, user_id, currency, total_incl_tax, total_excl_tax,
                    total_before_discounts_incl_tax, status, payment_processor)
VALUES (@number, @basket_id, @user_id, @currency, @total, @total, @total_before_discounts, 'Open', @payment_processor)
ON CONFLICT (number) DO NOTHING
RETURNING *;

-- name: CreateOrderLine :exec
INSERT INTO order_lines (order_id, product_id, stock_record_id, partner_sku, title, quantity,
    unit_price_incl_tax, unit_price_excl_tax, line_price_incl_tax, line_price_excl_tax,
    line_price_before_discounts_incl_tax, line_price_before_discounts_excl_tax, status, course_id, discount)
VALUES (@order_id, @product_id, @stock_record_id, @partner_sku, @title, @quantity,
    @unit_price, @unit_price, @line_price, @line_price, @line_price_before_discounts, @line_price_before_discounts,
    'Open', sqlc.narg('course_id'), @discount);

-- name: ListOrderLines :many
SELECT * FROM order_lines WHERE order_id = @order_id ORDER BY id;

-- name: ListOrdersOfUser :many
SELECT sqlc.embed(o), u.username, u.email, sqlc.embed(p)
FROM orders o JOIN users u ON u.id = o.user_id JOIN order_parts p ON p.order_id = o.id
WHERE o.user_id = @user_id
ORDER BY o.date_placed DESC, o.id DESC
LIMIT @page_limit OFFSET @page_offset;

-- name: CountOrdersOfUser :one
SELECT count(*) FROM orders WHERE user_id = @user_id;

-- name: RecordOrderLineFulfillmentAttempts :exec
UPDATE order_lines SET status = @status, fulfillment_error = @fulfillment_error,
    fulfillment_attempts = fulfillment_attempts + @attempts
WHERE order_id = @order_id AND partner_sku = @partner_sku
  AND (status <> 'Complete' OR @status::text = 'Complete'); -- a late failure never undoes a completed line

-- name: SetOrderStatus :exec
UPDATE orders SET status = @status, updated_at = now() WHERE id = @id;

-- name: CompleteOpenOrderLines :exec
UPDATE order_lines SET status = 'Complete', fulfillment_error = '' WHERE order_id = @order_id AND status <> 'Complete';

-- name: CreateOrderNote :exec
INSERT INTO order_notes (order_id, note_type, message) VALUES (@order_id, @note_type, @message);

-- name: CreatePaymentSource :exec
INSERT INTO payment_sources (order_id, source_type, currency, amount_allocated, amount_debited, reference, label, card_type)
VALUES (@order_id, @source_type, @currency, @amount, @amount, @reference, @label, @card_type)
ON CONFLICT (order_id, source_type, reference) DO NOTHING;

-- name: CreatePaymentEvent :exec
INSERT INTO payment_events (order_id, event_type, amount, reference, processor_name)
VALUES (@order_id, 'Paid', @amount, @reference, @processor_name)
ON CONFLICT (order_id, event_type, processor_name, reference) DO NOTHING;

-- name: GetPaymentSource :one
SELECT * FROM payment_sources WHERE order_id = @order_id ORDER BY id LIMIT 1;

-- name: CountPaidEvents :one
SELECT count(*) FROM payment_events e JOIN orders o ON o.id = e.order_id
WHERE o.number = @number AND e.event_type = 'Paid';

-- name: ListOrderNotes :many
SELECT note_type, message, created_at FROM order_notes WHERE order_id = @order_id ORDER BY id;

-- name: OrderReceiptSent :one
SELECT (receipt_sent_at IS NOT NULL)::boolean AS sent FROM orders WHERE number = @number;

-- name: MarkOrderReceiptSent :exec
UPDATE orders SET receipt_sent_at = now() WHERE number = @number AND receipt_sent_at IS NULL;
