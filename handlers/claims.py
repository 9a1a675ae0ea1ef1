"""Damaged-goods claims (坏果包赔): the shop's policy, the buyer's claim, the shop's decision.

The owner sets the policy with /claims (on or off, the window, what is paid back, a short text
the card and the receipt show). A buyer claims from /myorders, the shipped or delivered notice or
the box's QR: picks the line and how many units arrived damaged, sends 1-5 photos and a note.
The owner and staff get it at once (the photos as an album, then the claim with Approve /
Other amount / Reject); every decision tells the buyer in their language, and an approved claim
is a refund due in the ledger (the owner taps "Refund sent" once the money went back).
Only the order's buyer claims and only the shop's owner and staff decide: every tap re-checks.
"""

from __future__ import annotations

from enum import StrEnum
import time
from dataclasses import replace

from telegram import Update

from core import callbacks as taps
from core.claims import MAX_PHOTOS, PERCENT, PER_UNIT, ClaimRefused, Policy, amount_due, check_window
from core.contact import ContactError, check_note
from core.i18n import LANGUAGES, N_, Translator, translator
from core.money import PriceError, parse_price
from core.payments import Method
from core.text import shorten
from handlers.flows import flow_of_tap
from handlers.common import (
    Actor, Context, actor, button, keyboard, largest_photo, message_text, present, query_of, reply, services,
    with_notice,
)
from handlers.guards import CURRENT, _Current, order_for_member, owner_step_of_tap, shop_member
from handlers.my_orders import own_order_of_tap
from handlers.notices import Reach, buyer_messages, members_messages, reach_of, settle_markup
from storage.claims import Claim, ClaimDecided, ClaimOpen
from storage.models import Flow, Membership, Shop
from storage.orders import Order
from storage.outbox import Outgoing, Priority

FLOW, SHOP_FLOW, POLICY_FLOW = "claim", "claim_decision", "claim_policy"


class ClaimStep(StrEnum):
    PHOTOS = "photos"  # the buyer's photos of the damage (up to five) and a note, then Send


class DecisionStep(StrEnum):
    AMOUNT = "amount"  # the owner pays back another amount
    REASON = "reason"  # the owner's reason to reject


class PolicyStep(StrEnum):
    WINDOW = "window"
    PAYBACK = "payback"
    TEXT = "text"


REFUSALS = {"off": N_("claim.refused_off"), "not_shipped": N_("claim.refused_not_shipped"),
            "window": N_("claim.refused_window"), "units": N_("claim.refused_units"),
            "below_threshold": N_("claim.refused_below_threshold")}
UNIT_BUTTONS = 8
# "per unit" as typed for the payback, in either language ("unit", "按件").
UNIT_KEYWORDS = frozenset(translator(language).plain("claim.keyword_unit").lower() for language in LANGUAGES) | {"unit"}
TEXT_MAX = 120


# ---------------------------------------------------------------- the policy (/claims)

def policy_text(t: Translator, shop: Shop, policy: Policy) -> str:
    lines = [t("claim.policy_title", shop=shop.name)]
    if not policy.enabled:
        return "\n".join(lines + [t("claim.policy_off")])
    lines.append(t("claim.policy_window", hours=policy.hours_after_delivery, days=policy.days_after_shipping))
    lines.append(t("claim.policy_per_unit") if policy.mode == PER_UNIT else
                 t("claim.policy_percent", percent=policy.percent, threshold=policy.threshold))
    if policy.text:
        lines.append(t("claim.policy_text", text=policy.text))
    return "\n".join(lines)


def policy_markup(t: Translator, shop: Shop, policy: Policy):
    s = shop.id
    toggle = button(t.plain("claim.button_off" if policy.enabled else "claim.button_on"), taps.ClaimsOnOff(s, 0 if policy.enabled else 1))
    return keyboard([[toggle],
                     [button(t.plain("claim.button_window"), taps.AskClaimPolicy(s, PolicyStep.WINDOW)),
                      button(t.plain("claim.button_payback"), taps.AskClaimPolicy(s, PolicyStep.PAYBACK))],
                     [button(t.plain("claim.button_text"), taps.AskClaimPolicy(s, PolicyStep.TEXT))]])


POLICY_PROMPTS: dict[str, str] = {PolicyStep.WINDOW: N_("claim.ask_window"), PolicyStep.PAYBACK: N_("claim.ask_payback"),
                  PolicyStep.TEXT: N_("claim.ask_text")}


