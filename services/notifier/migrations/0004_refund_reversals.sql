-- The order's refund reversals as its events carry them: (refund_reversals, status rank) orders the
-- news, since a reversed refund takes a refunded order back to paid (issue 15).
ALTER TABLE orders ADD COLUMN refund_reversals integer NOT NULL DEFAULT 0;
