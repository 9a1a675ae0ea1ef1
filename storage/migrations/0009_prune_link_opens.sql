-- The hourly housekeeping forgets link opens older than limits.keep_link_opens_days: by time,
-- across shops, in small batches. This index keeps each batch from scanning the whole table.
CREATE INDEX link_opens_time ON link_opens(opened_at);
