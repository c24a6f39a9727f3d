-- Refunds that failed or were canceled: the order's refunded amount goes back down (issue 15).
-- refunded_amount stays the net amount refunded; refunded_amount + refund_reversed_amount only grows.
ALTER TABLE orders ADD COLUMN refund_reversed_amount bigint NOT NULL DEFAULT 0;
-- How many reversals the order went through: order events carry it, so a consumer orders them.
ALTER TABLE orders ADD COLUMN refund_reversals integer NOT NULL DEFAULT 0;
