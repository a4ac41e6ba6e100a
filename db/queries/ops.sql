-- name: ListStuckCheckouts :many
-- Checkouts ops must look at: those needing attention, and those in flight (awaiting payment,
-- paid, fulfilling) that have not moved since @before; the longest unchanged first.
SELECT c.order_number, u.username, c.status, c.attention_reason,
       coalesce(c.snapshot->>'total', '0')::numeric AS total,
       coalesce(c.snapshot->>'currency', '')::text AS currency,
       c.payment_processor, c.updated_at
FROM checkouts c JOIN users u ON u.id = c.user_id
WHERE c.status = 'NeedsAttention'
   OR (c.status IN ('AwaitingPayment', 'Paid', 'Fulfilling') AND c.updated_at < @before)
ORDER BY c.updated_at, c.order_number
LIMIT @page_limit OFFSET @page_offset;

-- name: CountStuckCheckouts :one
SELECT count(*) FROM checkouts c
WHERE c.status = 'NeedsAttention'
   OR (c.status IN ('AwaitingPayment', 'Paid', 'Fulfilling') AND c.updated_at < @before);
