-- name: LockRefundableOrders :many
-- The owner's orders whose lines a refund may take, locked in id order so that concurrent
-- creations of refunds for one order run one after the other: with a course id, the Complete
-- orders holding a line of that course; with an order number, that order once it is Complete or
-- in Fulfillment Error (fulfillment has ended).
SELECT o.* FROM orders o
WHERE o.user_id = @user_id
  AND (@order_number::text = '' OR o.number = @order_number::text)
  AND (o.status = 'Complete' OR (@order_number::text <> '' AND o.status = 'Fulfillment Error'))
  AND (@course_id::text = ''
       OR EXISTS (SELECT 1 FROM order_lines ol WHERE ol.order_id = o.id AND ol.course_id = @course_id::text))
ORDER BY o.id
FOR UPDATE;

-- name: GetOrderOwner :one
SELECT id, user_id FROM orders WHERE number = @number;

-- name: ListRefundableLines :many
-- The lines of an order (of one course, when given) that are in no refund line but denied ones.
SELECT ol.* FROM order_lines ol
WHERE ol.order_id = @order_id
  AND (@course_id::text = '' OR ol.course_id = @course_id::text)
  AND NOT EXISTS (SELECT 1 FROM refund_lines rl WHERE rl.order_line_id = ol.id AND rl.status <> 'Denied')
ORDER BY ol.id;

-- name: CreateRefund :one
INSERT INTO refunds (order_id, order_number, user_id, total_credit_excl_tax, currency, status, kind,
                     processor, reference, reason)
VALUES (@order_id, @order_number, @user_id, @total, @currency, 'Open', 'lines', @processor, @reference, @reason)
RETURNING id;

-- name: CreateRefundLine :exec
INSERT INTO refund_lines (refund_id, order_line_id, line_credit_excl_tax, quantity, status)
VALUES (@refund_id, @order_line_id, @credit, @quantity, 'Open');

-- name: CreatePaymentRefund :one
-- A refund of a payment without lines; a payment (processor, reference) is refunded once.
INSERT INTO refunds (order_id, order_number, user_id, total_credit_excl_tax, currency, status, kind,
                     processor, reference, reason)
VALUES (sqlc.narg('order_id'), @order_number, @user_id, @total, @currency, 'Open', 'payment',
        @processor, @reference, @reason)
ON CONFLICT (processor, reference) WHERE kind = 'payment' DO NOTHING
RETURNING id;

-- name: GetPaymentRefundID :one
SELECT id FROM refunds WHERE kind = 'payment' AND processor = @processor AND reference = @reference;

-- name: GetRefund :one
SELECT sqlc.embed(r), u.username, u.email
FROM refunds r JOIN users u ON u.id = r.user_id
WHERE r.id = @id;

-- name: ListRefundLines :many
-- A refund's lines with what revoking them needs: the course and the product's enrollment mode.
SELECT rl.id, rl.order_line_id, ol.partner_sku, ol.title,
       coalesce(ol.course_id, p.course_id, '')::text AS course_id,
       coalesce(p.product_class, '')::text AS product_class,
       coalesce(p.certificate_type, '')::text AS certificate_type,
       coalesce(p.seat_type, '')::text AS seat_type,
       coalesce(p.id_verification_required, false)::boolean AS id_verification_required,
       rl.line_credit_excl_tax, rl.quantity, rl.status
FROM refund_lines rl
JOIN order_lines ol ON ol.id = rl.order_line_id
LEFT JOIN products p ON p.id = ol.product_id
WHERE rl.refund_id = @refund_id
ORDER BY rl.id;

-- name: LockRefund :one
SELECT * FROM refunds WHERE id = @id FOR UPDATE;

-- name: SetRefundStatus :exec
UPDATE refunds SET status = @status, updated_at = now() WHERE id = @id;

-- name: DenyOpenRefundLines :exec
UPDATE refund_lines SET status = 'Denied', updated_at = now() WHERE refund_id = @refund_id AND status = 'Open';

-- name: LockRefundLine :one
SELECT * FROM refund_lines WHERE id = @id AND refund_id = @refund_id FOR UPDATE;

-- name: SetRefundLineStatus :exec
UPDATE refund_lines SET status = @status, updated_at = now() WHERE id = @id;

-- name: SetProcessorRefundID :exec
UPDATE refunds SET processor_refund_id = @processor_refund_id, updated_at = now() WHERE id = @id;

-- name: AddRefundToPaymentSource :execrows
-- Raises what was refunded of the order's payment from processor with reference.
UPDATE payment_sources SET amount_refunded = amount_refunded + @amount
WHERE order_id = @order_id AND source_type = @processor AND reference = @reference;

-- name: CreateRefundedEvent :exec
INSERT INTO payment_events (order_id, event_type, amount, reference, processor_name)
VALUES (@order_id, 'Refunded', @amount, @reference, @processor_name)
ON CONFLICT (order_id, event_type, processor_name, reference) DO NOTHING;
