"""/shipping: the shop owner's shipping rules, set in chat.

The rules in plain words, then buttons: three presets a farm starts from, the default fee, free
shipping over an amount, a fee per extra unit and per kg, and fees or "not served" per region,
typed in one line ("新疆 西藏 20", "港澳台 不发货", "海南 默认", "abroad 80"). Every action
re-checks that the user owns the shop the button names (callback data is never trusted).
Placed orders keep the fee they were charged: changing the rules changes only new orders.
"""

from __future__ import annotations

from enum import StrEnum
from dataclasses import replace

from telegram import Update

from core import callbacks as taps
from core.contact import phone_region
from core.i18n import N_, Translator
from core.regions import region_name
from core.shipping import (
    ABROAD, PRESETS, Rules, ShippingInputError, parse_fee, parse_region_change, parse_threshold, preset,
)
from core.text import shorten
from handlers.common import (
    Actor, Context, actor, button, keyboard, message_text, present, query_of, reply, services, with_notice,
)
from handlers.guards import CURRENT, _Current, owner_step_of_tap, shop_member
from storage.models import Flow, Membership, Shop

FLOW = "shipping"


class ShippingStep(StrEnum):
    """Which rule the owner is typing."""

    DEFAULT = "default"
    FREE = "free"
    UNIT = "unit"
    KG = "kg"
    REGIONS = "regions"


PROMPTS: dict[str, str] = {ShippingStep.DEFAULT: N_("shipping.ask_default"), ShippingStep.FREE: N_("shipping.ask_free"),
           ShippingStep.UNIT: N_("shipping.ask_unit"), ShippingStep.KG: N_("shipping.ask_kg"), ShippingStep.REGIONS: N_("shipping.ask_regions")}
PRESET_BUTTONS = {"remote_not_served": N_("shipping.preset_remote_not_served"),
                  "flat_remote_more": N_("shipping.preset_flat_remote_more"),
                  "free_home": N_("shipping.preset_free_home")}
PROBLEMS = {"fee": N_("shipping.fee_invalid"), "regions": N_("shipping.region_unknown"),
            "rule": N_("shipping.rule_invalid"), "empty": N_("shipping.rule_invalid")}
INPUT_MAX = 80


def home_of(shop: Shop) -> str:
    """The shop's own country: the one its currency belongs to (core.contact.phone_region)."""
    return phone_region(shop.currency)


def place_name(t: Translator, region: str) -> str:
    return t.plain("shipping.abroad") if region == ABROAD else region_name(region, t.language)


def rules_text(t: Translator, shop: Shop, rules: Rules) -> str:
    """The rules in plain words, as the merchant and a curious buyer would say them."""
    money = lambda amount: t.money(amount, shop.currency)  # noqa: E731
    lines = [t("shipping.title", shop=shop.name)]
    if not rules.configured:
        return "\n".join(lines + [t("shipping.none")])
    lines.append(t("shipping.default", fee=money(rules.default_fee)) if rules.default_fee
                 else t("shipping.default_free"))
    if rules.free_over is not None:
        lines.append(t("shipping.free_over", amount=money(rules.free_over)))
    if rules.per_extra_unit:
        lines.append(t("shipping.per_unit", fee=money(rules.per_extra_unit)))
    if rules.per_kg:
        lines.append(t("shipping.per_kg", fee=money(rules.per_kg)))
    by_fee: dict[int, list[str]] = {}
    refused = []
    for region, fee in sorted(rules.regions.items()):
        if fee is None:
            refused.append(place_name(t, region))
        else:
            by_fee.setdefault(fee, []).append(place_name(t, region))
    for fee, names in sorted(by_fee.items()):
        lines.append(t("shipping.region_fee", regions=", ".join(names), fee=money(fee)))
    if ABROAD not in rules.regions:  # abroad is refused unless a rule says otherwise: say so
        refused.append(t.plain("shipping.abroad_unless_named"))
    if refused:
        lines.append(t("shipping.not_served", regions=", ".join(refused)))
    return "\n".join(lines)


def rules_markup(t: Translator, shop: Shop, rules: Rules):
    rows = [[button(t.plain(PRESET_BUTTONS[name]), taps.ShippingPreset(shop.id, i))] for i, name in enumerate(PRESETS)]
    rows += [[button(t.plain("shipping.button_default"), taps.AskShipping(shop.id, ShippingStep.DEFAULT)),
              button(t.plain("shipping.button_free"), taps.AskShipping(shop.id, ShippingStep.FREE))],
             [button(t.plain("shipping.button_unit"), taps.AskShipping(shop.id, ShippingStep.UNIT)),
              button(t.plain("shipping.button_kg"), taps.AskShipping(shop.id, ShippingStep.KG))],
             [button(t.plain("shipping.button_regions"), taps.AskShipping(shop.id, ShippingStep.REGIONS))]]
    if rules.configured:
        rows.append([button(t.plain("shipping.button_off"), taps.ShippingOff(shop.id))])
    return keyboard(rows)


