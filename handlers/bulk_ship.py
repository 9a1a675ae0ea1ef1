"""Bulk shipping: the owner or staff send the courier's waybill export (CSV or XLSX) or paste
lines like `1001 SF1234567890`; the bot shows what it understood — the orders it will ship, and
the rows it cannot ship and why — and ships them all on one confirmation. Each buyer is told in
their language through the outbox as a bulk send (after buyers' answers), and every copy of each
order's card follows.

`/ship` (or `/ship` followed by the lines) starts it. The plan waits in the member's stored
conversation, so the confirmation survives a restart and a second tap ships nothing twice.
"""

from __future__ import annotations

from enum import StrEnum
import logging

from telegram import Update
from telegram.error import TelegramError

from core import callbacks as taps
from core.i18n import N_, Translator
from core.orders import IllegalTransition, Status, may_ship
from core.telegram_text import fit_lines
from core.waybills import MAX_FILE_BYTES, Problem, Refused, Waybill, WaybillFileError, Waybills, parse_file, parse_lines
from handlers import desk
from handlers.flows import flow_of_tap
from handlers.common import (
    Actor, Context, actor, button, current_membership, keyboard, message_text, query_of, reply, services, show,
)
from storage.models import Flow, Shop

FLOW_BULK_SHIP = "bulkship"


class BulkShipStep(StrEnum):
    LIST = "input"  # the waybill file or the pasted lines
    CONFIRM = "confirm"  # the plan shown: Ship N orders (a new list replaces it)

READY_SHOWN_CHARS = 1500  # the orders to ship are listed up to this much; the refused rows all
PROBLEMS = {
    Problem.BAD_ORDER_NUMBER: N_("desk.bulk_problem_bad_order_number"),
    Problem.NO_TRACKING: N_("desk.bulk_problem_no_tracking"),
    Problem.BAD_TRACKING: N_("desk.bulk_problem_bad_tracking"),
    Problem.DUPLICATE: N_("desk.bulk_problem_duplicate"),
    Problem.NOT_FOUND: N_("desk.bulk_problem_not_found"),
    Problem.ALREADY_SHIPPED: N_("desk.bulk_problem_already_shipped"),
    Problem.CANCELLED: N_("desk.bulk_problem_cancelled"),
    Problem.AWAITING_PAYMENT: N_("desk.bulk_problem_awaiting_payment"),
}
FILE_PROBLEMS = {
    "no_header": N_("desk.bulk_file_no_header"), "too_many_rows": N_("desk.bulk_file_too_many_rows"),
    "too_big": N_("desk.bulk_file_too_big"), "old_excel": N_("desk.bulk_file_old_excel"),
    "unreadable": N_("desk.bulk_file_unreadable"),
}
log = logging.getLogger(__name__)


async def ship_command(update: Update, context: Context) -> None:
    """/ship: ship many orders at once from a waybill file or pasted lines."""
    who = await actor(update, context)
    membership = await current_membership(who, context)
    if membership is None:
        await reply(update, who.t("catalog.no_shop"),
                    keyboard([[button(who.t.plain("button.open_shop"), taps.OpenShop())]]))
        return
    lines = message_text(update).partition("\n")[2] or message_text(update).partition(" ")[2]
    await services(context).store.flows.start(who.id, FLOW_BULK_SHIP, BulkShipStep.LIST, {"shop": membership.shop.id})
    if lines.strip():
        await _understand(update, context, who, membership.shop, lines=lines)
        return
    await reply(update, who.t("desk.bulk_ask", shop=membership.shop.name))


async def on_input(update: Update, context: Context, who: Actor, flow: Flow) -> None:
    """The file or the pasted lines (a new one replaces a plan not yet confirmed)."""
    store = services(context).store
    membership = await store.shops.membership(who.id, flow.data.get("shop") or 0)
    if membership is None:  # removed from the staff meanwhile
        await store.flows.clear(who.id)
        await reply(update, who.t("common.not_allowed"))
        return
    document = update.effective_message.document if update.effective_message else None
    if document is not None:
        if document.file_size and document.file_size > MAX_FILE_BYTES:
            await reply(update, who.t(FILE_PROBLEMS["too_big"]))
            return
        try:
            data = bytes(await (await context.bot.get_file(document.file_id)).download_as_bytearray())
        except TelegramError as exc:
            log.warning("could not fetch a waybill file: %s", exc)
            await reply(update, who.t(FILE_PROBLEMS["unreadable"]))
            return
        await _understand(update, context, who, membership.shop, data=data, file_name=document.file_name)
        return
    text = message_text(update)
    if not text:
        await reply(update, who.t("desk.bulk_ask", shop=membership.shop.name))
        return
    await _understand(update, context, who, membership.shop, lines=text)


