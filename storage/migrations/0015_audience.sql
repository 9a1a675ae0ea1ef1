-- The audience: buyers who follow a shop, and the going-live alerts sent to them.

CREATE TABLE follows (
    shop_id     INTEGER NOT NULL REFERENCES shops(id) ON DELETE CASCADE,
    user_id     INTEGER NOT NULL REFERENCES users(id),
    created_at  REAL NOT NULL,
    PRIMARY KEY (shop_id, user_id)
);
CREATE INDEX follows_by_user ON follows(user_id);

-- Each "we are live" alert a shop sent (the daily cap counts these).
CREATE TABLE live_alerts (
    id          INTEGER PRIMARY KEY,
    shop_id     INTEGER NOT NULL REFERENCES shops(id) ON DELETE CASCADE,
    session_id  INTEGER NOT NULL REFERENCES live_sessions(id),
    followers   INTEGER NOT NULL,                 -- messages queued
    sent_at     REAL NOT NULL
);
CREATE UNIQUE INDEX live_alerts_once_per_session ON live_alerts(session_id);
CREATE INDEX live_alerts_by_shop ON live_alerts(shop_id, sent_at);

-- Flash deals on a product (the one on a live link): a deal price for a time or a number of
-- units, with a per-buyer cap. `taken` counts units held or sold at the deal price; the
-- conditional update on it is what keeps the deal's units from being oversold.
CREATE TABLE deals (
    id          INTEGER PRIMARY KEY,
    shop_id     INTEGER NOT NULL REFERENCES shops(id) ON DELETE CASCADE,
    product_id  INTEGER NOT NULL REFERENCES products(id),
    price       INTEGER NOT NULL CHECK (price > 0),
    units       INTEGER CHECK (units > 0),        -- at most this many at the deal price (NULL: no cap)
    taken       INTEGER NOT NULL DEFAULT 0 CHECK (taken >= 0),
    per_buyer   INTEGER CHECK (per_buyer > 0),    -- units one buyer may get at the deal price
    ends_at     REAL,                             -- NULL: ends when its units are gone
    started_at  REAL NOT NULL,
    stopped_at  REAL,                             -- ended early by the owner, or replaced
    CHECK (units IS NOT NULL OR ends_at IS NOT NULL),
    CHECK (units IS NULL OR taken <= units)
);
CREATE INDEX deals_by_product ON deals(product_id) WHERE stopped_at IS NULL;

-- Units each buyer holds or bought at a deal's price (its per-buyer cap).
CREATE TABLE deal_takes (
    deal_id     INTEGER NOT NULL REFERENCES deals(id) ON DELETE CASCADE,
    buyer_id    INTEGER NOT NULL REFERENCES users(id),
    units       INTEGER NOT NULL CHECK (units >= 0),
    PRIMARY KEY (deal_id, buyer_id)
);

-- A hold taken during a deal keeps the deal's price until it expires.
ALTER TABLE holds ADD COLUMN deal_id INTEGER REFERENCES deals(id);
ALTER TABLE holds ADD COLUMN unit_price INTEGER;
