"""Messages one person's action causes for others: the shop hears of a new order, a waiting
buyer hears that a product is back. They are rendered here, each in its reader's language, and
go out through the outbox in the same transaction as the change."""

from __future__ import annotations

import aiosqlite

from core.i18n import Safe, Translator
from handlers.common import Context, keyboard, button, services, translator_for
from storage import Store
from storage.models import Shop, User
from storage.orders import Order
from storage.products import Product

Outgoing = tuple[int, str, dict]


def order_items_text(t: Translator, order: Order) -> Safe:
    return Safe("\n".join(t("order.item_line", name=i.name, quantity=i.quantity,
                            subtotal=t.money(i.subtotal, order.currency)) for i in order.items))


def merchant_order_text(t: Translator, order: Order, shop: Shop, buyer: User | None) -> str:
    who = buyer.first_name if buyer else "?"
    handle = f" @{buyer.username}" if buyer and buyer.username else ""
    text = t("notice.new_order", number=order.number, shop=shop.name, items=order_items_text(t, order),
             total=t.money(order.total, order.currency), buyer=who + handle, recipient=order.recipient,
             phone=order.phone, address=order.address)
    if order.note:
        text += "\n" + t("notice.note", note=order.note)
    if order.slot:
        text += "\n" + t("notice.from_link", slot=order.slot)
    return text


async def new_order_messages(context: Context, order: Order, shop: Shop, buyer: User) -> list[Outgoing]:
    """The new-order message for the owner and each staff member, in their own language."""
    svc = services(context)
    out = []
    for member_id, _role in await svc.store.shops.members(shop.id):
        member = await svc.store.users.get(member_id)
        if member is None or member.blocked_at:
            continue
        t = translator_for(member, svc.config)
        out.append((member_id, "sendMessage", {
            "text": merchant_order_text(t, order, shop, buyer), "parse_mode": "HTML",
            "reply_markup": order_desk_buttons(t, order).to_dict(),
        }))
    return out


def order_desk_buttons(t: Translator, order: Order):
    """Confirm / Ship / Cancel on a merchant's order message (handled by the order desk)."""
    return keyboard([[button(t.plain("desk.button_view"), "d.view", order.id)]])


def restock_notifier(store: Store, config):
    """A Products restock listener: tells each waiting buyer once, in their language."""

    async def notify(conn: aiosqlite.Connection, product: Product) -> None:
        shop = await store.shops.get(product.shop_id)
        for user_id in await store.products.take_waiters(conn, product.id):
            user = await store.users.get(user_id)
            if user is None or user.blocked_at:
                continue
            t = translator_for(user, config)
            await store.outbox.enqueue(conn, user_id, "sendMessage", {
                "text": t("notice.back_in_stock", name=product.name, shop=shop.name if shop else ""),
                "parse_mode": "HTML",
                "reply_markup": keyboard([[button(t.plain("notice.button_see_product"), "b.p", product.id, 0)]]).to_dict(),
            })

    return notify
