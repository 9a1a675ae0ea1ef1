-- Products. Prices are integer minor units in the shop's currency. Deletion is soft.

CREATE TABLE products (
    id              INTEGER PRIMARY KEY,
    shop_id         INTEGER NOT NULL REFERENCES shops(id) ON DELETE CASCADE,
    name            TEXT NOT NULL,
    price           INTEGER NOT NULL CHECK (price > 0),
    stock           INTEGER NOT NULL CHECK (stock >= 0),
    photo_file_id   TEXT,
    description     TEXT,
    per_buyer_limit INTEGER CHECK (per_buyer_limit IS NULL OR per_buyer_limit > 0),
    hidden          INTEGER NOT NULL DEFAULT 0,
    deleted_at      REAL,
    created_at      REAL NOT NULL,
    updated_at      REAL NOT NULL
);
CREATE INDEX products_shop ON products(shop_id, id) WHERE deleted_at IS NULL;
