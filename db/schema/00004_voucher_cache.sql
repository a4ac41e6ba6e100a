-- +goose Up
-- Cached voucher definitions hear about changes to codes, dates, usage and offer links (but not
-- about their counters, which change with every basket and order).
CREATE TRIGGER vouchers_cache AFTER INSERT OR DELETE ON vouchers FOR EACH STATEMENT EXECUTE FUNCTION notify_commerce_cache();
CREATE TRIGGER vouchers_terms_cache AFTER UPDATE OF code, usage, start_datetime, end_datetime, name ON vouchers
    FOR EACH STATEMENT EXECUTE FUNCTION notify_commerce_cache();
CREATE TRIGGER voucher_offers_cache AFTER INSERT OR UPDATE OR DELETE ON voucher_offers FOR EACH STATEMENT EXECUTE FUNCTION notify_commerce_cache();

-- +goose Down
DROP TRIGGER voucher_offers_cache ON voucher_offers;
DROP TRIGGER vouchers_terms_cache ON vouchers;
DROP TRIGGER vouchers_cache ON vouchers;
