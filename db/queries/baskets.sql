-- name: GetOpenBasketForUpdate :one
SELECT * FROM baskets WHERE owner_id = @owner_id AND status = 'Open' FOR UPDATE;

-- name: CreateBasket :one
INSERT INTO baskets (owner_id) VALUES (@owner_id)
ON CONFLICT (owner_id) WHERE status = 'Open' DO NOTHING
RETURNING *;

-- name: GetBasket :one
SELECT b.*, u.username AS owner_username
FROM baskets b JOIN users u ON u.id = b.owner_id
WHERE b.id = @id;

-- name: DeleteBasketLines :exec
DELETE FROM basket_lines WHERE basket_id = @basket_id;

-- name: CreateBasketLine :exec
INSERT INTO basket_lines (basket_id, product_id, stock_record_id, quantity, price_currency, price_excl_tax, price_incl_tax)
VALUES (@basket_id, @product_id, @stock_record_id, @quantity, @price_currency, @price, @price);

-- name: ListBasketLines :many
SELECT l.id AS line_id, l.quantity, l.price_currency AS line_currency, l.price_incl_tax AS unit_price,
       sqlc.embed(p), sqlc.embed(s)
FROM basket_lines l
JOIN products p ON p.id = l.product_id
JOIN stock_records s ON s.id = l.stock_record_id
WHERE l.basket_id = @basket_id
ORDER BY l.id;

-- name: ListPurchasedProductIDs :many
-- Products among the given ones that the user already bought and did not get refunded.
SELECT DISTINCT ol.product_id::bigint
FROM order_lines ol JOIN orders o ON o.id = ol.order_id
WHERE o.user_id = @user_id
  AND ol.product_id = ANY(@product_ids::bigint[])
  AND NOT EXISTS (SELECT 1 FROM refund_lines rl WHERE rl.order_line_id = ol.id AND rl.status = 'Complete');

-- name: CopyBasketLines :execrows
-- Adds the products of one basket to another at their current price, skipping those already in it.
INSERT INTO basket_lines (basket_id, product_id, stock_record_id, quantity, price_currency, price_excl_tax, price_incl_tax)
SELECT @to_basket_id, l.product_id, s.id, l.quantity, s.price_currency, s.price, s.price
FROM basket_lines l JOIN stock_records s ON s.product_id = l.product_id
WHERE l.basket_id = @from_basket_id
ON CONFLICT (basket_id, product_id) DO NOTHING;

-- name: GetOpenBasketID :one
SELECT id FROM baskets WHERE owner_id = @owner_id AND status = 'Open';
