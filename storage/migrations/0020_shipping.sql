-- Shipping (issue 21): a shop's rules, and each order's fee and region as they were when placed
-- (changing the rules never changes a placed order).

CREATE TABLE shipping_rules (
    shop_id         INTEGER PRIMARY KEY REFERENCES shops(id) ON DELETE CASCADE,
    default_fee     INTEGER NOT NULL CHECK (default_fee >= 0),
    free_over       INTEGER CHECK (free_over IS NULL OR free_over > 0),
    per_extra_unit  INTEGER NOT NULL DEFAULT 0 CHECK (per_extra_unit >= 0),
    per_kg          INTEGER NOT NULL DEFAULT 0 CHECK (per_kg >= 0),
    updated_at      REAL NOT NULL
);

-- A region's own fee, or fee NULL: not served. region is CN-42 (a province), JP (a country) or
-- ABROAD (every other country).
CREATE TABLE shipping_regions (
    shop_id  INTEGER NOT NULL REFERENCES shops(id) ON DELETE CASCADE,
    region   TEXT NOT NULL,
    fee      INTEGER CHECK (fee IS NULL OR fee >= 0),
    PRIMARY KEY (shop_id, region)
);

-- orders.total now includes shipping_fee; the goods alone are total - shipping_fee.
ALTER TABLE orders ADD COLUMN shipping_fee INTEGER NOT NULL DEFAULT 0;
ALTER TABLE orders ADD COLUMN region TEXT;
-- The first order of the parcel this order is packed with (same buyer, shop and address, not yet
-- shipped); NULL for an order that is its own parcel or the first of one.
ALTER TABLE orders ADD COLUMN parcel_of INTEGER REFERENCES orders(id);
ALTER TABLE orders ADD COLUMN weight_grams INTEGER NOT NULL DEFAULT 0;
CREATE INDEX orders_open_of_buyer ON orders(buyer_id, shop_id, status);

-- The region of the buyer's saved address, when they had to pick it from buttons.
ALTER TABLE users ADD COLUMN region TEXT;
