-- Whether the shop's staff may export its whole order history (the owner decides; off by default:
-- staff export only the orders waiting to ship, with the buyers' phones and addresses they need).
ALTER TABLE shops ADD COLUMN staff_export_all INTEGER NOT NULL DEFAULT 0 CHECK (staff_export_all IN (0, 1));