async def _understand(update: Update, context: Context, who: Actor, shop: Shop, *, lines: str | None = None,
                      data: bytes | None = None, file_name: str | None = None) -> None:
    """Read the input, meet it with the shop's orders, show the plan and ask to confirm."""
    t = who.t
    try:
        waybills = parse_lines(lines or "") if data is None else parse_file(data, file_name)
    except WaybillFileError as exc:
        await reply(update, t(FILE_PROBLEMS.get(exc.reason, FILE_PROBLEMS["unreadable"])))
        return
    ready, refused = await _meet_orders(context, shop, waybills)
    store = services(context).store
    if not ready:
        await reply(update, _plan_text(t, shop, ready, refused) + "\n\n" + t("desk.bulk_nothing_to_ship"))
        return
    await store.flows.start(who.id, FLOW_BULK_SHIP, BulkShipStep.CONFIRM, {
        "shop": shop.id, "ship": [[order_id, w.number, w.carrier, w.tracking] for order_id, w in ready]})
    markup = keyboard([[button(t.plain("desk.bulk_button_ship", count=len(ready)), taps.BulkShip(shop.id))],
                       [button(t.plain("desk.bulk_button_cancel"), taps.CancelBulkShip(shop.id))]])
    await reply(update, _plan_text(t, shop, ready, refused), markup)


async def _meet_orders(context: Context, shop: Shop, waybills: Waybills
                       ) -> tuple[list[tuple[int, Waybill]], list[Refused]]:
    """Which rows name an order of this shop that may ship now; the others with the reason."""
    orders = await services(context).store.orders.by_number_list(shop.id, [w.number for w in waybills.ready])
    ready, refused = [], list(waybills.refused)
    for w in waybills.ready:
        order = orders.get(w.number)
        problem = None
        if order is None:
            problem = Problem.NOT_FOUND
        elif order.status in (Status.SHIPPED, Status.DELIVERED):
            problem = Problem.ALREADY_SHIPPED
        elif order.status == Status.CANCELLED:
            problem = Problem.CANCELLED
        elif not may_ship(order.status, order.payment_status):
            problem = Problem.AWAITING_PAYMENT
        if problem is not None:
            refused.append(Refused(w.row, str(w.number), problem))
        elif order is not None:
            ready.append((order.id, w))
    refused.sort(key=lambda r: r.row)
    return ready, refused


def _plan_text(t: Translator, shop: Shop, ready: list[tuple[int, Waybill]], refused: list[Refused]) -> str:
    lines = [t("desk.bulk_plan_title", shop=shop.name, ready=len(ready), refused=len(refused))]
    if ready:
        shown = [t("desk.bulk_ready_line", number=w.number, carrier=w.carrier or "", tracking=w.tracking)
                 for _, w in ready]
        lines += fit_lines(shown, READY_SHOWN_CHARS, lambda n: t("desk.bulk_more", count=n))
    if refused:
        lines.append("")
        lines.append(t("desk.bulk_refused_title", count=len(refused)))
        lines += [t("desk.bulk_refused_line", row=r.row, text=r.text or "—", reason=t.plain(PROBLEMS[r.problem]))
                  for r in refused]
    return "\n".join(lines)


async def on_confirm(update: Update, context: Context) -> None:
    """"Ship N orders": ship each, once; the buyers hear of it as bulk sends."""
    who = await actor(update, context)
    t = who.t
    store = services(context).store
    shop_id = context.tap(taps.BulkShip).shop
    membership = await store.shops.membership(who.id, shop_id)
    if membership is None:
        await query_of(update).answer(t.plain("common.not_allowed"), show_alert=True)
        return
    flow = await flow_of_tap(update, context)  # at the plan (handlers/registry.py), else answered
    if flow is None:
        return
    if flow.data.get("shop") != shop_id:
        await query_of(update).answer(t.plain("desk.bulk_already_done"), show_alert=True)
        return
    await store.flows.clear(who.id)  # before shipping: a second tap finds nothing to ship
    await query_of(update).answer(t.plain("desk.bulk_shipping"))
    svc = services(context)
    shipped, changed_meanwhile = 0, []
    for order_id, number, carrier, tracking in flow.data.get("ship", []):
        order = await store.orders.get(order_id)
        if order is None or order.shop_id != shop_id:
            changed_meanwhile.append(number)
            continue
        try:
            await desk.take_step(svc, who, order, membership.shop, Status.SHIPPED,
                                 carrier=carrier, tracking_number=tracking)
            shipped += 1
        except IllegalTransition:  # shipped, cancelled or unpaid since the plan was shown
            changed_meanwhile.append(number)
    text = t("desk.bulk_done", count=shipped)
    if changed_meanwhile:
        text += "\n" + t("desk.bulk_changed_meanwhile", numbers=", ".join(f"#{n}" for n in changed_meanwhile))
    await show(update, text)


async def on_cancel(update: Update, context: Context) -> None:
    """"Don't ship": forget the plan."""
    who = await actor(update, context)
    await services(context).store.flows.end(who.id, FLOW_BULK_SHIP)
    await query_of(update).answer()
    await show(update, who.t("desk.bulk_cancelled"))