async def _owned(update: Update, context: Context, shop_id: int | None | _Current = CURRENT) -> Membership | None:
    return await shop_member(update, context, shop_id, owner=True, not_owner=N_("claim.owner_only"))


async def show_policy(update: Update, context: Context, who: Actor, shop: Shop, notice: str | None = None) -> None:
    policy = await services(context).store.claims.policy(shop.id)
    text = policy_text(who.t, shop, policy)
    await present(update, with_notice(notice, text), policy_markup(who.t, shop, policy))


async def claims_command(update: Update, context: Context) -> None:
    who = await actor(update, context)
    membership = await _owned(update, context)
    if membership is not None:
        await show_policy(update, context, who, membership.shop)


async def on_policy_toggle(update: Update, context: Context) -> None:
    who = await actor(update, context)
    tap = context.tap(taps.ClaimsOnOff)
    wanted = tap.on
    membership = await _owned(update, context, tap.shop)
    if membership is None:
        return
    await query_of(update).answer()
    store = services(context).store
    policy = replace(await store.claims.policy(membership.shop.id), enabled=bool(wanted))
    await store.claims.set_policy(membership.shop.id, policy)
    await show_policy(update, context, who, membership.shop,
                      who.t("claim.turned_on" if wanted else "claim.turned_off"))


async def on_policy_ask(update: Update, context: Context) -> None:
    tapped = await owner_step_of_tap(update, context, POLICY_PROMPTS, not_owner=N_("claim.owner_only"))
    if tapped is None:
        return
    membership, step = tapped
    who = await actor(update, context)
    await services(context).store.flows.start(who.id, POLICY_FLOW, step, {"shop": membership.shop.id})
    await reply(update, who.t(POLICY_PROMPTS[step]))


async def on_policy_input(update: Update, context: Context, who: Actor, flow: Flow) -> None:
    """"48 7" (hours after delivery, days after shipping), "unit" or "50% 3" (half of the damaged
    units' value from 3 units), or the policy text."""
    store = services(context).store
    membership = await _owned(update, context, flow.data.get("shop"))
    if membership is None:
        await store.flows.clear(who.id)
        return
    text = " ".join(message_text(update).split())
    policy = await store.claims.policy(membership.shop.id)
    try:
        policy = _parse_policy(policy, flow.step, text)
    except ValueError:
        await reply(update, who.t("claim.policy_invalid", text=shorten(text, TEXT_MAX)) + "\n"
                    + who.t(POLICY_PROMPTS[flow.step]))
        return
    await store.claims.set_policy(membership.shop.id, policy)
    await store.flows.clear(who.id)
    await show_policy(update, context, who, membership.shop, who.t("claim.policy_saved"))


def _parse_policy(policy: Policy, step: str, text: str) -> Policy:
    numbers = [int(n) for n in text.replace("%", " ").split() if n.isdigit()]
    if step == PolicyStep.WINDOW:
        if len(numbers) != 2 or not (1 <= numbers[0] <= 24 * 30 and 1 <= numbers[1] <= 60):
            raise ValueError(text)
        return replace(policy, hours_after_delivery=numbers[0], days_after_shipping=numbers[1])
    if step == PolicyStep.PAYBACK:
        if text.lower() in UNIT_KEYWORDS:
            return replace(policy, mode=PER_UNIT)
        if len(numbers) == 2 and 1 <= numbers[0] <= 100 and numbers[1] >= 1:
            return replace(policy, mode=PERCENT, percent=numbers[0], threshold=numbers[1])
        raise ValueError(text)
    if not text or len(text) > TEXT_MAX:
        raise ValueError(text)
    return replace(policy, text=text)


# ---------------------------------------------------------------- the buyer's claim

async def on_damage(update: Update, context: Context) -> None:
    """⚠️ Something arrived damaged: check the policy and window, then which line."""
    who = await actor(update, context)
    order = await own_order_of_tap(update, context)
    if order is None:
        return
    if not await _claimable(update, context, who, order):
        return
    await query_of(update).answer()
    if len(order.items) == 1:
        await _ask_units(update, who, order, 0)
        return
    rows = [[button(shorten(item.name, 40), taps.ClaimLine(order.id, i))] for i, item in enumerate(order.items)]
    await reply(update, who.t("claim.ask_line", number=order.number), keyboard(rows))


