-- +goose Up
-- Refunds of payments as well as of order lines: an excessive payment, or a payment whose order
-- was refused (the learner already owned the seat), is credited back without lines to revoke
-- and, for the latter, without an order.
ALTER TABLE refunds ALTER COLUMN order_id DROP NOT NULL;
ALTER TABLE refunds ADD COLUMN order_number text NOT NULL DEFAULT '';
ALTER TABLE refunds ADD COLUMN kind text NOT NULL DEFAULT 'lines' CHECK (kind IN ('lines', 'payment'));
ALTER TABLE refunds ADD COLUMN processor text NOT NULL DEFAULT '';
ALTER TABLE refunds ADD COLUMN reference text NOT NULL DEFAULT '';
ALTER TABLE refunds ADD COLUMN reason text NOT NULL DEFAULT '';
-- The processor's id of the credit, once it is issued.
ALTER TABLE refunds ADD COLUMN processor_refund_id text NOT NULL DEFAULT '';
UPDATE refunds r SET order_number = o.number FROM orders o WHERE o.id = r.order_id;
ALTER TABLE refunds ADD CONSTRAINT refunds_lines_have_an_order CHECK (kind = 'payment' OR order_id IS NOT NULL);
-- A payment is refunded at most once, however often it is flagged.
CREATE UNIQUE INDEX refunds_payment_once ON refunds (processor, reference) WHERE kind = 'payment';
CREATE INDEX refunds_order_number_idx ON refunds (order_number);
-- An order line is in at most one refund that is not denied.
CREATE UNIQUE INDEX refund_lines_once ON refund_lines (order_line_id) WHERE status <> 'Denied';

-- +goose Down
DROP INDEX refund_lines_once;
DROP INDEX refunds_order_number_idx;
DROP INDEX refunds_payment_once;
ALTER TABLE refunds DROP CONSTRAINT refunds_lines_have_an_order;
ALTER TABLE refunds DROP COLUMN processor_refund_id, DROP COLUMN reason, DROP COLUMN reference,
    DROP COLUMN processor, DROP COLUMN kind, DROP COLUMN order_number;
ALTER TABLE refunds ALTER COLUMN order_id SET NOT NULL;
