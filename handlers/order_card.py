"""The order card a shop member reads (owner or staff): one rendering for the new-order notice,
a card opened from /orders, and every later edit of them.

Each message showing a card is remembered (storage: order_cards), so that when the order changes,
every copy in every member's chat is edited to its new title and to the buttons it allows now: an
old copy never offers a step the order no longer allows.
"""

from __future__ import annotations

from core.i18n import N_, Translator
from core.orders import Status
from handlers.common import Services, translator_for
from handlers.my_orders import status_text
from handlers.notices import merchant_order_text, order_desk_buttons, tracking_line
from storage.models import Shop, User
from storage.orders import Order
from storage.outbox import Outgoing

STATUS_TITLES = {Status.CONFIRMED: N_("desk.title_confirmed"), Status.SHIPPED: N_("desk.title_shipped"),
                 Status.DELIVERED: N_("desk.title_delivered"), Status.CANCELLED: N_("desk.title_cancelled")}


def order_view(t: Translator, order: Order, shop: Shop, buyer: User | None) -> str:
    """The card's text: its title follows the status ("New order" only while it is new)."""
    key = STATUS_TITLES.get(Status(order.status))
    title = t(key, number=order.number, shop=shop.name) if key else None
    text = merchant_order_text(t, order, shop, buyer, title=title)
    text += "\n\n" + t("desk.status_line", status=status_text(t, order.status),
                       time=t.datetime(order.created_at, shop.timezone))
    tracking = tracking_line(t, order.carrier, order.tracking_number)
    if tracking:
        text += "\n" + tracking
    if order.cancel_reason:
        text += "\n" + t("desk.cancel_reason", reason=order.cancel_reason)
    return text


def card(t: Translator, order: Order, shop: Shop, buyer: User | None, back: str = "new") -> tuple[str, dict]:
    """Text and buttons of the card (`back`: the list its "Back to orders" button opens)."""
    return order_view(t, order, shop, buyer), order_desk_buttons(t, order, back=back)


async def copies_to_refresh(svc: Services, order: Order, shop: Shop,
                            skip: tuple[int, int] | None = None) -> list[Outgoing]:
    """An edit for every remembered copy of the order's card in a current member's chat, each in
    that member's language (`skip`: the copy the acting member's own answer edits)."""
    members = {member_id for member_id, _ in await svc.store.shops.members(shop.id)}
    buyer = await svc.store.users.get(order.buyer_id)
    edits = []
    for chat_id, message_id in await svc.store.orders.cards(order.id):
        if (chat_id, message_id) == skip or chat_id not in members:
            continue
        member = await svc.store.users.get(chat_id)
        if member is None or member.blocked_at:
            continue
        text, markup = card(translator_for(member, svc.config), order, shop, buyer)
        edits.append(Outgoing(chat_id, "editMessageText", {
            "message_id": message_id, "text": text, "parse_mode": "HTML",
            "link_preview_options": {"is_disabled": True}, "reply_markup": markup}))
    return edits


def card_recorder(svc: Services):
    """For the outbox sender: remember the message a new-order notice became (it is a card)."""

    async def record(message, result) -> None:
        if message.ref is None or not isinstance(result, dict) or "message_id" not in result:
            return
        copy = (message.chat_id, result["message_id"])
        await svc.store.orders.remember_card(message.ref, *copy)
        # A notice that waited in the outbox (Telegram down, a 429) shows the order as it was
        # placed; if it has moved on since, bring this copy up to date at once.
        order = await svc.store.orders.get(message.ref)
        shop = await svc.store.shops.get(order.shop_id) if order else None
        moved_on = order is not None and (order.status != Status.PLACED or order.updated_at > order.created_at)
        if moved_on and shop is not None:
            for edit in await copies_to_refresh(svc, order, shop):
                if (edit.chat_id, edit.params["message_id"]) == copy:
                    await svc.store.outbox.send_later(edit)

    return record
