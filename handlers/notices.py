"""Messages one person's action causes for others: the shop hears of a new order, the buyer of
each status change, a waiting buyer that a product is back. Each is rendered in its reader's
language and goes out through the outbox in the same transaction as the change."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from core import callbacks as taps
from core.config import Config
from core.contact import display_phone, phone_region
from core.i18n import N_, Translator
from core.geo import map_link
from core.orders import Status, next_steps
from core.payments import Method, PaymentStatus
from core.regions import region_name
from core.telegram_text import TEXT_LIMIT, fit_lines, visible_length
from core.text import clean_text
from handlers.common import Services, button, keyboard, translator_for
from storage import Store
from storage.models import Shop, User
from storage.orders import Order, line_name
from storage.outbox import Outgoing, Priority
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


def order_item_lines(t: Translator, order: Order) -> list[str]:
    return [t("order.item_line", name=i.name, quantity=i.quantity, subtotal=t.money(i.subtotal, order.currency))
            for i in order.items]


def buyer_block(t: Translator, order: Order, buyer: User | None, shop: Shop) -> str:
    """What the buyer typed (and their Telegram name), fenced in a quote under a bold heading, so
    none of it can pass for the bot's own lines above it. Cleaned again on the way out: rows
    stored before input was cleaned (core.text) must not slip a line break or a bidi override in."""
    who = (clean_text(buyer.first_name) or "?") if buyer else "?"
    handle = f" @{buyer.username}" if buyer and buyer.username else ""
    lines = [t("notice.typed_buyer", buyer=who + handle),
             t("notice.typed_ship", recipient=clean_text(order.recipient),
               phone=display_phone(order.phone, phone_region(shop.currency))),
             t("notice.typed_address", address=clean_text(order.address))]
    link = map_link(order.latitude, order.longitude, t.language)
    if link:  # right under the address it pins
        lines.append(t("notice.location", link=link))
    if order.note:
        lines.append(t("notice.note", note=clean_text(order.note)))
    return t("notice.typed_title") + "\n<blockquote>" + "\n".join(lines) + "</blockquote>"


def merchant_order_text(t: Translator, order: Order, shop: Shop, buyer: User | None, *,
                        status_lines: Sequence[str] = (), items: Sequence[str] | None = None,
                        limit: int = TEXT_LIMIT, title: str | None = None) -> str:
    """The order as the shop reads it (notice and order card): the bot's lines first (items,
    total, payment — always, cash on delivery too — the link it came from, `status_lines`), then
    the buyer's words fenced. `title` replaces "New order" once the order has moved on.

    `items`: the item lines to show (a page of them); by default all that fit `limit`, with a
    line saying how many more the order view shows."""
    payment = t("notice.payment", method=method_name(t, order.payment_method),
                status=t.plain(STATUS_NAMES[PaymentStatus(order.payment_status)]))

    def render(item_lines: Sequence[str]) -> str:
        head = title if title is not None else t("notice.order_head", number=order.number, shop=shop.name)
        lines = [head, *item_lines, *shipping_lines(t, order), *ship_date_lines(t, order),
                 t("notice.order_total", total=t.money(order.total, order.currency)), payment]
        if order.slot:
            lines.append(t("notice.source_link", slot=order.slot))
        lines += status_lines
        return "\n".join(lines) + "\n\n" + buyer_block(t, order, buyer, shop)

    if items is None:
        budget = limit - visible_length(render([])) - 1
        items = fit_lines(order_item_lines(t, order), budget, lambda n: t("notice.items_more", count=n))
    return render(items)


def ship_date_lines(t: Translator, order: Order) -> list[str]:
    """When a pre-sale order ships (receipt, notices, order card, /myorders); nothing otherwise."""
    from handlers.presale import ship_text  # (it imports the guards, which come after this module)
    when = ship_text(t, order.ships_from, order.ships_until)
    return [t("presale.card_line", ships=when)] if when else []


def shipping_lines(t: Translator, order: Order) -> list[str]:
    """The shipping of a placed order, for the receipt, the shop's notice and the order card:
    nothing for an order of a shop without shipping rules."""
    if not order.shipping_fee and order.region is None and order.parcel_of is None:
        return []
    fee = t.money(order.shipping_fee, order.currency)
    lines = [t("shipping.line_region", region=region_name(order.region, t.language), fee=fee) if order.region
             else t("shipping.line", fee=fee)]
    if order.parcel_number is not None:
        lines.append(t("shipping.packed_with", number=order.parcel_number))
    return lines


def tracking_line(t: Translator, carrier: str | None, number: str | None) -> str | None:
    """"Tracking: SF Express SF1234567890", or the carrier or the number alone; None if neither."""
    if carrier and number:
        return t("notice.tracking", carrier=carrier, tracking=number)
    if number:
        return t("notice.tracking_number_only", tracking=number)
    if carrier:
        return t("notice.tracking_carrier_only", carrier=carrier)
    return None


DESK_BUTTONS: dict[Status, tuple[str, type[taps.ConfirmOrder | taps.ShipOrder | taps.CancelByShop | taps.Delivered]]] = {
    Status.CONFIRMED: ("desk.button_confirm", taps.ConfirmOrder), Status.SHIPPED: ("desk.button_ship", taps.ShipOrder),
    Status.CANCELLED: ("desk.button_cancel", taps.CancelByShop), Status.DELIVERED: ("desk.button_delivered", taps.Delivered)}


def order_desk_buttons(t: Translator, order: Order, *, back: str | None = None):
    """The next steps a merchant can take on an order now, as buttons (only those allowed);
    `back`: the order list to return to (the order card's last row)."""
    row = [button(t.plain(DESK_BUTTONS[step][0]), DESK_BUTTONS[step][1](order.id))
           for step in next_steps(order.status, order.payment_status)]
    rows = [row]
    extra = [button(t.plain("desk.button_fix"), taps.ShopFix(order.id))] if order.status in ("placed", "confirmed") else []
    rows.append(extra + [button(t.plain("chat.button_write_buyer"), taps.WriteBuyer(order.id))])  # a fix before it ships
    if back is not None:  # the order card: its packing slip while it waits to ship, and the way back
        ready = order.status in ("placed", "confirmed") and order.payment_status in ("cod", "paid")
        slip = [button(t.plain("slip.button_order"), taps.OrderSlip(order.id))] if ready else []
        rows.append(slip + [button(t.plain("desk.button_back_to_list"), taps.OrderList(back, 0))])
    return keyboard(rows)


@dataclass(frozen=True)
class Reach:
    """Who a change's messages go to and in which language, gathered BEFORE the storage call that
    commits the change with its messages: that call renders them with pure functions over this
    (a transaction body runs only its own statements; storage/db.py checks it)."""

    config: Config
    members: tuple[User, ...] = ()  # the shop's owner and staff who can be reached, owner first
    buyer: User | None = None  # the order's buyer (also when blocked: a card still names them)
    cards: tuple[tuple[int, int], ...] = ()  # (chat, message) of each copy of the order's card
    claims: bool = False  # the shop takes damaged-goods claims (a shipped order's notice offers one)

    def t(self, user: User) -> Translator:
        return translator_for(user, self.config)

    @property
    def buyer_reachable(self) -> bool:
        return self.buyer is not None and not self.buyer.blocked_at


async def reach_of(svc: Services, shop: Shop | None, *, buyer_id: int | None = None,
                   order_id: int | None = None) -> Reach:
    """Gather a Reach: the shop's reachable members, the buyer, the copies of the order's card."""
    members: list[User] = []
    if shop is not None:
        for member_id, _role in await svc.store.shops.members(shop.id):
            member = await svc.store.users.get(member_id)
            if member is not None and not member.blocked_at:
                members.append(member)
    buyer = await svc.store.users.get(buyer_id) if buyer_id is not None else None
    cards = tuple(await svc.store.orders.cards(order_id)) if order_id is not None else ()
    claims = buyer_id is not None and shop is not None and (await svc.store.claims.policy(shop.id)).enabled
    return Reach(svc.config, tuple(members), buyer, cards, claims)


def members_messages(reach: Reach, render: Callable[[Translator], Outgoing | dict]) -> list[Outgoing]:
    """One message per reachable shop member, each in their language (pure: see Reach).

    `render(t)` returns sendMessage parameters, or an Outgoing whose chat_id is filled in here."""
    out = []
    for member in reach.members:
        rendered = render(reach.t(member))
        if isinstance(rendered, Outgoing):
            out.append(replace(rendered, chat_id=member.id, priority=Priority.OWNER))
        else:
            out.append(Outgoing(member.id, "sendMessage", rendered, priority=Priority.OWNER))
    return out


def buyer_messages(reach: Reach, render: Callable[[Translator], str]) -> list[Outgoing]:
    """A text to the buyer in their language, when they can be reached (pure: see Reach)."""
    if not reach.buyer_reachable:
        return []
    assert reach.buyer is not None
    return [Outgoing(reach.buyer.id, "sendMessage", {"text": render(reach.t(reach.buyer)), "parse_mode": "HTML"})]


async def to_members(svc: Services, shop: Shop, render: Callable[[Translator], Outgoing | dict]) -> list[Outgoing]:
    """members_messages for a message sent outside any change (gathers the reach itself)."""
    return members_messages(await reach_of(svc, shop), render)


def new_order_notices(reach: Reach, order: Order, shop: Shop, buyer: User) -> list[Outgoing]:
    """The new-order notice for the owner and each staff member (foldable into a digest)."""
    return members_messages(reach, lambda t: Outgoing(
        0, "sendMessage",
        {"text": merchant_order_text(t, order, shop, buyer), "parse_mode": "HTML",
         "reply_markup": order_desk_buttons(t, order)},
        kind=ORDER_NOTICE, shop_id=shop.id, ref=order.id))


def refund_due(order: Order) -> bool:
    """A paid order that was cancelled: its cancellation wrote a refund due (storage/refunds.py)."""
    return order.status == Status.CANCELLED and order.payment_status == PaymentStatus.PAID


def settle_markup(t: Translator, order_id: int):
    """The owner's button that marks an order's refund as sent back."""
    return keyboard([[button(t.plain("refund.button_settle"), taps.RefundSettled(order_id))]])


def damage_button(t: Translator, order: Order):
    """⚠️ Something arrived damaged (handlers/claims.py)."""
    return button(t.plain("claim.button_damaged", number=order.number), taps.ReportDamage(order.id))


def buyer_status_message(reach: Reach, order: Order, shop: Shop) -> list[Outgoing]:
    """Tell the buyer, in their language, what happened to their order (pure: see Reach)."""
    key = BUYER_STATUS_NOTICES.get(Status(order.status))
    if key is None or not reach.buyer_reachable:
        return []
    assert reach.buyer is not None
    t = reach.t(reach.buyer)
    text = t(key, number=order.number, shop=shop.name, reason=order.cancel_reason or "—")
    tracking = tracking_line(t, order.carrier, order.tracking_number) if order.status == Status.SHIPPED else None
    if tracking:
        text += "\n" + tracking
    if refund_due(order):
        text += "\n" + t("refund.due_buyer", amount=t.money(order.total, order.currency), shop=shop.name)
    first = button(t.plain("myorders.button_received", number=order.number), taps.Received(order.id)) \
        if order.status == Status.SHIPPED else button(t.plain("checkout.button_my_orders"), taps.MyOrders())
    rows = [[first], [button(t.plain("chat.button_ask", number=order.number), taps.AskShop(order.id))]]
    if reach.claims and order.status in (Status.SHIPPED, Status.DELIVERED):
        rows.append([damage_button(t, order)])
    markup = keyboard(rows)
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
        markup = keyboard([[button(t.plain("desk.button_list_them"), taps.OrderRange(shop.id, first, last))]])
        return Outgoing(chat_id, "sendMessage", {"text": text, "parse_mode": "HTML", "reply_markup": markup})

    return render


def restock_renderer(config):
    """For storage.products: the message telling one waiting buyer, in their language, that a
    product (or one variant) is back; the button opens the card (with the variant ticked). Pure:
    it runs inside the transaction that restocked."""

    def render(product: Product, variant_id: int | None, variant_name: str | None, shop_name: str,
               buyer: User) -> Outgoing:
        t = translator_for(buyer, config)
        name = line_name(product.name, variant_name) if variant_name else product.name
        return Outgoing(buyer.id, "sendMessage", {
            "text": t("notice.back_in_stock", name=name, shop=shop_name),
            "parse_mode": "HTML",
            "reply_markup": keyboard([[button(t.plain("notice.button_see_product"), taps.OpenProduct(product.id, 0, variant_id or None))]]),
        })

    return render
