"""Several orders at once from /orders: "☑ Select" turns the list into check boxes; "Confirm
these" or "Ship these" then takes that step for every order ticked that allows it (the others are
named with the reason). Tracking numbers for many orders come with /ship (handlers/bulk_ship.py);
shipping from here ships without one.

The ticked orders live in the member's stored conversation (a quiet one: any command ends it
without a word), so the list's buttons stay short: each tap toggles one order by id.
"""

from __future__ import annotations

from enum import StrEnum
from telegram import Update

from core import callbacks as taps
from core.orders import IllegalTransition, Status, next_steps
from handlers import desk
from handlers.common import Actor, Context, actor, button, current_membership, keyboard, query_of, services, show
from handlers.flows import outside_flow, flow_of_tap
from handlers.my_orders import status_text
from storage.models import Flow, Shop

FLOW_SELECT = "ordersel"


class SelectStep(StrEnum):
    PICK = "pick"  # ticking orders on the list (a number typed ticks that order)

MAX_SELECTED = 100
ACTIONS = {"conf": Status.CONFIRMED, "ship": Status.SHIPPED}


async def _selection(update: Update, context: Context, who: Actor) -> tuple[Shop, Flow] | None:
    """The member's shop and their selection, or answer the tap as stale and None."""
    membership = await current_membership(who, context)
    if membership is None:
        await query_of(update).answer(who.t.plain("common.stale_button"), show_alert=True)
        return None
    flow = await flow_of_tap(update, context)  # selecting (handlers/registry.py), else answered
    if flow is None:
        return None
    if flow.data.get("shop") != membership.shop.id:
        await query_of(update).answer(who.t.plain("common.stale_button"), show_alert=True)
        return None
    return membership.shop, flow


async def on_select(update: Update, context: Context) -> None:
    """"☑ Select" on the list (a fresh selection), or ◀ ▶ while selecting (the ticks stay)."""
    who = await actor(update, context)
    tap = context.tap(taps.StartSelect)
    code, page = tap.code, tap.page
    membership = await current_membership(who, context)
    if membership is None or code not in desk.FILTERS:
        await query_of(update).answer(who.t.plain("common.stale_button"), show_alert=True)
        return
    store = services(context).store
    flow = await store.flows.get(who.id)
    fresh = tap.fresh is not None or flow is None or flow.name != FLOW_SELECT \
        or flow.data.get("shop") != membership.shop.id
    if fresh or flow is None:
        flow = await store.flows.start(who.id, FLOW_SELECT, SelectStep.PICK, {"shop": membership.shop.id, "ids": []})
    await query_of(update).answer()
    await _render(update, context, who, membership.shop, flow, code, page)


async def on_toggle(update: Update, context: Context) -> None:
    """Tick or untick one order (it must be the shop's)."""
    who = await actor(update, context)
    tap = context.tap(taps.ToggleSelected)
    code, page = tap.code, tap.page
    found = await _selection(update, context, who)
    if found is None:
        return
    shop, flow = found
    order = await services(context).store.orders.get(tap.order)
    if order is None or order.shop_id != shop.id or code not in desk.FILTERS:
        await query_of(update).answer(who.t.plain("common.not_allowed"), show_alert=True)
        return
    ids = list(flow.data.get("ids", []))
    if order.id in ids:
        ids.remove(order.id)
    elif len(ids) >= MAX_SELECTED:
        await query_of(update).answer(who.t.plain("desk.select_full", max=MAX_SELECTED), show_alert=True)
        return
    else:
        ids.append(order.id)
    flow.data["ids"] = ids
    await services(context).store.flows.save(flow)
    await query_of(update).answer()
    await _render(update, context, who, shop, flow, code, page)


async def _render(update: Update, context: Context, who: Actor, shop: Shop, flow: Flow, code: str, page: int) -> None:
    t = who.t
    orders, total = await services(context).store.orders.of_shop(shop.id, desk.FILTERS[code], page * desk.PAGE,
                                                                 desk.PAGE)
    ticked = set(flow.data.get("ids", []))
    rows = [[button(("☑ " if o.id in ticked else "☐ ") + row[0]["text"], taps.ToggleSelected(code, page, o.id))]
            for o, row in zip(orders, desk._order_buttons(t, orders, code))]
    nav = []
    if page > 0:
        nav.append(button("◀", taps.StartSelect(code, page - 1)))
    if (page + 1) * desk.PAGE < total:
        nav.append(button("▶", taps.StartSelect(code, page + 1)))
    rows.append(nav)
    if ticked:
        rows.append([button(t.plain("desk.select_confirm", count=len(ticked)), taps.ApplySelected(code, "conf")),
                     button(t.plain("desk.select_ship", count=len(ticked)), taps.ApplySelected(code, "ship"))])
    rows.append([button(t.plain("desk.select_done"), taps.LeaveSelect(code, page))])
    text = t("desk.select_title", shop=shop.name, filter=t.plain(desk.FILTER_NAMES[code]), count=len(ticked))
    await show(update, text, keyboard(rows))


async def on_apply(update: Update, context: Context) -> None:
    """"Confirm these" / "Ship these": the step for each ticked order that allows it, once."""
    who = await actor(update, context)
    t = who.t
    tap = context.tap(taps.ApplySelected)
    code, wanted = tap.code, ACTIONS.get(tap.what)
    found = await _selection(update, context, who)
    if found is None:
        return
    shop, flow = found
    if wanted is None or code not in desk.FILTERS:
        await query_of(update).answer(t.plain("common.stale_button"), show_alert=True)
        return
    svc = services(context)
    await svc.store.flows.clear(who.id)  # before the steps: a second tap finds nothing ticked
    await query_of(update).answer()
    done, refused = [], []
    for order_id in flow.data.get("ids", []):
        order = await svc.store.orders.get(order_id)
        if order is None or order.shop_id != shop.id:
            continue
        if wanted not in next_steps(order.status, order.payment_status):
            refused.append(desk.refusal(t, order, wanted))
            continue
        try:
            changed = await desk.take_step(svc, who, order, shop, wanted)
            done.append(f"#{changed.number}")
        except IllegalTransition as exc:
            refused.append(desk.refusal(t, order, wanted, exc))
    lines = [t.plural("desk.select_result", len(done), status=status_text(t, wanted.value),
               numbers=", ".join(done) or "—")]
    lines += [t("desk.select_refused_line", reason=reason) for reason in refused]
    await show(update, "\n".join(lines), keyboard([[button(t.plain("desk.button_back_to_list"), taps.OrderList(code, 0))]]))


async def on_leave(update: Update, context: Context) -> None:
    """"Done selecting": the ticks go, the plain list comes back."""
    who = await actor(update, context)
    tap = context.tap(taps.LeaveSelect)
    code, page = tap.code, tap.page
    membership = await current_membership(who, context)
    await services(context).store.flows.end(who.id, FLOW_SELECT)
    if membership is None or code not in desk.FILTERS:
        await query_of(update).answer(who.t.plain("common.stale_button"), show_alert=True)
        return
    await query_of(update).answer()
    await desk.show_list(update, context, who, membership.shop, code, page)


async def on_typed(update: Update, context: Context, who: Actor, flow: Flow) -> None:
    """Typing while ticking orders: the selection stays, the message is handled as outside it."""
    await outside_flow(update, context, who)
