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
