-- Carts, orders with their items and history, and buyers' saved delivery details.

ALTER TABLE shops ADD COLUMN next_order_number INTEGER NOT NULL DEFAULT 1001;
ALTER TABLE users ADD COLUMN phone TEXT;
ALTER TABLE users ADD COLUMN recipient TEXT;
ALTER TABLE users ADD COLUMN address TEXT;

CREATE TABLE cart_items (
    buyer_id    INTEGER NOT NULL REFERENCES users(id),
    shop_id     INTEGER NOT NULL REFERENCES shops(id) ON DELETE CASCADE,
    product_id  INTEGER NOT NULL REFERENCES products(id),
    quantity    INTEGER NOT NULL CHECK (quantity > 0),
    slot        INTEGER,                          -- the live link it was added from, if any
    added_at    REAL NOT NULL,
    PRIMARY KEY (buyer_id, shop_id, product_id)
);

CREATE TABLE orders (
    id              INTEGER PRIMARY KEY,
    shop_id         INTEGER NOT NULL REFERENCES shops(id),
    number          INTEGER NOT NULL,             -- per shop: #1001, #1002, ...
    buyer_id        INTEGER NOT NULL REFERENCES users(id),
    status          TEXT NOT NULL CHECK (status IN ('placed', 'confirmed', 'shipped', 'delivered', 'cancelled')),
    currency        TEXT NOT NULL,
    total           INTEGER NOT NULL CHECK (total > 0),
    units           INTEGER NOT NULL CHECK (units > 0),
    phone           TEXT NOT NULL,
    recipient       TEXT NOT NULL,
    address         TEXT NOT NULL,
    latitude        REAL,
    longitude       REAL,
    note            TEXT,
    payment_method  TEXT NOT NULL DEFAULT 'cod',
    slot            INTEGER,                      -- the live link the order came from
    session_id      INTEGER REFERENCES live_sessions(id),
    checkout_token  TEXT NOT NULL UNIQUE,         -- makes placing an order idempotent
    carrier         TEXT,
    tracking_number TEXT,
    cancel_reason   TEXT,
    created_at      REAL NOT NULL,
    updated_at      REAL NOT NULL,
    UNIQUE (shop_id, number)
);
CREATE INDEX orders_shop_time ON orders(shop_id, created_at);
CREATE INDEX orders_shop_status ON orders(shop_id, status, created_at);
CREATE INDEX orders_buyer ON orders(buyer_id, created_at);
CREATE INDEX orders_session ON orders(session_id, slot);

CREATE TABLE order_items (
    order_id    INTEGER NOT NULL REFERENCES orders(id) ON DELETE CASCADE,
    product_id  INTEGER NOT NULL REFERENCES products(id),
    name        TEXT NOT NULL,                    -- as it was when ordered
    unit_price  INTEGER NOT NULL,
    quantity    INTEGER NOT NULL CHECK (quantity > 0),
    PRIMARY KEY (order_id, product_id)
);
CREATE INDEX order_items_product ON order_items(product_id);

CREATE TABLE order_events (
    id          INTEGER PRIMARY KEY,
    order_id    INTEGER NOT NULL REFERENCES orders(id) ON DELETE CASCADE,
    from_status TEXT,
    to_status   TEXT NOT NULL,
    actor_id    INTEGER NOT NULL,
    note        TEXT,
    at          REAL NOT NULL
);
CREATE INDEX order_events_order ON order_events(order_id);

CREATE TABLE restock_waiters (
    product_id  INTEGER NOT NULL REFERENCES products(id),
    user_id     INTEGER NOT NULL REFERENCES users(id),
    created_at  REAL NOT NULL,
    PRIMARY KEY (product_id, user_id)
);
