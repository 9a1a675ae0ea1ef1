-- Pacing by kind: each outbox message has a priority (0 answer, 1 owner notice, 2 other), and
-- Buy now holds units for a few minutes so the buyers who cannot get one learn it at once.

ALTER TABLE outbox ADD COLUMN priority INTEGER NOT NULL DEFAULT 2;
CREATE INDEX outbox_by_priority ON outbox(priority, id) WHERE sent_at IS NULL AND failed_at IS NULL;

-- Units held by a buyer's open checkout: taken from products.stock when held, turned into the
-- order at Confirm, given back when the checkout is cancelled, replaced or expires.
CREATE TABLE holds (
    buyer_id    INTEGER NOT NULL REFERENCES users(id),
    product_id  INTEGER NOT NULL REFERENCES products(id),
    shop_id     INTEGER NOT NULL REFERENCES shops(id),
    token       TEXT NOT NULL,                     -- the checkout that holds them
    quantity    INTEGER NOT NULL CHECK (quantity > 0),
    expires_at  REAL NOT NULL,
    created_at  REAL NOT NULL,
    PRIMARY KEY (buyer_id, product_id)             -- one hold per buyer per product
);
CREATE INDEX holds_by_expiry ON holds(expires_at);
CREATE INDEX holds_by_token ON holds(token);
ALTER TABLE shops ADD COLUMN hold_minutes INTEGER NOT NULL DEFAULT 3;
