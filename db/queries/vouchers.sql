-- name: CreateVoucher :one
INSERT INTO vouchers (code, name, usage, start_datetime, end_datetime, coupon_id)
VALUES (@code, @name, @usage, @start_datetime, @end_datetime, sqlc.narg('coupon_id'))
ON CONFLICT (code) DO NOTHING
RETURNING id;

-- name: AddVoucherOffer :exec
INSERT INTO voucher_offers (voucher_id, offer_id) VALUES (@voucher_id, @offer_id) ON CONFLICT DO NOTHING;

-- name: GetVoucherByCode :one
SELECT * FROM vouchers WHERE code = @code;

-- name: GetVoucherByID :one
SELECT * FROM vouchers WHERE id = @id;

-- name: LockVoucher :one
SELECT * FROM vouchers WHERE id = @id FOR UPDATE;

-- name: ListVoucherOfferIDs :many
SELECT offer_id FROM voucher_offers WHERE voucher_id = @voucher_id ORDER BY offer_id;

-- name: VoucherUses :one
-- Baskets that reserved or consumed the voucher, by this user and by others (this basket excluded).
SELECT count(DISTINCT basket_id) FILTER (WHERE user_id = @user_id)::bigint AS by_user,
       count(DISTINCT basket_id) FILTER (WHERE user_id <> @user_id)::bigint AS by_others
FROM redemptions
WHERE voucher_id = @voucher_id::bigint AND status <> 'Released' AND basket_id <> @basket_id;

-- name: CountVoucherUses :many
SELECT voucher_id::bigint AS voucher_id, count(DISTINCT basket_id)::bigint AS uses
FROM redemptions WHERE voucher_id = ANY(@voucher_ids::bigint[]) AND status = 'Consumed'
GROUP BY voucher_id;

-- name: IncrementVoucherBasketAdditions :exec
UPDATE vouchers SET num_basket_additions = num_basket_additions + 1 WHERE id = @id;

-- name: RecordVoucherUsage :exec
UPDATE vouchers SET num_orders = num_orders + 1, total_discount = total_discount + @amount WHERE id = @id;

-- name: CreateVoucherApplication :exec
INSERT INTO voucher_applications (voucher_id, user_id, order_id) VALUES (@voucher_id, @user_id, @order_id)
ON CONFLICT DO NOTHING;

-- name: ListVouchers :many
SELECT * FROM vouchers
WHERE sqlc.narg('code')::text IS NULL OR code = sqlc.narg('code')::text
ORDER BY id LIMIT @page_limit OFFSET @page_offset;

-- name: CountVouchers :one
SELECT count(*) FROM vouchers WHERE sqlc.narg('code')::text IS NULL OR code = sqlc.narg('code')::text;

-- name: SetBasketVoucher :execrows
-- Only while the basket is open (FOR SHARE waits for a freeze in progress, then re-checks).
INSERT INTO basket_vouchers (basket_id, voucher_id)
SELECT b.id, @voucher_id FROM baskets b WHERE b.id = @basket_id AND b.status = 'Open' FOR SHARE
ON CONFLICT (basket_id) DO UPDATE SET voucher_id = excluded.voucher_id, added_at = now();

-- name: GetBasketVoucherID :one
SELECT voucher_id FROM basket_vouchers WHERE basket_id = @basket_id;

-- name: DeleteBasketVoucher :execrows
DELETE FROM basket_vouchers WHERE basket_id = @basket_id AND voucher_id = @voucher_id;

-- name: CopyBasketVoucher :exec
INSERT INTO basket_vouchers (basket_id, voucher_id)
SELECT @to_basket_id, bv.voucher_id FROM basket_vouchers bv WHERE bv.basket_id = @from_basket_id
ON CONFLICT (basket_id) DO NOTHING;

-- name: CreateRedemption :exec
INSERT INTO redemptions (basket_id, offer_id, voucher_id, user_id, frequency, amount)
VALUES (@basket_id, @offer_id, sqlc.narg('voucher_id'), @user_id, @frequency, @amount);

-- name: ConsumeRedemptions :execrows
UPDATE redemptions SET status = 'Consumed', updated_at = now() WHERE basket_id = @basket_id AND status <> 'Consumed';

-- name: ReleaseRedemptions :execrows
UPDATE redemptions SET status = 'Released', updated_at = now() WHERE basket_id = @basket_id AND status = 'Reserved';

-- name: CreateOrderDiscount :exec
INSERT INTO order_discounts (order_id, offer_id, offer_name, voucher_id, voucher_code, benefit_type, benefit_value, frequency, amount)
VALUES (@order_id, sqlc.narg('offer_id'), @offer_name, sqlc.narg('voucher_id'), @voucher_code, @benefit_type, @benefit_value, @frequency, @amount);

-- name: ListOrderDiscounts :many
SELECT * FROM order_discounts WHERE order_id = @order_id ORDER BY id;

-- name: ExistingOfferIDs :many
SELECT id FROM offers WHERE id = ANY(@ids::bigint[]);

-- name: ExistingVoucherIDs :many
SELECT id FROM vouchers WHERE id = ANY(@ids::bigint[]);

-- name: ListCouponVoucherOffers :many
SELECT vo.voucher_id, vo.offer_id FROM voucher_offers vo JOIN vouchers v ON v.id = vo.voucher_id
WHERE v.coupon_id = @coupon_id;

-- name: LockVouchers :many
SELECT id FROM vouchers WHERE id = ANY(@ids::bigint[]) ORDER BY id FOR UPDATE;

-- name: OverusedOffers :many
-- Offers of the list used beyond their global limit.
SELECT id, name FROM offers
WHERE id = ANY(@ids::bigint[]) AND max_global_applications IS NOT NULL AND num_applications > max_global_applications;

-- name: OverusedSingleUseVouchers :many
SELECT id, code FROM vouchers WHERE id = ANY(@ids::bigint[]) AND usage = 'Single use' AND num_orders > 1;
