-- Pre-sale (issue 20): a product or one of its variants sold before it is picked, shipping from
-- a date (ISO text) or within a range of days. Its stock is the pre-sale stock (the expected
-- harvest). A variant's own date, when set, is its; otherwise the product's.

ALTER TABLE products ADD COLUMN ships_from TEXT;
ALTER TABLE products ADD COLUMN ships_until TEXT;
-- Closed early by the merchant: no more orders; the orders placed keep their date.
ALTER TABLE products ADD COLUMN presale_closed_at REAL;
ALTER TABLE variants ADD COLUMN ships_from TEXT;
ALTER TABLE variants ADD COLUMN ships_until TEXT;

-- An order's items share one ship date (a cart mixing dates is placed as one order per date).
ALTER TABLE orders ADD COLUMN ships_from TEXT;
ALTER TABLE orders ADD COLUMN ships_until TEXT;
CREATE INDEX orders_ship_date ON orders(shop_id, ships_from) WHERE ships_from IS NOT NULL;
