-- The notifier's own tables: the orders it knows (from order.created) and the e-mails it sent.

CREATE TABLE orders (
    order_id         uuid PRIMARY KEY,
    email            text NOT NULL,
    lines            jsonb NOT NULL,                  -- [{product_id, name, quantity, unit_price, line_total}]
    total            bigint NOT NULL,                 -- minor units
    currency         text NOT NULL,
    status           text NOT NULL,                   -- mirrored from order events, only moves forward
    payment_deadline timestamptz,
    created_at       timestamptz NOT NULL,            -- occurred_at of order.created
    received_at      timestamptz NOT NULL DEFAULT now()
);

-- One row per (order, kind): written 'intended' and committed before the SMTP send, then 'sent' or
-- 'failed' (permanent rejection). A row still 'intended' is retried by the next delivery.
CREATE TABLE emails (
    order_id       uuid NOT NULL REFERENCES orders (order_id),
    kind           text NOT NULL,                     -- confirmation, receipt, canceled, payment_failed.<session>, refund.<amount>
    message_id     text NOT NULL UNIQUE,              -- deterministic: <kind.order_id@paybus>
    recipient      text NOT NULL,
    subject        text NOT NULL,
    state          text NOT NULL DEFAULT 'intended' CHECK (state IN ('intended', 'sent', 'failed')),
    attempts       integer NOT NULL DEFAULT 0,
    last_error     text,
    cause_id       text NOT NULL,                     -- the AMQP message that first asked for it
    correlation_id text NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    sent_at        timestamptz,
    PRIMARY KEY (order_id, kind)
);

CREATE INDEX emails_unsent ON emails (created_at) WHERE state <> 'sent';
