-- The Mini App (runtime/miniapp.py, handlers/miniapp.py).

-- A user known only from the Mini App has not started the bot, so the bot may not write to them
-- until they allow it (the Mini App's write-access request) or message the bot: 1 until then.
ALTER TABLE users ADD COLUMN webapp_only INTEGER NOT NULL DEFAULT 0;

-- What the shop's QR codes and posted cards open: the chat ('chat') or the Mini App ('app').
ALTER TABLE shops ADD COLUMN opens_in TEXT NOT NULL DEFAULT 'chat' CHECK (opens_in IN ('chat', 'app'));

-- "How many bought in the last minutes" on the live bag reads a shop's recent orders through
-- orders_shop_time (0004).
