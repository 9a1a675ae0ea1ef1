"""Messages one person's action causes for others: the shop hears of a new order, the buyer of
each status change, a waiting buyer that a product is back. Each is rendered in its reader's
language and goes out through the outbox in the same transaction as the change."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from core.i18n import N_, Safe, Translator
from core.orders import Status
from core.payments import Method, PaymentStatus
from handlers.common import Services, button, keyboard, services, translator_for
from storage import Store
from storage.db import WriteTransaction
from storage.models import Shop, User
from storage.orders import Order
from storage.outbox import Outgoing
from storage.products import Product

ORDER_NOTICE = "order_notice"  # outbox kind: a burst of these is folded into one digest
BUYER_STATUS_NOTICES = {
    Status.CONFIRMED: N_("notice.buyer_confirmed"),
    Status.SHIPPED: N_("notice.buyer_shipped"),
    Status.DELIVERED: N_("notice.buyer_delivered"),
    Status.CANCELLED: N_("notice.buyer_cancelled_by_shop"),
}
METHOD_NAMES = {Method.COD: N_("payment.cod"), Method.CODE: N_("payment.code"), Method.CARD: N_("payment.card")}
STATUS_NAMES = {
    PaymentStatus.COD: N_("payment.status_cod"), PaymentStatus.AWAITING: N_("payment.status_awaiting"),
    PaymentStatus.CLAIMED: N_("payment.status_claimed"), PaymentStatus.PAID: N_("payment.status_paid"),
    PaymentStatus.EXPIRED: N_("payment.status_expired"),
}


def method_name(t: Translator, method: str) -> str:
    return t.plain(METHOD_NAMES.get(Method(method), "payment.cod"))


def payment_line(t: Translator, order: Order) -> str:
    """"Payment: transfer to the shop's code · awaiting payment" for order views and lists."""
    return t("payment.line", method=method_name(t, order.payment_method),
             status=t.plain(STATUS_NAMES[PaymentStatus(order.payment_status)]))


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
    if order.payment_method != Method.COD:
        text += "\n" + payment_line(t, order)
    return text


def order_desk_buttons(t: Translator, order: Order):
    """The next steps a merchant can take on an order, as buttons."""
    row = []
    if order.status == Status.PLACED:
        row.append(button(t.plain("desk.button_confirm"), "d.conf", order.id))
    if order.status in (Status.PLACED, Status.CONFIRMED):
        row.append(button(t.plain("desk.button_ship"), "d.ship", order.id))
        row.append(button(t.plain("desk.button_cancel"), "d.cancel", order.id))
    if order.status == Status.SHIPPED:
        row.append(button(t.plain("desk.button_delivered"), "d.done", order.id))
    return keyboard([row])


async def to_members(svc: Services, shop: Shop, render: Callable[[Translator], Outgoing | dict]) -> list[Outgoing]:
    """One message per shop member (owner and staff) who can be reached, each in their language.

    `render(t)` returns sendMessage parameters, or an Outgoing whose chat_id is filled in here."""
    out = []
    for member_id, _role in await svc.store.shops.members(shop.id):
        member = await svc.store.users.get(member_id)
        if member is None or member.blocked_at:
            continue
        rendered = render(translator_for(member, svc.config))
        if isinstance(rendered, Outgoing):
            out.append(replace(rendered, chat_id=member_id))
        else:
            out.append(Outgoing(member_id, "sendMessage", rendered))
    return out


async def new_order_messages(context, order: Order, shop: Shop, buyer: User) -> list[Outgoing]:
    """The new-order notice for the owner and each staff member (foldable into a digest)."""
    return await to_members(services(context), shop, lambda t: Outgoing(
        0, "sendMessage",
        {"text": merchant_order_text(t, order, shop, buyer), "parse_mode": "HTML",
         "reply_markup": order_desk_buttons(t, order)},
        kind=ORDER_NOTICE, shop_id=shop.id, ref=order.id))


def refund_due(order: Order) -> bool:
    """A paid order that was cancelled: its cancellation wrote a refund due (storage/refunds.py)."""
    return order.status == Status.CANCELLED and order.payment_status == PaymentStatus.PAID


def settle_markup(t: Translator, order_id: int):
    """The owner's button that marks an order's refund as sent back."""
    return keyboard([[button(t.plain("refund.button_settle"), "rf.ok", order_id)]])


async def buyer_status_message(svc: Services, order: Order, shop: Shop) -> list[Outgoing]:
    """Tell the buyer, in their language, what happened to their order."""
    key = BUYER_STATUS_NOTICES.get(Status(order.status))
    buyer = await svc.store.users.get(order.buyer_id)
    if key is None or buyer is None or buyer.blocked_at:
        return []
    t = translator_for(buyer, svc.config)
    text = t(key, number=order.number, shop=shop.name, reason=order.cancel_reason or "—")
    if order.status == Status.SHIPPED and order.tracking_number:
        text += "\n" + t("notice.tracking", carrier=order.carrier or "", tracking=order.tracking_number)
    if refund_due(order):
        text += "\n" + t("refund.due_buyer", amount=t.money(order.total, order.currency), shop=shop.name)
    markup = keyboard([[button(t.plain("myorders.button_received", number=order.number), "o.recv", order.id)]]) \
        if order.status == Status.SHIPPED else keyboard([[button(t.plain("checkout.button_my_orders"), "o.mine")]])
    return [Outgoing(order.buyer_id, "sendMessage", {"text": text, "parse_mode": "HTML",
                                                      "reply_markup": markup})]


def digest_renderer(store: Store, config):
    """For the outbox sender: fold a burst of new-order notices to one member into one message."""

    async def render(chat_id: int, shop_id: int, order_ids: list[int]) -> Outgoing | None:
        member = await store.users.get(chat_id)
        shop = await store.shops.get(shop_id)
        orders = [o for o in [await store.orders.get(i) for i in order_ids] if o is not None]
        if member is None or shop is None or not orders:
            return None
        t = translator_for(member, config)
        first, last = min(o.number for o in orders), max(o.number for o in orders)
        text = t.plural("notice.digest", len(orders), shop=shop.name, first=first, last=last,
                        units=sum(o.units for o in orders),
                        total=t.money(sum(o.total for o in orders), orders[0].currency))
        markup = keyboard([[button(t.plain("desk.button_list_them"), "d.rng", shop.id, first, last)]])
        return Outgoing(chat_id, "sendMessage", {"text": text, "parse_mode": "HTML", "reply_markup": markup})

    return render


def restock_notifier(store: Store, config):
    """A Products restock listener: tells each waiting buyer once, in their language."""

    async def notify(conn: WriteTransaction, product: Product) -> None:
        shop = await store.shops.get(product.shop_id)
        for user_id in await store.products.take_waiters(conn, product.id):
            user = await store.users.get(user_id)
            if user is None or user.blocked_at:
                continue
            t = translator_for(user, config)
            await store.outbox.enqueue(conn, Outgoing(user_id, "sendMessage", {
                "text": t("notice.back_in_stock", name=product.name, shop=shop.name if shop else ""),
                "parse_mode": "HTML",
                "reply_markup": keyboard([[button(t.plain("notice.button_see_product"), "b.p", product.id, 0)]]),
            }))

    return notify