async def _claimable(update: Update, context: Context, who: Actor, order: Order) -> bool:
    """Whether a claim may be made on the order now; otherwise the reason is said."""
    store = services(context).store
    policy = await store.claims.policy(order.shop_id)
    try:
        shipped_at, delivered_at = await store.claims.moments(order.id)
        check_window(policy, time.time(), shipped_at, delivered_at)
    except ClaimRefused as refused:
        await query_of(update).answer(who.t.plain(REFUSALS[refused.reason], hours=policy.hours_after_delivery,
                                                       days=policy.days_after_shipping), show_alert=True)
        return False
    return True


async def on_line(update: Update, context: Context) -> None:
    who = await actor(update, context)
    order = await own_order_of_tap(update, context)
    index = context.tap(taps.ClaimLine).line
    if order is None:
        return
    if index >= len(order.items):
        await query_of(update).answer(who.t.plain("common.stale_button"))
        return
    if not await _claimable(update, context, who, order):
        return
    await query_of(update).answer()
    await _ask_units(update, who, order, index)


async def _ask_units(update: Update, who: Actor, order: Order, index: int) -> None:
    item = order.items[index]
    picks = [button(str(n), taps.ClaimUnits(order.id, index, n)) for n in range(1, min(item.quantity, UNIT_BUTTONS) + 1)]
    rows = [picks[i:i + 4] for i in range(0, len(picks), 4)]
    if item.quantity > UNIT_BUTTONS:
        rows.append([button(who.t.plain("claim.button_all", count=item.quantity), taps.ClaimUnits(order.id, index, item.quantity))])
    await reply(update, who.t("claim.ask_units", name=item.name, quantity=item.quantity), keyboard(rows))


async def on_units(update: Update, context: Context) -> None:
    """How many arrived damaged: checked against what was bought; then the photos."""
    who = await actor(update, context)
    order = await own_order_of_tap(update, context)
    if order is None:
        return
    tap = context.tap(taps.ClaimUnits)
    index, units = tap.line, tap.units
    if index >= len(order.items):
        await query_of(update).answer(who.t.plain("common.stale_button"))
        return
    if not await _claimable(update, context, who, order):
        return
    policy = await services(context).store.claims.policy(order.shop_id)
    item = order.items[index]
    try:
        amount_due(policy, item.unit_price, item.quantity, units)
    except ClaimRefused as refused:
        await query_of(update).answer(who.t.plain(REFUSALS[refused.reason], threshold=policy.threshold,
                                                       quantity=item.quantity), show_alert=True)
        return
    await query_of(update).answer()
    await services(context).store.flows.start(who.id, FLOW, ClaimStep.PHOTOS,
                                              {"order": order.id, "line": index, "units": units, "photos": []})
    await reply(update, who.t("claim.ask_photos", max=MAX_PHOTOS),
                keyboard([[button(who.t.plain("claim.button_send"), taps.SendClaim(order.id)),
                           button(who.t.plain("claim.button_cancel"), taps.DropClaim(order.id))]]))


async def on_input(update: Update, context: Context, who: Actor, flow: Flow) -> None:
    """A photo of the damage (up to five), or the note."""
    store = services(context).store
    data = dict(flow.data)
    photo = largest_photo(update)
    if photo is not None:
        if len(data["photos"]) >= MAX_PHOTOS:
            await reply(update, who.t("claim.too_many_photos", max=MAX_PHOTOS))
            return
        data["photos"] = [*data["photos"], photo]
        caption = message_text(update)
        if caption:
            data["note"] = caption
        await store.flows.save(Flow(flow.user_id, FLOW, ClaimStep.PHOTOS, data))
        await reply(update, who.t("claim.photo_noted", count=len(data["photos"]), max=MAX_PHOTOS),
                    keyboard([[button(who.t.plain("claim.button_send"), taps.SendClaim(data["order"]))]]))
        return
    try:
        data["note"] = check_note(message_text(update))
    except ContactError:
        await reply(update, who.t("claim.note_invalid"))
        return
    await store.flows.save(Flow(flow.user_id, FLOW, ClaimStep.PHOTOS, data))
    await reply(update, who.t("claim.note_noted"),
                keyboard([[button(who.t.plain("claim.button_send"), taps.SendClaim(data["order"]))]]))


async def on_cancel(update: Update, context: Context) -> None:
    who = await actor(update, context)
    await services(context).store.flows.end(who.id, FLOW)
    await query_of(update).answer()
    await reply(update, who.t("claim.cancelled"))


