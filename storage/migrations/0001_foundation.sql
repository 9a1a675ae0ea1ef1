-- Users, shops and their members; conversation state; the durable update inbox and message outbox.

CREATE TABLE users (
    id              INTEGER PRIMARY KEY,          -- the Telegram user id
    first_name      TEXT NOT NULL DEFAULT '',
    username        TEXT,
    language_code   TEXT,                         -- as Telegram reports it
    language        TEXT,                         -- chosen with /language; wins over language_code
    current_shop_id INTEGER REFERENCES shops(id) ON DELETE SET NULL,
    blocked_at      REAL,                         -- the user blocked the bot: skip sends
    created_at      REAL NOT NULL,
    updated_at      REAL NOT NULL
);

CREATE TABLE shops (
    id          INTEGER PRIMARY KEY,
    slug        TEXT NOT NULL UNIQUE,             -- short random id used in links
    name        TEXT NOT NULL,
    owner_id    INTEGER NOT NULL REFERENCES users(id),
    currency    TEXT NOT NULL,
    timezone    TEXT NOT NULL,
    created_at  REAL NOT NULL
);
CREATE INDEX shops_owner ON shops(owner_id);

CREATE TABLE shop_members (
    shop_id   INTEGER NOT NULL REFERENCES shops(id) ON DELETE CASCADE,
    user_id   INTEGER NOT NULL REFERENCES users(id),
    role      TEXT NOT NULL CHECK (role IN ('owner', 'staff')),
    added_at  REAL NOT NULL,
    PRIMARY KEY (shop_id, user_id)
);
CREATE INDEX shop_members_user ON shop_members(user_id);

-- Where a user is in a multi-step conversation (kept here so it survives restarts).
CREATE TABLE flows (
    user_id     INTEGER PRIMARY KEY REFERENCES users(id),
    name        TEXT NOT NULL,
    step        TEXT NOT NULL,
    data        TEXT NOT NULL DEFAULT '{}',       -- JSON
    updated_at  REAL NOT NULL
);

-- Every update is stored before Telegram is told we have it, and processed from here.
CREATE TABLE inbox (
    update_id     INTEGER PRIMARY KEY,
    user_key      INTEGER NOT NULL,               -- updates with one key are handled in order
    payload       TEXT NOT NULL,                  -- the update as Telegram sent it (JSON)
    received_at   REAL NOT NULL,
    processed_at  REAL,
    error         TEXT
);
CREATE INDEX inbox_pending ON inbox(update_id) WHERE processed_at IS NULL;

-- Messages that must reach someone: stored in the transaction that causes them, sent later.
CREATE TABLE outbox (
    id          INTEGER PRIMARY KEY,
    chat_id     INTEGER NOT NULL,
    method      TEXT NOT NULL,                    -- Bot API method, e.g. sendMessage
    params      TEXT NOT NULL,                    -- JSON parameters (without chat_id)
    not_before  REAL NOT NULL,                    -- earliest time to (re)try
    attempts    INTEGER NOT NULL DEFAULT 0,
    created_at  REAL NOT NULL,
    sent_at     REAL,
    failed_at   REAL,                             -- given up (blocked user, bad request)
    error       TEXT
);
CREATE INDEX outbox_due ON outbox(not_before) WHERE sent_at IS NULL AND failed_at IS NULL;
