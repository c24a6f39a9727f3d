-- Payments that do not match their order (amount or currency): parked for a person, never applied.

CREATE TABLE payment_reviews (
    id                  bigserial PRIMARY KEY,
    order_id            uuid NOT NULL REFERENCES orders (id),
    message_id          text NOT NULL UNIQUE,          -- the payment message parked (one review per message)
    kind                text NOT NULL,                 -- its type: payment.succeeded, payment.refunded
    reason              text NOT NULL,                 -- amount_mismatch, refund_of_unmatched_payment
    checkout_session_id text NOT NULL,
    payment_intent_id   text,
    amount              bigint,                        -- minor units, as the payment stated them
    currency            text NOT NULL,
    expected_amount     bigint NOT NULL,               -- the order's total and currency at that time
    expected_currency   text NOT NULL,
    created_at          timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX payment_reviews_created_at ON payment_reviews (created_at DESC);
