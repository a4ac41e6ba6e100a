-- name: CreateCoupon :exec
INSERT INTO coupons (product_id, category, note, voucher_type) VALUES (@product_id, @category, @note, @voucher_type);

-- name: GetCoupon :one
SELECT sqlc.embed(c), sqlc.embed(p), sqlc.embed(s)
FROM coupons c JOIN products p ON p.id = c.product_id JOIN stock_records s ON s.product_id = p.id
WHERE c.product_id = @id;

-- name: ListCoupons :many
SELECT sqlc.embed(c), sqlc.embed(p), sqlc.embed(s)
FROM coupons c JOIN products p ON p.id = c.product_id JOIN stock_records s ON s.product_id = p.id
ORDER BY c.product_id LIMIT @page_limit OFFSET @page_offset;

-- name: CountCoupons :one
SELECT count(*) FROM coupons;

-- name: UpdateCoupon :exec
UPDATE coupons SET category = @category, note = @note, updated_at = now() WHERE product_id = @product_id;

-- name: ListCouponVouchers :many
SELECT * FROM vouchers WHERE coupon_id = @coupon_id ORDER BY id;

-- name: ListCouponOfferIDs :many
SELECT DISTINCT vo.offer_id FROM voucher_offers vo JOIN vouchers v ON v.id = vo.voucher_id
WHERE v.coupon_id = @coupon_id ORDER BY vo.offer_id;

-- name: UpdateCouponVoucherDates :exec
UPDATE vouchers SET start_datetime = @start_datetime, end_datetime = @end_datetime, name = @name WHERE coupon_id = @coupon_id;

-- name: DeleteOffers :exec
DELETE FROM offers WHERE id = ANY(@ids::bigint[]);

-- name: DeleteProduct :exec
DELETE FROM products WHERE id = @id;

-- name: SetProductTitle :exec
UPDATE products SET title = @title, updated_at = now() WHERE id = @id;

-- name: GetRangeIDsOfOffers :many
SELECT DISTINCT range_id FROM offers WHERE id = ANY(@ids::bigint[]);

-- name: DeleteRanges :exec
DELETE FROM ranges r WHERE r.id = ANY(@ids::bigint[]) AND NOT EXISTS (SELECT 1 FROM offers o WHERE o.range_id = r.id);

-- name: GetStockRecordsByIDs :many
SELECT sqlc.embed(p), sqlc.embed(s)
FROM stock_records s JOIN products p ON p.id = s.product_id
WHERE s.id = ANY(@ids::bigint[]);

-- name: StockRecordIDsOfProducts :many
SELECT id FROM stock_records WHERE product_id = ANY(@product_ids::bigint[]) ORDER BY id;

-- name: UpdateOfferTerms :exec
UPDATE offers SET benefit_value = @benefit_value, max_global_applications = sqlc.narg('max_global_applications'),
    email_domains = @email_domains, updated_at = now()
WHERE id = ANY(@ids::bigint[]);
