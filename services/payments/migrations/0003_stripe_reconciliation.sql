-- The reconciliation sweep's checkpoint: every Stripe event created before covered_until has been listed
-- and stored (through the webhook or a sweep). One row; the next sweep lists from a little before it.

CREATE TABLE stripe_reconciliation (
    id            boolean PRIMARY KEY DEFAULT true CHECK (id),
    covered_until timestamptz NOT NULL,
    completed_at  timestamptz NOT NULL,
    listed        integer NOT NULL,                    -- events the last sweep that moved it listed
    repaired      integer NOT NULL                     -- of those, the ones not stored before
);
