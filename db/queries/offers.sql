-- name: CreateRange :one
INSERT INTO ranges (name, includes_all_products, course_seat_types)
VALUES (@name, @includes_all_products, @course_seat_types::text[])
RETURNING id;

-- name: AddRangeProducts :exec
INSERT INTO range_products (range_id, product_id)
SELECT @range_id, unnest(@product_ids::bigint[])
ON CONFLICT DO NOTHING;

-- name: ReplaceRange :exec
UPDATE ranges SET includes_all_products = @includes_all_products, course_seat_types = @course_seat_types::text[]
WHERE id = @id;

-- name: DeleteRangeProducts :exec
DELETE FROM range_products WHERE range_id = @range_id;

-- name: CreateOffer :one
INSERT INTO offers (name, offer_type, range_id, condition_type, condition_value, benefit_type, benefit_value,
    max_affected_items, priority, exclusive, status, start_datetime, end_datetime, max_global_applications,
    max_user_applications, max_basket_applications, max_discount, email_domains)
VALUES (@name, @offer_type, @range_id, @condition_type, @condition_value, @benefit_type, @benefit_value,
    sqlc.narg('max_affected_items'), @priority, @exclusive, @status, sqlc.narg('start_datetime'), sqlc.narg('end_datetime'),
    sqlc.narg('max_global_applications'), sqlc.narg('max_user_applications'), sqlc.narg('max_basket_applications'),
    sqlc.narg('max_discount'), @email_domains)
RETURNING id;

-- name: UpdateOffer :exec
UPDATE offers SET name = @name, condition_type = @condition_type, condition_value = @condition_value,
    benefit_type = @benefit_type, benefit_value = @benefit_value, max_affected_items = sqlc.narg('max_affected_items'),
    priority = @priority, exclusive = @exclusive, status = @status, start_datetime = sqlc.narg('start_datetime'),
    end_datetime = sqlc.narg('end_datetime'), max_global_applications = sqlc.narg('max_global_applications'),
    max_user_applications = sqlc.narg('max_user_applications'), max_basket_applications = sqlc.narg('max_basket_applications'),
    max_discount = sqlc.narg('max_discount'), email_domains = @email_domains, updated_at = now()
WHERE id = @id;

-- name: ListOffersWithRanges :many
-- Offers with their ranges: all open site offers, or the given ids.
SELECT sqlc.embed(o), r.includes_all_products, r.course_seat_types,
       coalesce((SELECT array_agg(rp.product_id ORDER BY rp.product_id) FROM range_products rp WHERE rp.range_id = r.id), '{}')::bigint[] AS product_ids
FROM offers o JOIN ranges r ON r.id = o.range_id
WHERE (sqlc.narg('ids')::bigint[] IS NULL AND o.offer_type = 'Site' AND o.status = 'Open')
   OR o.id = ANY(sqlc.narg('ids')::bigint[])
ORDER BY o.id;

-- name: ListOffersByType :many
SELECT sqlc.embed(o), r.includes_all_products, r.course_seat_types,
       coalesce((SELECT array_agg(rp.product_id ORDER BY rp.product_id) FROM range_products rp WHERE rp.range_id = r.id), '{}')::bigint[] AS product_ids
FROM offers o JOIN ranges r ON r.id = o.range_id
WHERE o.offer_type = @offer_type
ORDER BY o.id
LIMIT @page_limit OFFSET @page_offset;

-- name: CountOffersByType :one
SELECT count(*) FROM offers WHERE offer_type = @offer_type;

-- name: LockOffers :many
SELECT id FROM offers WHERE id = ANY(@ids::bigint[]) ORDER BY id FOR UPDATE;

-- name: OfferUsage :many
-- Applications and discount reserved or consumed per offer, overall and by one user.
SELECT offer_id::bigint AS offer_id,
       sum(frequency)::bigint AS applications,
       coalesce(sum(frequency) FILTER (WHERE user_id = @user_id), 0)::bigint AS user_applications,
       sum(amount)::numeric AS discount
FROM redemptions
WHERE offer_id = ANY(@offer_ids::bigint[]) AND status <> 'Released' AND basket_id <> @basket_id
GROUP BY offer_id;

-- name: RecordOfferUsage :exec
UPDATE offers SET
    num_applications = num_applications + @frequency,
    total_discount = total_discount + @amount,
    num_orders = num_orders + 1,
    updated_at = now()
WHERE id = @id;

-- name: ConsumeExhaustedOffer :exec
-- An offer whose global limit or budget is reached becomes Consumed (its terms change: caches hear of it).
UPDATE offers SET status = 'Consumed'
WHERE id = @id AND status = 'Open'
  AND ((max_global_applications IS NOT NULL AND num_applications >= max_global_applications)
    OR (max_discount IS NOT NULL AND total_discount >= max_discount));
