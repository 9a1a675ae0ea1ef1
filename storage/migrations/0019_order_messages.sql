-- Conversations about an order, relayed by the bot between the buyer and the shop (neither sees
-- the other's Telegram account): each message, its side, and when the other side answered it.
CREATE TABLE order_messages (
    id           INTEGER PRIMARY KEY,
    order_id     INTEGER NOT NULL REFERENCES orders(id) ON DELETE CASCADE,
    from_buyer   INTEGER NOT NULL CHECK (from_buyer IN (0, 1)),
    author_id    INTEGER NOT NULL,
    text         TEXT,
    photo        TEXT,                   -- a Telegram file id
    at           REAL NOT NULL,
    answered_at  REAL                    -- a buyer's message: when the shop answered
);
CREATE INDEX order_messages_order ON order_messages(order_id);
CREATE INDEX order_messages_unanswered ON order_messages(order_id) WHERE from_buyer = 1 AND answered_at IS NULL;
