-- A buyer asks the shop to correct their order's delivery details before it ships; the owner or
-- staff apply it (recorded in order_changes like their own corrections) or decline it.
CREATE TABLE correction_requests (
    id          INTEGER PRIMARY KEY,
    order_id    INTEGER NOT NULL REFERENCES orders(id) ON DELETE CASCADE,
    field       TEXT NOT NULL CHECK (field IN ('recipient', 'phone', 'address')),
    value       TEXT NOT NULL,
    status      TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'applied', 'declined')),
    created_at  REAL NOT NULL,
    decided_by  INTEGER,
    decided_at  REAL
);
CREATE INDEX correction_requests_order ON correction_requests(order_id);
