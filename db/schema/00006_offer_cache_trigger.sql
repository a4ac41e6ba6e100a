-- +goose Up
-- Usage counters change with every order; only changes to an offer's terms invalidate caches.
DROP TRIGGER offers_cache ON offers;
CREATE TRIGGER offers_cache AFTER INSERT OR DELETE ON offers FOR EACH STATEMENT EXECUTE FUNCTION notify_commerce_cache();
CREATE TRIGGER offers_terms_cache AFTER UPDATE OF name, offer_type, range_id, condition_type, condition_value, benefit_type,
    benefit_value, max_affected_items, priority, exclusive, status, start_datetime, end_datetime, max_global_applications,
    max_user_applications, max_basket_applications, max_discount, email_domains
    ON offers FOR EACH STATEMENT EXECUTE FUNCTION notify_commerce_cache();

-- +goose Down
DROP TRIGGER offers_terms_cache ON offers;
DROP TRIGGER offers_cache ON offers;
CREATE TRIGGER offers_cache AFTER INSERT OR UPDATE OR DELETE ON offers FOR EACH STATEMENT EXECUTE FUNCTION notify_commerce_cache();
