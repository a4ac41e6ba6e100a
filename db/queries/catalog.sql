-- name: CreateCourse :one
INSERT INTO courses (id, name, verification_deadline)
VALUES (@id, @name, sqlc.narg('verification_deadline'))
RETURNING *;

-- name: UpdateCourse :one
UPDATE courses SET name = @name, verification_deadline = sqlc.narg('verification_deadline'), updated_at = now()
WHERE id = @id
RETURNING *;

-- name: GetCourseForUpdate :one
SELECT * FROM courses WHERE id = @id FOR UPDATE;

-- name: GetCourse :one
SELECT * FROM courses WHERE id = @id;

-- name: ListCourses :many
SELECT * FROM courses ORDER BY created_at, id LIMIT @page_limit OFFSET @page_offset;

-- name: CountCourses :one
SELECT count(*) FROM courses;

-- name: CreateProduct :one
INSERT INTO products (product_class, course_id, title, expires, certificate_type,
                      id_verification_required, course_key, credit_provider, credit_hours, seat_type)
VALUES (@product_class, sqlc.narg('course_id'), @title, sqlc.narg('expires'), @certificate_type,
        @id_verification_required, sqlc.narg('course_key'), @credit_provider, sqlc.narg('credit_hours'), @seat_type)
RETURNING *;

-- name: UpdateSeat :exec
UPDATE products SET title = @title, expires = sqlc.narg('expires'), credit_hours = sqlc.narg('credit_hours'),
    updated_at = now()
WHERE id = @id;

-- name: UpdateProductTitle :exec
UPDATE products SET title = @title, updated_at = now() WHERE id = @id AND title <> @title;

-- name: CreateStockRecord :one
INSERT INTO stock_records (product_id, partner_sku, price, price_currency)
VALUES (@product_id, @partner_sku, @price, @price_currency)
RETURNING *;

-- name: UpdateStockRecordPrice :one
UPDATE stock_records SET price = @price, price_currency = @price_currency, updated_at = now()
WHERE id = @id
RETURNING *;

-- name: ListProductsWithStock :many
-- Products with their stock record, optionally of one course and one class, in id order.
SELECT sqlc.embed(p), sqlc.embed(s)
FROM products p JOIN stock_records s ON s.product_id = p.id
WHERE (sqlc.narg('course_id')::text IS NULL OR p.course_id = sqlc.narg('course_id')::text)
  AND (sqlc.narg('product_class')::text IS NULL OR p.product_class = sqlc.narg('product_class')::text)
ORDER BY p.id
LIMIT @page_limit OFFSET @page_offset;

-- name: CountProducts :one
SELECT count(*) FROM products p JOIN stock_records s ON s.product_id = p.id
WHERE (sqlc.narg('course_id')::text IS NULL OR p.course_id = sqlc.narg('course_id')::text)
  AND (sqlc.narg('product_class')::text IS NULL OR p.product_class = sqlc.narg('product_class')::text);

-- name: ListProductsOfCourses :many
SELECT sqlc.embed(p), sqlc.embed(s)
FROM products p JOIN stock_records s ON s.product_id = p.id
WHERE p.course_id = ANY(@course_ids::text[])
ORDER BY p.id;

-- name: GetProductWithStock :one
SELECT sqlc.embed(p), sqlc.embed(s)
FROM products p JOIN stock_records s ON s.product_id = p.id
WHERE p.id = @id;

-- name: GetProductsBySKUs :many
SELECT sqlc.embed(p), sqlc.embed(s)
FROM products p JOIN stock_records s ON s.product_id = p.id
WHERE s.partner_sku = ANY(@skus::text[]);

-- name: ListSeatsOfTypes :many
SELECT sqlc.embed(p), sqlc.embed(s)
FROM products p JOIN stock_records s ON s.product_id = p.id
WHERE p.product_class = 'Seat' AND p.certificate_type = ANY(@seat_types::text[])
ORDER BY p.id LIMIT @page_limit;

-- name: ListProductsByIDs :many
SELECT sqlc.embed(p), sqlc.embed(s)
FROM products p JOIN stock_records s ON s.product_id = p.id
WHERE p.id = ANY(@ids::bigint[])
ORDER BY p.id;
