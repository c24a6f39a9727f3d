-- payments: second payments refunded, and every refund of a session by Stripe's id with its status.

-- The session that paid the order first, when this one is a second successful payment (refunded).
ALTER TABLE checkout_sessions ADD COLUMN duplicate_of text;
-- Refunds that failed or were canceled after being counted (refunded_amount is the gross high-water).
ALTER TABLE checkout_sessions ADD COLUMN reversed_amount bigint NOT NULL DEFAULT 0;

CREATE TABLE refunds (
    id                  bigserial PRIMARY KEY,
    stripe_refund_id    text UNIQUE,                   -- Stripe's re_...; NULL while ours is still to issue
    idempotency_key     text UNIQUE,                   -- ours only: paybus-refund-<checkout session>
    order_id            uuid NOT NULL,
    checkout_session_id text NOT NULL,
    payment_intent_id   text,
    amount              bigint NOT NULL CHECK (amount > 0),
    currency            text NOT NULL,
    reason              text NOT NULL,                 -- duplicate_payment (ours), else Stripe's reason or 'stripe'
    status              text NOT NULL CHECK (status IN (
                            'to_issue', 'refused', 'pending', 'requires_action', 'succeeded', 'failed',
                            'canceled')),
    failure_reason      text,
    decided_by          text,                          -- the Stripe event that revealed the second payment
    attempts            integer NOT NULL DEFAULT 0,    -- calls to Stripe's Refund API (ours)
    last_error          text,
    next_attempt_at     timestamptz NOT NULL DEFAULT now(),
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX refunds_to_issue ON refunds (next_attempt_at) WHERE status = 'to_issue';
CREATE INDEX refunds_session ON refunds (checkout_session_id);
