"""Little steps that many stories share (a merchant with a shop, a product...)."""

from __future__ import annotations


async def merchant_with_shop(world, name: str = "Ann", shop: str = "Green Hill Oranges", language_code: str = "en"):
    user = world.user(name, language_code=language_code)
    await user.send("/newshop")
    await user.send(shop)
    return user


async def current_shop(world, user):
    memberships = await world.store.shops.memberships(user.id)
    current = (await world.store.users.get(user.id)).current_shop_id
    return next(m.shop for m in memberships if m.shop.id == current)


async def add_product(user, line: str = "Xiacheng oranges 5kg, 39.90, 200"):
    """Quick-add a product and return its id (read from the card's buttons)."""
    await user.send(f"/addproduct {line}")
    data = user.last.callback_data("✏️ Name")
    return int(data.split(":")[1])


async def shop_with_product_on_link(world, line: str = "Oranges, 39.90, 50"):
    """A merchant whose product is on link 1; returns (merchant, shop, product id)."""
    ann = await merchant_with_shop(world)
    product_id = await add_product(ann, line)
    await ann.tap("🔴 Put on next free link")
    return ann, await current_shop(world, ann), product_id


async def save_delivery(world, user, phone="+8613800138000", recipient=None, address="8 Orchard Lane, Yichang"):
    """Make `user` a returning buyer (saved phone, name and address)."""
    await world.store.users.seen(user.id, user.first_name, None, user.language_code)
    async with world.store.db.write() as conn:
        await conn.execute("UPDATE users SET phone = ?, recipient = ?, address = ? WHERE id = ?",
                           (phone, recipient or user.first_name, address, user.id))
    world.store.users.forget(user.id)


async def stock_of(world, product_id):
    return (await world.store.products.get(product_id)).stock


async def place_order(world, buyer, shop, slot: int = 1, taps_plus: int = 0):
    """A returning buyer orders from a link; returns the Order."""
    known = await world.store.users.get(buyer.id)
    if known is None or not known.has_delivery:  # keep details a test set up itself
        await save_delivery(world, buyer)
    await buyer.send(f"/start l_{shop.slug}_{slot}")
    for _ in range(taps_plus):
        await buyer.tap("+")
    await buyer.tap("Buy now")
    await buyer.tap("Confirm order")
    return (await world.store.orders.of_buyer(buyer.id))[0]


async def to_confirmation(world, buyer, shop, slot: int = 1):
    """A returning buyer opens a link and taps Buy now; returns the confirmation message."""
    await save_delivery(world, buyer)
    await buyer.send(f"/start l_{shop.slug}_{slot}")
    await buyer.tap("Buy now")
    return buyer.last
