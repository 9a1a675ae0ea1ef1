"""The order card a shop member reads (owner or staff): one rendering for the new-order notice,
a card opened from /orders, and every later edit of them.

Each message showing a card is remembered (storage: order_cards), so that when the order changes,
every copy in every member's chat is edited to its new title and to the buttons it allows now: an
old copy never offers a step the order no longer allows.
"""

from __future__ import annotations

from collections.abc import Sequence

from core import callbacks as taps
from core.i18n import N_, Translator
from core.orders import Status
from core.telegram_text import TEXT_LIMIT, pages, visible_length
from handlers.common import Services, button, keyboard
from handlers.my_orders import status_text
from handlers.notices import (
    Reach, merchant_order_text, order_desk_buttons, order_item_lines, reach_of, refund_due, tracking_line,
)
from storage.models import Shop, User
from storage.orders import Order
from storage.outbox import Outgoing
from storage.refunds import Refund

STATUS_TITLES = {Status.CONFIRMED: N_("desk.title_confirmed"), Status.SHIPPED: N_("desk.title_shipped"),
                 Status.DELIVERED: N_("desk.title_delivered"), Status.CANCELLED: N_("desk.title_cancelled")}


def order_view(t: Translator, order: Order, shop: Shop, buyer: User | None, page: int = 0,
               back: str = "new", refunds: Sequence[Refund] | None = None) -> tuple[str, list]:
    """The card's text (its title follows the status: "New order" only while it is new) and the
    ◀ ▶ buttons of its item pages. An order too long for one message (Telegram takes 4,096
    characters) shows its lines a page at a time."""
    key = STATUS_TITLES.get(Status(order.status))
    title = t(key, number=order.number, shop=shop.name) if key else None
    status = [t("desk.status_line", status=status_text(t, order.status),
                time=t.datetime(order.created_at, shop.timezone))]
    tracking = tracking_line(t, order.carrier, order.tracking_number)
    if tracking:
        status.append(tracking)
    if order.cancel_reason:
        status.append(t("desk.cancel_reason", reason=order.cancel_reason))
    # The refunds ledger: what is owed back, and whether it was sent. A copy refreshed with the
    # change that made the refund due cannot read the ledger yet: it says what the order implies.
    owed = [(r.amount, r.currency, r.settled) for r in refunds] if refunds is not None else \
        ([(order.total, order.currency, False)] if refund_due(order) else [])
    for amount, currency, settled in owed:
        status.append(t("refund.line", amount=t.money(amount, currency),
                        state=t.plain("refund.state_settled" if settled else "refund.state_open")))
    lines = order_item_lines(t, order)
    page_line = t("desk.items_page", first=len(lines), last=len(lines), total=len(lines))  # the longest it gets
    overhead = visible_length(merchant_order_text(t, order, shop, buyer, status_lines=status, items=[page_line],
                                                  title=title))
    item_pages = pages(lines, TEXT_LIMIT - overhead - 1)
    page = min(max(page, 0), len(item_pages) - 1)
    shown = list(item_pages[page])
    nav = []
    if len(item_pages) > 1:
        first = sum(len(p) for p in item_pages[:page]) + 1
        shown.append(t("desk.items_page", first=first, last=first + len(shown) - 1, total=len(lines)))
        if page > 0:
            nav.append(button("◀", taps.ViewOrder(order.id, back, page - 1)))
        if page + 1 < len(item_pages):
            nav.append(button("▶", taps.ViewOrder(order.id, back, page + 1)))
    return merchant_order_text(t, order, shop, buyer, status_lines=status, items=shown, title=title), nav


def card(t: Translator, order: Order, shop: Shop, buyer: User | None, back: str = "new",
         page: int = 0, refunds: Sequence[Refund] | None = None) -> tuple[str, dict]:
    """Text and buttons of the card (`back`: the list its "Back to orders" button opens)."""
    text, nav = order_view(t, order, shop, buyer, page, back, refunds)
    markup = order_desk_buttons(t, order, back=back)
    if nav:
        markup = keyboard([nav, *markup["inline_keyboard"]])
    return text, markup


def card_edits(reach: Reach, order: Order, shop: Shop, skip: tuple[int, int] | None = None) -> list[Outgoing]:
    """An edit for every remembered copy of the order's card in a reachable member's chat, each in
    that member's language (`skip`: the copy the acting member's own answer edits). Pure: the
    reach (members, buyer, the card copies) is gathered before the change (notices.Reach)."""
    members = {member.id: member for member in reach.members}
    edits = []
    for chat_id, message_id in reach.cards:
        member = members.get(chat_id)
        if (chat_id, message_id) == skip or member is None:
            continue
        text, markup = card(reach.t(member), order, shop, reach.buyer)
        edits.append(Outgoing(chat_id, "editMessageText", {
            "message_id": message_id, "text": text, "parse_mode": "HTML",
            "link_preview_options": {"is_disabled": True}, "reply_markup": markup}))
    return edits


async def copies_to_refresh(svc: Services, order: Order, shop: Shop,
                            skip: tuple[int, int] | None = None) -> list[Outgoing]:
    """card_edits outside any change (gathers the reach itself)."""
    return card_edits(await reach_of(svc, shop, buyer_id=order.buyer_id, order_id=order.id), order, shop, skip)


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
        if order is not None and (order.status != Status.PLACED or order.updated_at > order.created_at):
            shop = await svc.store.shops.require(order.shop_id)
            for edit in await copies_to_refresh(svc, order, shop):
                if (edit.chat_id, edit.params["message_id"]) == copy:
                    await svc.store.outbox.send_later(edit)

    return record