async def on_send(update: Update, context: Context) -> None:
    """✅ Send claim: filed, and the owner and staff get it at once."""
    who = await actor(update, context)
    order = await own_order_of_tap(update, context)
    if order is None:
        return
    svc = services(context)
    store = svc.store
    flow = await flow_of_tap(update, context)  # gathering photos (handlers/registry.py), else answered
    if flow is None:
        return
    if flow.data.get("order") != order.id:
        await query_of(update).answer(who.t.plain("common.stale_button"), show_alert=True)
        return
    if not flow.data.get("photos"):
        await query_of(update).answer(who.t.plain("claim.need_photo"), show_alert=True)
        return
    if not await _claimable(update, context, who, order):
        return
    shop = await store.shops.require(order.shop_id)
    assert shop is not None
    policy = await store.claims.policy(shop.id)
    item = order.items[flow.data["line"]]
    try:  # the policy may have changed since the units were picked
        amount = amount_due(policy, item.unit_price, item.quantity, flow.data["units"])
    except ClaimRefused as refused:
        await query_of(update).answer(who.t.plain(REFUSALS[refused.reason], threshold=policy.threshold,
                                                       quantity=item.quantity), show_alert=True)
        return
    reach = await reach_of(svc, shop, buyer_id=who.id)
    try:
        claim = await store.claims.open(
            order_id=order.id, shop_id=shop.id, buyer_id=who.id, product_id=item.product_id,
            variant_id=item.variant_id, line_name=item.name, units=flow.data["units"], amount=amount,
            currency=order.currency, photos=flow.data["photos"], note=flow.data.get("note"),
            messages=lambda c: claim_notices(reach, c, order, shop))
    except ClaimOpen:
        await query_of(update).answer(who.t.plain("claim.already_open"), show_alert=True)
        return
    await store.flows.clear(who.id)
    await query_of(update).answer()
    await reply(update, who.t("claim.filed", number=order.number, shop=shop.name,
                              amount=who.t.money(claim.amount, claim.currency)))


def claim_notices(reach: Reach, claim: Claim, order: Order, shop: Shop) -> list[Outgoing]:
    """To the owner and each staff member: the photos as an album, then the claim to decide (pure)."""
    def album(t: Translator) -> Outgoing:
        media = [{"type": "photo", "media": p} for p in claim.photos]
        media[0] = {**media[0], "caption": t.plain("claim.album_caption", number=order.number)}
        return Outgoing(0, "sendMediaGroup", {"media": media})

    def notice(t: Translator) -> dict:
        text = t("claim.notice", number=order.number, name=claim.line_name, units=claim.units,
                 amount=t.money(claim.amount, claim.currency), recipient=order.recipient)
        if claim.note:
            text += "\n" + t("claim.notice_note", note=claim.note)
        return {"text": text, "parse_mode": "HTML", "reply_markup": decision_markup(t, claim)}

    out = members_messages(reach, album) + members_messages(reach, notice)
    # each member's album before their notice
    return sorted(out, key=lambda m: (m.chat_id, m.method != "sendMediaGroup"))


def decision_markup(t: Translator, claim: Claim):
    amount = t.money(claim.amount, claim.currency)
    return keyboard([[button(t.plain("claim.button_approve", amount=amount), taps.ApproveClaim(claim.id))],
                     [button(t.plain("claim.button_other_amount"), taps.ClaimOtherAmount(claim.id)),
                      button(t.plain("claim.button_reject"), taps.RejectClaim(claim.id))]])


# ---------------------------------------------------------------- the shop decides

async def _claim_for_member(update: Update, context: Context, claim_id: int | None) -> tuple[Claim, Order, Shop] | None:
    """The claim a button names, if the user is the owner or staff of its order's shop."""
    store = services(context).store
    claim = await store.claims.get(claim_id) if claim_id else None
    found = await order_for_member(update, context, claim.order_id if claim else None)
    if claim is None or found is None:
        return None
    order, membership = found
    return claim, order, membership.shop


async def on_approve(update: Update, context: Context) -> None:
    who = await actor(update, context)
    found = await _claim_for_member(update, context, context.tap(taps.OnClaim).claim)
    if found is not None:
        claim, order, shop = found
        await _decide(update, context, who, claim, order, shop, approve=True, amount=claim.amount, reason=None)


