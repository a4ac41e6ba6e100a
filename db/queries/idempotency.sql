-- name: ExpireIdempotencyKey :exec
-- Forgets the user's key if it is older than a day, or was claimed by a request that never
-- answered (a minute ago and still no status).
DELETE FROM idempotency_keys
WHERE user_id = @user_id AND key = @key
  AND (created_at < now() - interval '1 day' OR (status IS NULL AND created_at < now() - interval '1 minute'));

-- name: ClaimIdempotencyKey :execrows
INSERT INTO idempotency_keys (user_id, key, method, path, request_hash)
VALUES (@user_id, @key, @method, @path, @request_hash)
ON CONFLICT (user_id, key) DO NOTHING;

-- name: GetIdempotencyKey :one
SELECT method, path, request_hash, status, content_type, body FROM idempotency_keys
WHERE user_id = @user_id AND key = @key;

-- name: FinishIdempotencyKey :exec
UPDATE idempotency_keys SET status = @status, content_type = @content_type, body = @body
WHERE user_id = @user_id AND key = @key AND status IS NULL;

-- name: ReleaseIdempotencyKey :exec
DELETE FROM idempotency_keys WHERE user_id = @user_id AND key = @key AND status IS NULL;
