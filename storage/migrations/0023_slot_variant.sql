-- A live link may show one variant of a product ("link 3 = 10斤 only", issue 20): its card then
-- offers that variant alone. NULL: the whole product, every variant pickable.
ALTER TABLE link_slots ADD COLUMN variant_id INTEGER REFERENCES variants(id);
