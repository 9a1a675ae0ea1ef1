-- The order desk: staff invites, and what the outbox needs to fold a burst of new-order notices
-- into one digest.

CREATE TABLE staff_invites (
    token       TEXT PRIMARY KEY,
    shop_id     INTEGER NOT NULL REFERENCES shops(id) ON DELETE CASCADE,
    created_by  INTEGER NOT NULL REFERENCES users(id),
    created_at  REAL NOT NULL,
    expires_at  REAL NOT NULL,
    used_by     INTEGER REFERENCES users(id),
    used_at     REAL
);

ALTER TABLE outbox ADD COLUMN kind TEXT;       -- e.g. 'order_notice': may be folded into a digest
ALTER TABLE outbox ADD COLUMN shop_id INTEGER;
ALTER TABLE outbox ADD COLUMN ref INTEGER;     -- the order a notice is about
CREATE INDEX outbox_foldable ON outbox(chat_id, kind, shop_id) WHERE sent_at IS NULL AND failed_at IS NULL;
