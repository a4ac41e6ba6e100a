-- name: LockBasket :one
SELECT * FROM baskets WHERE id = @id FOR UPDATE;

-- name: SetBasketStatus :exec
UPDATE baskets SET status = @status,
    date_submitted = CASE WHEN @status::text = 'Submitted' THEN coalesce(date_submitted, now()) ELSE date_submitted END
WHERE id = @id;

-- name: CreateCheckout :one
INSERT INTO checkouts (basket_id, order_number, user_id, payment_processor, payment_page_url, payment_form_data, snapshot)
VALUES (@basket_id, @order_number, @user_id, @payment_processor, @payment_page_url, @payment_form_data, @snapshot)
RETURNING *;

-- name: GetCheckoutByBasket :one
SELECT * FROM checkouts WHERE basket_id = @basket_id;

-- name: GetCheckoutByOrderNumber :one
SELECT * FROM checkouts WHERE order_number = @order_number;

-- name: SetCheckoutStatus :exec
-- A checkout that no longer needs attention loses its reason.
UPDATE checkouts SET status = @status, updated_at = now(),
    attention_reason = CASE WHEN @status::text = 'NeedsAttention' THEN attention_reason ELSE '' END
WHERE order_number = @order_number;

-- name: CreateProcessorResponse :one
INSERT INTO payment_processor_responses (processor_name, transaction_id, basket_id, order_number, kind, authentic, response)
VALUES (@processor_name, sqlc.narg('transaction_id'), sqlc.narg('basket_id'), @order_number, @kind, sqlc.narg('authentic'), @response)
RETURNING id;

-- name: CountProcessorResponses :one
SELECT count(*) FROM payment_processor_responses WHERE order_number = @order_number;

-- name: BasketExists :one
SELECT EXISTS (SELECT 1 FROM baskets WHERE id = @id);

-- name: GetDeploymentID :one
SELECT id::text FROM deployment;

-- name: LockUser :exec
-- Serialises one learner's freezes and order placements, so that two checkouts never both sell
-- the learner the same seat. NO KEY UPDATE: foreign-key checks (KEY SHARE) still pass.
SELECT id FROM users WHERE id = @id FOR NO KEY UPDATE;

-- name: ListOwnedSeats :many
-- The learner's seats among the given products, bought in another order and not refunded.
SELECT DISTINCT ol.product_id::bigint AS product_id, o.number AS order_number
FROM order_lines ol
JOIN orders o ON o.id = ol.order_id
JOIN products p ON p.id = ol.product_id
WHERE o.user_id = @user_id
  AND o.number <> @except_order
  AND p.product_class = 'Seat'
  AND ol.product_id = ANY(@product_ids::bigint[])
  AND NOT EXISTS (SELECT 1 FROM refund_lines rl WHERE rl.order_line_id = ol.id AND rl.status = 'Complete');

-- name: DeleteOwnedSeatsFromOpenBasket :execrows
-- Removes from the learner's open basket the seats the learner already owns (bought and not
-- refunded), e.g. after a late payment placed the order of an expired checkout.
DELETE FROM basket_lines bl
USING baskets b, products p
WHERE b.id = bl.basket_id AND b.owner_id = @user_id AND b.status = 'Open'
  AND p.id = bl.product_id AND p.product_class = 'Seat'
  AND EXISTS (
    SELECT 1 FROM order_lines ol JOIN orders o ON o.id = ol.order_id
    WHERE o.user_id = @user_id AND ol.product_id = bl.product_id
      AND NOT EXISTS (SELECT 1 FROM refund_lines rl WHERE rl.order_line_id = ol.id AND rl.status = 'Complete'));

-- name: FlagCheckout :exec
UPDATE checkouts SET status = 'NeedsAttention', attention_reason = @reason, updated_at = now()
WHERE order_number = @order_number;

-- name: OrderNoteExists :one
SELECT EXISTS (SELECT 1 FROM order_notes WHERE order_id = @order_id AND message = @message);

-- name: MarkWorkflowStarted :exec
UPDATE checkouts SET workflow_started = true WHERE order_number = @order_number AND NOT workflow_started;

-- name: ListOrphanCheckouts :many
-- Checkouts awaiting payment whose workflow is not known to have started, frozen before @before.
SELECT * FROM checkouts
WHERE NOT workflow_started AND status = 'AwaitingPayment' AND created_at < @before
ORDER BY created_at
LIMIT @max_rows;

-- name: OrderNumberOfPayment :one
-- The order number of a processor's payment id, from the answers we recorded to our own calls
-- to the processor (e.g. PayPal's order creation).
SELECT order_number FROM payment_processor_responses
WHERE processor_name = @processor_name AND transaction_id = @transaction_id AND authentic AND order_number <> ''
ORDER BY id
LIMIT 1;

-- name: PaymentMessageDelivered :one
-- Whether the checkout workflow already has this transaction's outcome: a message with it was
-- signalled, or (an accepted payment) the order records the payment.
SELECT COALESCE(EXISTS (
    SELECT 1 FROM payment_processor_responses r
    WHERE r.processor_name = @processor_name AND r.transaction_id = @transaction_id::text
      AND r.order_number = @order_number AND r.delivered_outcome = @outcome::text)
OR (@accepted::boolean AND EXISTS (
    SELECT 1 FROM payment_events e JOIN orders o ON o.id = e.order_id
    WHERE o.number = @order_number AND e.event_type = 'Paid' AND e.processor_name = @processor_name
      AND e.reference = @transaction_id::text)), false)::boolean AS delivered;

-- name: MarkPaymentMessageDelivered :exec
UPDATE payment_processor_responses SET delivered_outcome = @outcome::text WHERE id = @id;
