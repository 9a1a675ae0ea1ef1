-- Variants (issue 20): a product may be sold in several weights or grades, each with its own
-- price and stock. A product without variants works as before (variant_id NULL everywhere).
-- A product with variants keeps in products.stock the sum of its variants' stock (kept in the
-- same transactions), so the catalog and the card's sold-out state need no extra query.

CREATE TABLE variants (
    id              INTEGER PRIMARY KEY,
    product_id      INTEGER NOT NULL REFERENCES products(id),
    name            TEXT NOT NULL,
    price           INTEGER NOT NULL CHECK (price > 0),
    stock           INTEGER NOT NULL CHECK (stock >= 0),
    photo_file_id   TEXT,
    per_buyer_limit INTEGER CHECK (per_buyer_limit IS NULL OR per_buyer_limit > 0),
    weight_grams    INTEGER CHECK (weight_grams IS NULL OR weight_grams > 0),  -- for shipping fees
    position        INTEGER NOT NULL,                 -- order on the card
    hidden          INTEGER NOT NULL DEFAULT 0,
    deleted_at      REAL,
    created_at      REAL NOT NULL,
    updated_at      REAL NOT NULL
);
CREATE INDEX variants_product ON variants(product_id, position) WHERE deleted_at IS NULL;

-- Order lines, cart lines and holds are per (product, variant): two variants of one product may
-- be in one order. The tables are rebuilt because their primary keys change; "no variant" is
-- NULL, so uniqueness is on coalesce(variant_id, 0).

CREATE TABLE order_items_new (
    order_id     INTEGER NOT NULL REFERENCES orders(id) ON DELETE CASCADE,
    product_id   INTEGER NOT NULL REFERENCES products(id),
    variant_id   INTEGER REFERENCES variants(id),
    name         TEXT NOT NULL,                    -- as it was when ordered, with the variant's name
    variant_name TEXT,                             -- the variant's name alone (CSV column)
    unit_price   INTEGER NOT NULL,
    quantity     INTEGER NOT NULL CHECK (quantity > 0)
);
INSERT INTO order_items_new (rowid, order_id, product_id, name, unit_price, quantity)
    SELECT rowid, order_id, product_id, name, unit_price, quantity FROM order_items;
DROP TABLE order_items;
ALTER TABLE order_items_new RENAME TO order_items;
CREATE UNIQUE INDEX order_items_line ON order_items(order_id, product_id, coalesce(variant_id, 0));
CREATE INDEX order_items_product ON order_items(product_id);

CREATE TABLE cart_items_new (
    buyer_id    INTEGER NOT NULL REFERENCES users(id),
    shop_id     INTEGER NOT NULL REFERENCES shops(id) ON DELETE CASCADE,
    product_id  INTEGER NOT NULL REFERENCES products(id),
    variant_id  INTEGER REFERENCES variants(id),
    quantity    INTEGER NOT NULL CHECK (quantity > 0),
    slot        INTEGER,
    added_at    REAL NOT NULL
);
INSERT INTO cart_items_new (buyer_id, shop_id, product_id, quantity, slot, added_at)
    SELECT buyer_id, shop_id, product_id, quantity, slot, added_at FROM cart_items;
DROP TABLE cart_items;
ALTER TABLE cart_items_new RENAME TO cart_items;
CREATE UNIQUE INDEX cart_items_line ON cart_items(buyer_id, shop_id, product_id, coalesce(variant_id, 0));

CREATE TABLE holds_new (
    buyer_id    INTEGER NOT NULL REFERENCES users(id),
    product_id  INTEGER NOT NULL REFERENCES products(id),
    variant_id  INTEGER REFERENCES variants(id),
    shop_id     INTEGER NOT NULL REFERENCES shops(id),
    token       TEXT NOT NULL,
    quantity    INTEGER NOT NULL CHECK (quantity > 0),
    expires_at  REAL NOT NULL,
    created_at  REAL NOT NULL
);
INSERT INTO holds_new (buyer_id, product_id, shop_id, token, quantity, expires_at, created_at)
    SELECT buyer_id, product_id, shop_id, token, quantity, expires_at, created_at FROM holds;
DROP TABLE holds;
ALTER TABLE holds_new RENAME TO holds;
-- one hold per buyer per product variant
CREATE UNIQUE INDEX holds_line ON holds(buyer_id, product_id, coalesce(variant_id, 0));
CREATE INDEX holds_by_expiry ON holds(expires_at);
CREATE INDEX holds_by_token ON holds(token);

-- How many live variants a product has: the card and Buy now look variants up only when it is
-- above 0, so products without variants cost no extra query on the flash-sale path.
ALTER TABLE products ADD COLUMN variant_count INTEGER NOT NULL DEFAULT 0;

-- The sold-out waitlist per variant too (variant_id NULL: the product as a whole).
CREATE TABLE restock_waiters_new (
    product_id  INTEGER NOT NULL REFERENCES products(id),
    variant_id  INTEGER REFERENCES variants(id),
    user_id     INTEGER NOT NULL REFERENCES users(id),
    created_at  REAL NOT NULL
);
INSERT INTO restock_waiters_new (product_id, user_id, created_at)
    SELECT product_id, user_id, created_at FROM restock_waiters;
DROP TABLE restock_waiters;
ALTER TABLE restock_waiters_new RENAME TO restock_waiters;
CREATE UNIQUE INDEX restock_waiters_line ON restock_waiters(product_id, coalesce(variant_id, 0), user_id);
