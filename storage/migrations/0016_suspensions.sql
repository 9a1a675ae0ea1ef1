-- The operator's hand (/admin): shops and users suspended with a reason, and a log of what the
-- operators did. A suspended shop's links show a notice and take no orders; its open orders stay
-- visible to their buyers. A suspended user's updates get the reason and nothing else.
CREATE TABLE suspended_shops (
    shop_id     INTEGER PRIMARY KEY REFERENCES shops(id) ON DELETE CASCADE,
    reason      TEXT NOT NULL,
    by_admin    INTEGER NOT NULL,
    at          REAL NOT NULL
);

CREATE TABLE suspended_users (
    user_id     INTEGER PRIMARY KEY,
    reason      TEXT NOT NULL,
    by_admin    INTEGER NOT NULL,
    at          REAL NOT NULL
);

CREATE TABLE admin_actions (
    id          INTEGER PRIMARY KEY,
    admin_id    INTEGER NOT NULL,
    action      TEXT NOT NULL,           -- suspend_shop, resume_shop, suspend_user, resume_user
    target      INTEGER NOT NULL,        -- the shop or user id
    reason      TEXT,
    at          REAL NOT NULL
);
