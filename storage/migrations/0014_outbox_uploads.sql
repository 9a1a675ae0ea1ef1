-- The outbox can carry an upload (the daily summary's chart), so one sender owns every retry and
-- error of Telegram's: the file's bytes and the parameter they go in; a message to send instead
-- when Telegram refuses the upload; and the message this one must follow (a summary's texts wait
-- for its chart, even while the chart waits out a retry).
ALTER TABLE outbox ADD COLUMN upload BLOB;
ALTER TABLE outbox ADD COLUMN upload_field TEXT;
ALTER TABLE outbox ADD COLUMN fallback TEXT;
ALTER TABLE outbox ADD COLUMN after_id INTEGER;
