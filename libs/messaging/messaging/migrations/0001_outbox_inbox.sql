-- The library's own tables, in every service database that publishes or consumes: outbox and inbox.

CREATE TABLE outbox (
    seq            bigserial PRIMARY KEY,            -- relay order
    message_id     uuid NOT NULL UNIQUE,
    type           text NOT NULL,                    -- routing key / AMQP type
    correlation_id text NOT NULL,
    occurred_at    timestamptz NOT NULL,
    body           bytea NOT NULL,                   -- the JSON envelope exactly as it will be published
    headers        jsonb NOT NULL DEFAULT '{}',
    target_queue   text,                             -- NULL: the type's exchanges; else straight into this queue
    deliver_at     timestamptz,                      -- scheduled sends: not before this time
    created_at     timestamptz NOT NULL DEFAULT now(),
    available_at   timestamptz NOT NULL DEFAULT now(), -- next attempt (backoff after a failure)
    attempts       integer NOT NULL DEFAULT 0,
    last_error     text,
    sent_at        timestamptz
);

CREATE INDEX outbox_unsent ON outbox (available_at, seq) WHERE sent_at IS NULL;
CREATE INDEX outbox_sent ON outbox (sent_at) WHERE sent_at IS NOT NULL;

-- NOTIFY is delivered on commit only, so a relay never wakes for a rolled-back row. It is not
-- durable: the relay also polls.
CREATE FUNCTION outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('outbox', '');
    RETURN NULL;
END $$;

CREATE TRIGGER outbox_inserted AFTER INSERT ON outbox
    FOR EACH STATEMENT EXECUTE FUNCTION outbox_notify();

CREATE TABLE inbox (
    consumer    text NOT NULL,
    message_id  text NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer, message_id)
);

CREATE INDEX inbox_received ON inbox (received_at);
