-- Several workers on one PostgreSQL database (storage/leases.py). SQLite runs one process and
-- has no use for it, but both engines keep one schema (tests/test_migrations_pg.py).

-- Who does a piece of shared work until when: "user:<id>" (one worker handles a user's updates
-- at a time, in order), "chat:<id>" (one worker sends a chat's messages, in order), "jobs" (the
-- scheduled work runs on one worker), "worker:<name>" (a live worker: the Telegram budget is
-- shared among them).
CREATE TABLE leases (
    name    TEXT PRIMARY KEY,
    holder  TEXT NOT NULL,
    until   REAL NOT NULL
);
CREATE INDEX leases_until ON leases(until);

-- A user's unprocessed updates, read by the worker that holds the user (runtime/updates.py).
CREATE INDEX inbox_pending_of_user ON inbox(user_key, update_id) WHERE processed_at IS NULL;
