-- The shop's channel and group (issue 23): chats the bot was added to as an administrator, the
-- shop the owner connected each to, and the cards posted there (edited as price and stock move).

CREATE TABLE shop_chats (
    chat_id       INTEGER PRIMARY KEY,
    title         TEXT NOT NULL,
    kind          TEXT NOT NULL CHECK (kind IN ('group', 'supergroup', 'channel')),
    added_by      INTEGER NOT NULL,               -- who added the bot: only they connect it
    shop_id       INTEGER REFERENCES shops(id) ON DELETE CASCADE,  -- NULL until connected
    connected_at  REAL,
    removed_at    REAL,                            -- the bot was removed: nothing is posted there
    created_at    REAL NOT NULL
);
CREATE INDEX shop_chats_shop ON shop_chats(shop_id) WHERE shop_id IS NOT NULL AND removed_at IS NULL;

CREATE TABLE chat_posts (
    chat_id     INTEGER NOT NULL REFERENCES shop_chats(chat_id) ON DELETE CASCADE,
    message_id  INTEGER NOT NULL,
    shop_id     INTEGER NOT NULL REFERENCES shops(id) ON DELETE CASCADE,
    product_id  INTEGER REFERENCES products(id),  -- NULL: the live board
    captioned   INTEGER NOT NULL DEFAULT 0,       -- a photo card: its caption is edited
    shown       TEXT NOT NULL,                    -- the text and buttons as last posted or edited
    posted_at   REAL NOT NULL,
    edited_at   REAL,
    PRIMARY KEY (chat_id, message_id)
);
