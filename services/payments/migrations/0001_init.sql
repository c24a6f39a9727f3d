-- payments: checkout sessions we asked Stripe for, every Stripe event received, and amounts to review.

CREATE TABLE checkout_sessions (
    order_id           uuid NOT NULL,
    attempt            integer NOT NULL CHECK (attempt > 0),
    idempotency_key    text NOT NULL UNIQUE,
    request            jsonb NOT NULL,                 -- the exact Stripe parameters, replayed on a retry
    amount             bigint NOT NULL,                -- minor units, from the orders service's record
    currency           text NOT NULL,
    expires_at         timestamptz NOT NULL,
    status             text NOT NULL DEFAULT 'creating'
                       CHECK (status IN ('creating', 'open', 'complete', 'expired', 'failed')),
    session_id         text UNIQUE,                    -- Stripe's cs_...; NULL until Stripe answered
    url                text,
    payment_status     text NOT NULL DEFAULT 'unpaid',
    payment_intent_id  text,
    outcome            text CHECK (outcome IN ('pending', 'succeeded', 'failed', 'expired')),
    succeeded_event_id text,                           -- the one Stripe event that produced payment.succeeded
    refunded_amount    bigint NOT NULL DEFAULT 0,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (order_id, attempt)
);

CREATE INDEX checkout_sessions_payment_intent ON checkout_sessions (payment_intent_id)
    WHERE payment_intent_id IS NOT NULL;

CREATE TABLE stripe_events (
    id          text PRIMARY KEY,                      -- Stripe's evt_...: a redelivery is a no-op
    type        text NOT NULL,
    livemode    boolean NOT NULL,
    created     timestamptz,
    body        bytea NOT NULL,                        -- the raw body exactly as signed
    note        text NOT NULL DEFAULT 'received',      -- what it did: payment.succeeded, ignored, ...
    received_at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX stripe_events_type ON stripe_events (type, received_at);

-- Stripe reported an amount or currency other than the session's: never a success, a person decides.
CREATE TABLE payment_reviews (
    id                  bigserial PRIMARY KEY,
    stripe_event_id     text NOT NULL UNIQUE REFERENCES stripe_events (id),
    event_type          text NOT NULL,
    checkout_session_id text NOT NULL,
    order_id            uuid NOT NULL,
    expected_amount     bigint NOT NULL,
    expected_currency   text NOT NULL,
    received_amount     bigint,
    received_currency   text,
    created_at          timestamptz NOT NULL DEFAULT now(),
    resolved_at         timestamptz,
    resolution          text
);

CREATE INDEX payment_reviews_open ON payment_reviews (created_at) WHERE resolved_at IS NULL;
