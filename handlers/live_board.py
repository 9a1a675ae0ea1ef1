"""What the live links show, as the board reads it: for the owner's /live and for the board
posted in the shop's channel or group (handlers/channels.py)."""

from __future__ import annotations

from dataclasses import dataclass

from core.i18n import Translator
from core.text import shorten
from storage import Store
from storage.models import Shop
from storage.orders import line_name
from storage.products import Product
from storage.variants import Variant

BOARD_NAME_MAX = 32  # 50 slots of names must fit one message (4096 characters)


@dataclass(frozen=True)
class OnSlot:
    """What a live link shows: a product, or one of its variants alone ("link 3 = 10斤 only")."""
    product: Product
    variant: Variant | None = None

    @property
    def name(self) -> str:
        return line_name(self.product.name, self.variant.name) if self.variant else self.product.name

    @property
    def price(self) -> int:
        return self.variant.price if self.variant else self.product.price

    @property
    def stock(self) -> int:
        return self.variant.stock if self.variant else self.product.stock

    @property
    def on_sale(self) -> bool:
        return self.product.on_sale and (self.variant is None or self.variant.on_sale)


async def on_slot(store: Store, product_id: int | None, variant_id: int | None) -> OnSlot | None:
    product = await store.products.get(product_id) if product_id else None
    if product is None:
        return None
    variant = await store.variants.get(variant_id) if variant_id else None
    return OnSlot(product, variant if variant is not None and variant.product_id == product.id else None)


async def products_on_slots(store: Store, shop: Shop) -> dict[int, OnSlot | None]:
    pins = await store.live.pins(shop.id)
    return {pin.slot: await on_slot(store, pin.product_id, pin.variant_id) for pin in pins}


def slot_line(t: Translator, shop: Shop, slot: int, shown: OnSlot | None) -> str:
    if shown is None:
        return t("live.slot_empty", slot=slot)
    name = shorten(shown.name, BOARD_NAME_MAX)
    if not shown.on_sale:
        return t("live.slot_hidden", slot=slot, name=name)
    if shown.stock == 0:
        return t("live.slot_sold_out", slot=slot, name=name, price=t.money(shown.price, shop.currency))
    return t("live.slot_line", slot=slot, name=name, price=t.money(shown.price, shop.currency), stock=shown.stock)


async def board_lines(store: Store, t: Translator, shop: Shop) -> tuple[list[str], list[int]]:
    """The lines of the links that show something on sale, and their slot numbers."""
    shown = {s: o for s, o in sorted((await products_on_slots(store, shop)).items()) if o is not None and o.on_sale}
    return [slot_line(t, shop, s, o) for s, o in shown.items()], list(shown)
