-- name: UpsertUserFromClaims :one
-- Creates the user, or updates the attributes the token carries; absent claims keep the stored value.
INSERT INTO users (username, email, full_name, is_staff, lms_user_id)
VALUES (@username, coalesce(sqlc.narg('email')::text, ''), coalesce(sqlc.narg('full_name')::text, ''),
        coalesce(sqlc.narg('is_staff')::boolean, false), sqlc.narg('lms_user_id')::bigint)
ON CONFLICT (username) DO UPDATE SET
    email       = coalesce(sqlc.narg('email')::text, users.email),
    full_name   = coalesce(sqlc.narg('full_name')::text, users.full_name),
    is_staff    = coalesce(sqlc.narg('is_staff')::boolean, users.is_staff),
    lms_user_id = coalesce(sqlc.narg('lms_user_id')::bigint, users.lms_user_id),
    updated_at  = now()
WHERE (users.email, users.full_name, users.is_staff, users.lms_user_id) IS DISTINCT FROM
      (coalesce(sqlc.narg('email')::text, users.email),
       coalesce(sqlc.narg('full_name')::text, users.full_name),
       coalesce(sqlc.narg('is_staff')::boolean, users.is_staff),
       coalesce(sqlc.narg('lms_user_id')::bigint, users.lms_user_id))
RETURNING *;

-- name: GetUserByUsername :one
SELECT * FROM users WHERE username = @username;

-- name: GetUserByID :one
SELECT * FROM users WHERE id = @id;
