-- Owner and operator summaries: per-shop settings, and a record of every summary made for a day.

-- A shop without a row here uses the defaults (on, 21:00 local time, low stock at 5 or fewer).
CREATE TABLE summary_settings (
    shop_id     INTEGER PRIMARY KEY REFERENCES shops(id) ON DELETE CASCADE,
    enabled     INTEGER NOT NULL DEFAULT 1,
    send_at     INTEGER NOT NULL DEFAULT 1260 CHECK (send_at BETWEEN 0 AND 1439),  -- minutes after local midnight
    low_stock   INTEGER NOT NULL DEFAULT 5 CHECK (low_stock >= 0),
    updated_at  REAL NOT NULL
);

-- One row per daily summary per local date. The UNIQUE key makes "at most one a day" hold across
-- restarts; a row not yet delivered (a chart to upload) is delivered when the bot comes back.
CREATE TABLE summary_runs (
    id            INTEGER PRIMARY KEY,
    scope         TEXT NOT NULL CHECK (scope IN ('shop', 'operator')),
    target        INTEGER NOT NULL,            -- the shop id, or the admin's user id
    local_date    TEXT NOT NULL,               -- YYYY-MM-DD in the shop's (operator: the config's) time zone
    chat_id       INTEGER NOT NULL,
    photo         TEXT,                        -- JSON sendPhoto parameters but the photo (caption, markup)
    follow_up     TEXT,                        -- JSON list of sendMessage parameters sent after the chart
    chart         BLOB,                        -- the PNG, kept only until delivered
    attempts      INTEGER NOT NULL DEFAULT 0,
    not_before    REAL NOT NULL,
    created_at    REAL NOT NULL,
    delivered_at  REAL,                        -- sent, or handed to the outbox, or given up (see error)
    error         TEXT,
    UNIQUE (scope, target, local_date)
);
CREATE INDEX summary_runs_pending ON summary_runs(not_before) WHERE delivered_at IS NULL;

-- The operator's figures read all shops' orders of a period; live sessions are read per shop and day.
CREATE INDEX orders_time ON orders(created_at);
CREATE INDEX live_sessions_shop_time ON live_sessions(shop_id, started_at);
