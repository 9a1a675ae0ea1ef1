-- Payments: the methods a shop accepts, its own receive code, and each order's payment state.

ALTER TABLE shops ADD COLUMN payment_methods TEXT NOT NULL DEFAULT 'cod';   -- comma-separated: cod, code, card
ALTER TABLE shops ADD COLUMN payment_code_file_id TEXT;                    -- the merchant's receive-code image
ALTER TABLE shops ADD COLUMN payment_timeout_minutes INTEGER NOT NULL DEFAULT 30
    CHECK (payment_timeout_minutes BETWEEN 5 AND 1440);

-- cod: pays on delivery; awaiting: prepaid, not paid yet; claimed: the buyer says they paid;
-- paid; expired: not paid in time (the order is cancelled and its stock returned).
ALTER TABLE orders ADD COLUMN payment_status TEXT NOT NULL DEFAULT 'cod';
ALTER TABLE orders ADD COLUMN payment_deadline REAL;
ALTER TABLE orders ADD COLUMN payment_reminded INTEGER NOT NULL DEFAULT 0;
ALTER TABLE orders ADD COLUMN paid_at REAL;
ALTER TABLE orders ADD COLUMN telegram_charge_id TEXT;
ALTER TABLE orders ADD COLUMN provider_charge_id TEXT;
CREATE UNIQUE INDEX orders_telegram_charge ON orders(telegram_charge_id) WHERE telegram_charge_id IS NOT NULL;
CREATE INDEX orders_payment_due ON orders(payment_deadline) WHERE payment_status IN ('awaiting', 'claimed');
