-- Corrections of an order's delivery details before it ships (the order desk): each one recorded
-- with who made it and when, the value before and after.
CREATE TABLE order_changes (
    id          INTEGER PRIMARY KEY,
    order_id    INTEGER NOT NULL REFERENCES orders(id) ON DELETE CASCADE,
    field       TEXT NOT NULL CHECK (field IN ('recipient', 'phone', 'address')),
    before      TEXT NOT NULL,
    after       TEXT NOT NULL,
    by_user     INTEGER NOT NULL,
    at          REAL NOT NULL
);
CREATE INDEX order_changes_order ON order_changes(order_id);
