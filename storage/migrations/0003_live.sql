-- Live link slots, live sessions, every open of a link, and the cache of uploaded images.

CREATE TABLE link_slots (
    shop_id     INTEGER NOT NULL REFERENCES shops(id) ON DELETE CASCADE,
    slot        INTEGER NOT NULL CHECK (slot BETWEEN 1 AND 50),
    product_id  INTEGER REFERENCES products(id),
    updated_at  REAL NOT NULL,
    PRIMARY KEY (shop_id, slot)
);

CREATE TABLE live_sessions (
    id          INTEGER PRIMARY KEY,
    shop_id     INTEGER NOT NULL REFERENCES shops(id) ON DELETE CASCADE,
    title       TEXT,
    started_at  REAL NOT NULL,
    ended_at    REAL
);
-- At most one open session per shop.
CREATE UNIQUE INDEX live_sessions_open ON live_sessions(shop_id) WHERE ended_at IS NULL;

CREATE TABLE link_opens (
    id          INTEGER PRIMARY KEY,
    shop_id     INTEGER NOT NULL REFERENCES shops(id) ON DELETE CASCADE,
    kind        TEXT NOT NULL CHECK (kind IN ('slot', 'product', 'shop')),
    slot        INTEGER,
    product_id  INTEGER,
    session_id  INTEGER REFERENCES live_sessions(id),
    user_id     INTEGER NOT NULL,
    opened_at   REAL NOT NULL
);
CREATE INDEX link_opens_shop_time ON link_opens(shop_id, opened_at);
CREATE INDEX link_opens_session ON link_opens(session_id, slot);

-- An image already uploaded to Telegram, by a hash of what it shows: re-sent by file_id.
CREATE TABLE sent_images (
    content_key TEXT PRIMARY KEY,
    file_id     TEXT NOT NULL,
    created_at  REAL NOT NULL
);
