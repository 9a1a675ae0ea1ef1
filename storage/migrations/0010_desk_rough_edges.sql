-- The order desk's rough edges (issue 17) and staff exports (issue 16).

-- Whether the shop's staff may export its whole order history (the owner decides; off by default:
-- staff export only the orders waiting to ship, with the buyers' phones and addresses they need).
ALTER TABLE shops ADD COLUMN staff_export_all INTEGER NOT NULL DEFAULT 0 CHECK (staff_export_all IN (0, 1));

-- Every message that shows an order's card to a shop member (the new-order notice, a card opened
-- from /orders), so that when the order changes each copy is edited to what it allows now.
CREATE TABLE order_cards (
    chat_id     INTEGER NOT NULL,
    message_id  INTEGER NOT NULL,
    order_id    INTEGER NOT NULL REFERENCES orders(id) ON DELETE CASCADE,
    shown_at    REAL NOT NULL,
    PRIMARY KEY (chat_id, message_id)
);
CREATE INDEX order_cards_order ON order_cards(order_id);
