-- Refunds due: money a shop must give back. A row of this ledger, never an edit of the order's
-- total: a paid order cancelled (by the buyer or the shop), or a payment that arrived for an order
-- already cancelled. The owner marks it settled once the money is sent back.
CREATE TABLE refunds (
    id          INTEGER PRIMARY KEY,
    order_id    INTEGER NOT NULL REFERENCES orders(id),
    shop_id     INTEGER NOT NULL REFERENCES shops(id),
    amount      INTEGER NOT NULL CHECK (amount > 0),   -- minor units (fen, cents)
    currency    TEXT NOT NULL,
    reason      TEXT NOT NULL,           -- buyer_cancelled, shop_cancelled, paid_after_cancel
    created_by  INTEGER NOT NULL,        -- who caused it (0: the bot, e.g. the payment clock)
    created_at  REAL NOT NULL,
    settled_at  REAL,                    -- NULL: still to be sent back
    settled_by  INTEGER
);
CREATE INDEX refunds_of_order ON refunds(order_id);
CREATE INDEX refunds_of_shop ON refunds(shop_id, created_at);

-- Telegram's pre-checkout was approved: the card payment is completing, the clock must wait.
ALTER TABLE orders ADD COLUMN payment_approved_at REAL;
-- A claimed transfer past its deadline: the shop was reminded to check (then it expires).
ALTER TABLE orders ADD COLUMN claim_reminded INTEGER NOT NULL DEFAULT 0;
