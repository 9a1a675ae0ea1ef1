-- storage/migrations/0026_workers.sql, for PostgreSQL.
CREATE TABLE leases (
    name TEXT PRIMARY KEY,
    holder TEXT NOT NULL,
    until DOUBLE PRECISION NOT NULL
);
CREATE INDEX leases_until ON leases(until);
CREATE INDEX inbox_pending_of_user ON inbox(user_key, update_id) WHERE processed_at IS NULL;
