-- Orders service schema: the catalogue (seeded), orders with their payment state, and order lines.

CREATE TABLE products (
    id          text PRIMARY KEY,
    name        text NOT NULL,
    description text NOT NULL DEFAULT '',
    price       bigint NOT NULL CHECK (price > 0),             -- minor units
    currency    text NOT NULL CHECK (currency ~ '^[a-z]{3}$'),  -- ISO 4217, lower case like Stripe
    active      boolean NOT NULL DEFAULT true
);

CREATE TABLE orders (
    id                  uuid PRIMARY KEY,
    status              text NOT NULL
                        CHECK (status IN ('pending', 'payment_failed', 'canceled', 'paid', 'refunded')),
    email               text NOT NULL,
    total               bigint NOT NULL CHECK (total > 0),
    currency            text NOT NULL,
    created_at          timestamptz NOT NULL,
    payment_deadline    timestamptz NOT NULL,
    paid_at             timestamptz,
    canceled_at         timestamptz,
    cancel_reason       text,
    refunded_amount     bigint NOT NULL DEFAULT 0 CHECK (refunded_amount >= 0),
    checkout_session_id text,
    payment_intent_id   text,
    sessions            jsonb NOT NULL DEFAULT '{}'::jsonb,  -- checkout session id -> what we heard of it
    deadline_reached    boolean NOT NULL DEFAULT false,
    updated_at          timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE order_lines (
    order_id   uuid NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    position   integer NOT NULL,
    product_id text NOT NULL REFERENCES products (id),
    name       text NOT NULL,                                 -- as sold, even if the catalogue changes
    quantity   integer NOT NULL CHECK (quantity BETWEEN 1 AND 100),
    unit_price bigint NOT NULL CHECK (unit_price > 0),
    line_total bigint NOT NULL CHECK (line_total > 0),
    PRIMARY KEY (order_id, position)
);

INSERT INTO products (id, name, description, price, currency, active) VALUES
    ('prod_coffee', 'Yirgacheffe coffee beans', 'Washed Ethiopian single origin, 250 g whole beans',
     1450, 'eur', true),
    ('prod_espresso', 'House espresso blend', 'Brazil and Guatemala, chocolate and hazelnut, 1 kg',
     3200, 'eur', true),
    ('prod_grinder', 'Hand coffee grinder', 'Stainless steel conical burrs, 40 click settings',
     6900, 'eur', true),
    ('prod_mug', 'Stoneware mug', 'Hand glazed, 350 ml, dishwasher safe', 1800, 'eur', true),
    ('prod_filters', 'Paper filters', 'Unbleached cone filters, size 02, pack of 100', 590, 'eur', true),
    ('prod_tea', 'Sencha green tea', 'Japanese first flush loose leaf, 100 g tin', 990, 'eur', true),
    ('prod_cold_brew_kit', 'Cold brew kit', 'Glass carafe with steel filter, 1 l (US store only)',
     3900, 'usd', true),
    ('prod_french_press', 'French press', 'Retired model, no longer sold', 2900, 'eur', false);