async def _owned(update: Update, context: Context, shop_id: int | None | _Current = CURRENT) -> Membership | None:
    return await shop_member(update, context, shop_id, owner=True, not_owner=N_("shipping.owner_only"))


async def show_rules(update: Update, context: Context, who: Actor, shop: Shop, notice: str | None = None) -> None:
    rules = await services(context).store.shipping.of_shop(shop.id, home_of(shop))
    text = rules_text(who.t, shop, rules) + "\n\n" + who.t("shipping.hint")
    await present(update, with_notice(notice, text), rules_markup(who.t, shop, rules))


async def shipping_command(update: Update, context: Context) -> None:
    who = await actor(update, context)
    membership = await _owned(update, context)
    if membership is not None:
        await show_rules(update, context, who, membership.shop)


async def on_preset(update: Update, context: Context) -> None:
    """A preset button: the shop's rules become the preset's (shown, and changeable from there)."""
    who = await actor(update, context)
    tap = context.tap(taps.ShippingPreset)
    shop_id, index = tap.shop, tap.index
    if index >= len(PRESETS):
        await query_of(update).answer(who.t.plain("common.stale_button"))
        return
    membership = await _owned(update, context, shop_id)
    if membership is None:
        return
    shop = membership.shop
    await query_of(update).answer()
    await services(context).store.shipping.save(shop.id, preset(PRESETS[index], shop.currency, home_of(shop)))
    await show_rules(update, context, who, shop, who.t("shipping.preset_set"))


async def on_off(update: Update, context: Context) -> None:
    """No shipping rules: no fee, every address accepted (as before shipping existed)."""
    who = await actor(update, context)
    membership = await _owned(update, context, context.tap(taps.ShippingOff).shop)
    if membership is None:
        return
    await query_of(update).answer()
    await services(context).store.shipping.clear(membership.shop.id)
    await show_rules(update, context, who, membership.shop, who.t("shipping.turned_off"))


async def on_ask(update: Update, context: Context) -> None:
    tapped = await owner_step_of_tap(update, context, PROMPTS, not_owner=N_("shipping.owner_only"))
    if tapped is None:
        return
    membership, step = tapped
    who = await actor(update, context)
    await services(context).store.flows.start(who.id, FLOW, step, {"shop": membership.shop.id})
    await reply(update, who.t(PROMPTS[step], currency=membership.shop.currency))


async def on_input(update: Update, context: Context, who: Actor, flow: Flow) -> None:
    """The value asked for: applied, or refused with what to send instead (the question stays open)."""
    store = services(context).store
    membership = await _owned(update, context, flow.data.get("shop"))
    if membership is None:
        await store.flows.clear(who.id)
        return
    shop = membership.shop
    text = message_text(update)
    rules = await store.shipping.of_shop(shop.id, home_of(shop))
    try:
        rules, notice = _apply(who.t, shop, rules, flow.step, text)
    except ShippingInputError as exc:
        await reply(update, who.t(PROBLEMS[exc.reason], text=shorten(text, INPUT_MAX), name=exc.name)
                    + "\n" + who.t(PROMPTS[flow.step], currency=shop.currency))
        return
    await store.shipping.save(shop.id, rules)
    await store.flows.clear(who.id)
    await show_rules(update, context, who, shop, notice)


def _apply(t: Translator, shop: Shop, rules: Rules, step: str, text: str) -> tuple[Rules, str]:
    """The rules with the typed change, and what to say about it."""
    rules = replace(rules, configured=True)
    if step == ShippingStep.DEFAULT:
        fee = parse_fee(text, shop.currency)
        return replace(rules, default_fee=fee), t("shipping.default_set", fee=t.money(fee, shop.currency))
    if step == ShippingStep.FREE:
        amount = parse_threshold(text, shop.currency)
        notice = t("shipping.free_set", amount=t.money(amount, shop.currency)) if amount else t("shipping.free_off")
        return replace(rules, free_over=amount), notice
    if step in (ShippingStep.UNIT, ShippingStep.KG):
        fee = parse_fee(text, shop.currency)
        changed = replace(rules, per_extra_unit=fee) if step == ShippingStep.UNIT else replace(rules, per_kg=fee)
        return changed, t("shipping.saved")
    change = parse_region_change(text, shop.currency)
    names = ", ".join(place_name(t, r) for r in change.regions)
    for region in change.regions:
        rules = rules.without_region(region) if change.reset else rules.with_region(region, change.fee)
    if change.reset:
        return rules, t("shipping.regions_reset", regions=names)
    if change.not_served:
        return rules, t("shipping.regions_refused", regions=names)
    return rules, t("shipping.regions_fee", regions=names, fee=t.money(change.fee or 0, shop.currency))
