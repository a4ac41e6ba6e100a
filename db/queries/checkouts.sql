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
UPDATE checkouts SET status = @status, updated_at = now() WHERE order_number = @order_number;

-- name: CreateProcessorResponse :one
INSERT INTO payment_processor_responses (processor_name, transaction_id, basket_id, order_number, kind, authentic, response)
VALUES (@processor_name, sqlc.narg('transaction_id'), sqlc.narg('basket_id'), @order_number, @kind, sqlc.narg('authentic'), @response)
RETURNING id;

-- name: CountProcessorResponses :one
SELECT count(*) FROM payment_processor_responses WHERE order_number = @order_number;

-- name: BasketExists :one
SELECT EXISTS (SELECT 1 FROM baskets WHERE id = @id);