async def on_ask_amount(update: Update, context: Context) -> None:
    await _ask_decision(update, context, DecisionStep.AMOUNT, N_("claim.ask_amount"))


async def on_reject(update: Update, context: Context) -> None:
    await _ask_decision(update, context, DecisionStep.REASON, N_("claim.ask_reason"))


async def _ask_decision(update: Update, context: Context, step: DecisionStep, prompt: str) -> None:
    who = await actor(update, context)
    found = await _claim_for_member(update, context, context.tap(taps.OnClaim).claim)
    if found is None:
        return
    claim, order, shop = found
    if claim.status != "open":
        await query_of(update).answer(who.t.plain("claim.already_decided"), show_alert=True)
        return
    await query_of(update).answer()
    await services(context).store.flows.start(who.id, SHOP_FLOW, step, {"claim": claim.id})
    await reply(update, who.t(prompt, number=order.number, amount=who.t.money(claim.amount, claim.currency)))


async def _decision_of(update: Update, context: Context, who: Actor, flow: Flow) -> tuple[Claim, Order, Shop] | None:
    """The claim being decided, its order and the shop (None when it is gone or the member no
    longer may: the conversation ends)."""
    store = services(context).store
    claim = await store.claims.get(flow.data.get("claim") or 0)
    found = await order_for_member(update, context, claim.order_id if claim else None)
    if claim is None or found is None:
        await store.flows.clear(who.id)
        return None
    order, membership = found
    return claim, order, membership.shop


async def on_decision_amount(update: Update, context: Context, who: Actor, flow: Flow) -> None:
    """Another amount to pay back than the policy's."""
    found = await _decision_of(update, context, who, flow)
    if found is None:
        return
    claim, order, shop = found
    text = message_text(update)
    try:
        amount = parse_price(text, claim.currency)
    except PriceError:
        await reply(update, who.t("claim.amount_invalid", text=shorten(text, TEXT_MAX)))
        return
    if amount > order.goods:
        await reply(update, who.t("claim.amount_too_high", amount=who.t.money(order.goods, order.currency)))
        return
    await services(context).store.flows.clear(who.id)
    await _decide(update, context, who, claim, order, shop, approve=True, amount=amount, reason=None)


async def on_decision_reason(update: Update, context: Context, who: Actor, flow: Flow) -> None:
    """Why the claim is rejected (the buyer reads it)."""
    found = await _decision_of(update, context, who, flow)
    if found is None:
        return
    claim, order, shop = found
    try:
        reason = check_note(message_text(update))
    except ContactError:
        await reply(update, who.t("claim.reason_invalid"))
        return
    await services(context).store.flows.clear(who.id)
    await _decide(update, context, who, claim, order, shop, approve=False, amount=None, reason=reason)


async def _decide(update: Update, context: Context, who: Actor, claim: Claim, order: Order, shop: Shop, *,
                  approve: bool, amount: int | None, reason: str | None) -> None:
    svc = services(context)
    reach = await reach_of(svc, shop, buyer_id=claim.buyer_id)
    card_paid = order.payment_method == Method.CARD

    def messages(decided: Claim) -> list[Outgoing]:
        def render(t: Translator) -> str:
            if not approve:
                return t("claim.rejected_buyer", number=order.number, shop=shop.name, reason=reason or "—")
            key = "claim.approved_buyer_card" if card_paid else "claim.approved_buyer"
            return t(key, number=order.number, shop=shop.name, amount=t.money(amount or 0, decided.currency))
        return [replace(m, priority=Priority.ANSWER) for m in buyer_messages(reach, render)]

    try:
        await svc.store.claims.decide(claim.id, approve=approve, amount=amount, reason=reason, by_user=who.id,
                                      messages=messages)
    except ClaimDecided:
        if update.callback_query:
            await query_of(update).answer(who.t.plain("claim.already_decided"), show_alert=True)
        else:
            await reply(update, who.t("claim.already_decided"))
        return
    if update.callback_query:
        await query_of(update).answer()
    t = who.t
    if approve:
        text = t("claim.approved_shop_card" if card_paid else "claim.approved_shop", number=order.number,
                 amount=t.money(amount or 0, claim.currency))
        refunds = await svc.store.refunds.of_order(order.id)
        markup = settle_markup(t, order.id) if refunds and not card_paid else None
        await reply(update, text, markup)
    else:
        await reply(update, t("claim.rejected_shop", number=order.number))
