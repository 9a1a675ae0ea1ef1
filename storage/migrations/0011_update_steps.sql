-- The journal of updates being handled (storage/journal.py): each row commits with one of an
-- update's writes and holds what the store answered it up to then, so a replay after a crash
-- answers the same and writes nothing twice. Rows of processed updates are cleared by the
-- housekeeping (Inbox.prune_journals).
CREATE TABLE update_steps (
    update_id  INTEGER NOT NULL,
    seq        INTEGER NOT NULL,
    calls      TEXT NOT NULL,            -- JSON: {"Carts.add#0": 3, "Flows.get#0": {...}}
    PRIMARY KEY (update_id, seq)
);  -- a rowid table: rows are ~1 KB, too big for WITHOUT ROWID (35 vs 47 us per transaction measured)
