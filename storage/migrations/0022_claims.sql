-- Damaged-goods claims (issue 22): each shop's policy, and the claims buyers file. An approved
-- claim is a row of the refunds ledger (reason damage_claim), never an edit of the order.

CREATE TABLE claim_policies (
    shop_id               INTEGER PRIMARY KEY REFERENCES shops(id) ON DELETE CASCADE,
    enabled               INTEGER NOT NULL DEFAULT 0,
    hours_after_delivery  INTEGER NOT NULL DEFAULT 48 CHECK (hours_after_delivery > 0),
    days_after_shipping   INTEGER NOT NULL DEFAULT 7 CHECK (days_after_shipping > 0),
    mode                  TEXT NOT NULL DEFAULT 'per_unit' CHECK (mode IN ('per_unit', 'percent')),
    percent               INTEGER NOT NULL DEFAULT 100 CHECK (percent BETWEEN 1 AND 100),
    threshold             INTEGER NOT NULL DEFAULT 1 CHECK (threshold >= 1),
    text                  TEXT,
    updated_at            REAL NOT NULL
);

CREATE TABLE claims (
    id               INTEGER PRIMARY KEY,
    order_id         INTEGER NOT NULL REFERENCES orders(id),
    shop_id          INTEGER NOT NULL REFERENCES shops(id),
    buyer_id         INTEGER NOT NULL REFERENCES users(id),
    product_id       INTEGER NOT NULL REFERENCES products(id),
    variant_id       INTEGER REFERENCES variants(id),
    line_name        TEXT NOT NULL,
    units            INTEGER NOT NULL CHECK (units > 0),
    amount           INTEGER NOT NULL CHECK (amount >= 0),   -- what the policy computed
    currency         TEXT NOT NULL,
    photos           TEXT NOT NULL,                          -- JSON list of Telegram file ids
    note             TEXT,
    status           TEXT NOT NULL CHECK (status IN ('open', 'approved', 'rejected')),
    approved_amount  INTEGER,
    reason           TEXT,
    decided_by       INTEGER REFERENCES users(id),
    decided_at       REAL,
    created_at       REAL NOT NULL
);
-- One open claim per order line at a time.
CREATE UNIQUE INDEX claims_open_line ON claims(order_id, product_id, coalesce(variant_id, 0)) WHERE status = 'open';
CREATE INDEX claims_shop ON claims(shop_id, status, created_at);
CREATE INDEX claims_order ON claims(order_id);
