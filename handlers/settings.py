"""/settings: the shop owner's settings for the daily summary: its time, the shop's time zone,
on or off, and from how many items left a product counts as low stock; and how long Buy now holds
the units for a buyer.

Each can be changed with a button (then the value is asked for) or typed at once:
/settings time 20:30, /settings tz Asia/Tokyo, /settings off, /settings on, /settings lowstock 3.
Every action re-checks that the user owns the shop named (callback data is never trusted).
"""

from __future__ import annotations

from enum import StrEnum
import time
from datetime import datetime
from zoneinfo import ZoneInfo

from telegram import Update

from core import callbacks as taps
from core.i18n import N_, Translator
from core.summary import (
    MAX_HOLD_MINUTES, MAX_LOW_STOCK, MIN_HOLD_MINUTES, MORNING_ENDS, SETTING_LOW_STOCK, SETTING_TIME,
    SETTING_TIMEZONE, SettingError, format_time_of_day, parse_hold_minutes, parse_low_stock, parse_time_of_day,
    parse_timezone, setting_word,
)
from core.text import shorten
from handlers.guards import CURRENT, _Current, owner_step_of_tap, shop_member
from handlers.common import (
    Actor, Context, actor, button, keyboard, message_text, present, query_of, reply, services, with_notice,
)
from storage.models import Flow, Membership, Shop
from storage.summaries import SummarySettings

FLOW_SETTINGS = "settings"


class SettingStep(StrEnum):
    """Which setting the owner is typing (also the words of /settings time 21:00)."""

    TIME = SETTING_TIME
    TIMEZONE = SETTING_TIMEZONE
    LOW_STOCK = SETTING_LOW_STOCK
    HOLD = "hold"


INPUT_MAX = 64
# Offered as buttons; any other IANA name or UTC offset can be typed.
COMMON_ZONES = ("Asia/Shanghai", "Asia/Hong_Kong", "Asia/Taipei", "Asia/Singapore", "Asia/Kuala_Lumpur",
                "Asia/Bangkok", "Asia/Tokyo", "Europe/London", "Europe/Berlin", "America/New_York",
                "America/Los_Angeles", "Australia/Sydney")
PROMPTS: dict[str, str] = {SettingStep.TIME: N_("settings.ask_time"), SettingStep.TIMEZONE: N_("settings.ask_tz"),
           SettingStep.LOW_STOCK: N_("settings.ask_low"), SettingStep.HOLD: N_("settings.ask_hold")}
PROBLEMS = {"time_format": N_("settings.time_invalid"), "time_range": N_("settings.time_out_of_range"),
            "timezone": N_("settings.tz_invalid"), "low_stock": N_("settings.low_invalid"),
            "hold": N_("settings.hold_invalid")}


def settings_text(t: Translator, shop: Shop, settings: SummarySettings) -> str:
    local_now = datetime.now(ZoneInfo(shop.timezone))
    summary = t("settings.summary_on", time=format_time_of_day(settings.send_at)) if settings.enabled else \
        t("settings.summary_off")
    lines = [t("settings.title", shop=shop.name), summary,
             t("settings.timezone", timezone=shop.timezone, now=local_now.strftime("%H:%M")),
             t("settings.low_stock", threshold=settings.low_stock), t("settings.hold", minutes=shop.hold_minutes),
             "", t("settings.hint")]
    return "\n".join(lines)


def settings_markup(t: Translator, shop: Shop, settings: SummarySettings, *, has_app: bool = False):
    """`has_app`: the bot has a Mini App, so the owner chooses what QR codes and posted cards open."""
    toggle = button(t.plain("settings.button_off"), taps.SummariesOnOff(shop.id, 0)) if settings.enabled else \
        button(t.plain("settings.button_on"), taps.SummariesOnOff(shop.id, 1))
    opens = [[button(t.plain("settings.button_opens_app"), taps.SetOpensIn(shop.id, 0)) if shop.opens_in == "app"
              else button(t.plain("settings.button_opens_chat"), taps.SetOpensIn(shop.id, 1))]] if has_app else []
    return keyboard([
        [button(t.plain("settings.button_time"), taps.AskSetting(shop.id, SettingStep.TIME)),
         button(t.plain("settings.button_tz"), taps.AskSetting(shop.id, SettingStep.TIMEZONE))],
        [toggle, button(t.plain("settings.button_low"), taps.AskSetting(shop.id, SettingStep.LOW_STOCK))],
        [button(t.plain("settings.button_hold"), taps.AskSetting(shop.id, SettingStep.HOLD)),
         button(t.plain("settings.button_payments"), taps.PaymentSettings(shop.id))],
        *opens,
    ])


async def _owned(update: Update, context: Context, shop_id: int | None | _Current = CURRENT) -> Membership | None:
    """The shop (named, or the current one) if the user owns it; otherwise say why not and None."""
    return await shop_member(update, context, shop_id, owner=True, not_owner=N_("settings.owner_only"))


async def show_settings(update: Update, context: Context, shop: Shop, who: Actor, notice: str | None = None) -> None:
    settings = await services(context).store.summaries.settings(shop.id)
    text = settings_text(who.t, shop, settings)
    has_app = bool(services(context).config.webapp.url)
    await present(update, with_notice(notice, text), settings_markup(who.t, shop, settings, has_app=has_app))


async def settings_command(update: Update, context: Context) -> None:
    """/settings, or /settings time|tz|on|off|lowstock [value]."""
    who = await actor(update, context)
    membership = await _owned(update, context)
    if membership is None:
        return
    args = context.args or []
    if not args:
        await show_settings(update, context, membership.shop, who)
        return
    what = setting_word(args[0])
    value = " ".join(args[1:]).strip()
    if what is None:
        await reply(update, who.t("settings.usage", text=shorten(" ".join(args), INPUT_MAX)))
    elif what in ("on", "off"):
        await _set_enabled(update, context, who, membership.shop, what == "on")
    elif not value:
        await _ask(update, context, who, membership.shop, what)
    else:
        await _apply(update, context, who, membership.shop, what, value)


async def on_show(update: Update, context: Context) -> None:
    """The settings button under a summary."""
    who = await actor(update, context)
    membership = await _owned(update, context)
    if membership is None:
        return
    await query_of(update).answer()
    await show_settings(update, context, membership.shop, who)


async def on_ask(update: Update, context: Context) -> None:
    """A settings button: ask for the new value."""
    tapped = await owner_step_of_tap(update, context, PROMPTS, not_owner=N_("settings.owner_only"))
    if tapped is not None:
        membership, step = tapped
        await _ask(update, context, await actor(update, context), membership.shop, step)


async def _ask(update: Update, context: Context, who: Actor, shop: Shop, step: str) -> None:
    store = services(context).store
    settings = await store.summaries.settings(shop.id)
    await store.flows.start(who.id, FLOW_SETTINGS, step, {"shop": shop.id})
    markup = None
    if step == SettingStep.TIMEZONE:
        picks = [button(zone, taps.PickTimeZone(shop.id, i)) for i, zone in enumerate(COMMON_ZONES)]
        markup = keyboard([picks[i:i + 2] for i in range(0, len(picks), 2)])
    local_now = datetime.now(ZoneInfo(shop.timezone)).strftime("%H:%M")  # the time there, to set it by
    await reply(update, who.t(PROMPTS[step], timezone=shop.timezone, time=local_now, threshold=settings.low_stock,
                              minutes=shop.hold_minutes, min=MIN_HOLD_MINUTES, max=MAX_HOLD_MINUTES), markup)


async def on_zone_picked(update: Update, context: Context) -> None:
    """A time zone button."""
    who = await actor(update, context)
    tap = context.tap(taps.PickTimeZone)
    shop_id, index = tap.shop, tap.index
    if index >= len(COMMON_ZONES):
        await query_of(update).answer(who.t.plain("common.stale_button"))
        return
    membership = await _owned(update, context, shop_id)
    if membership is None:
        return
    await query_of(update).answer()
    await services(context).store.flows.clear(who.id)
    await _apply(update, context, who, membership.shop, SettingStep.TIMEZONE, COMMON_ZONES[index])


async def on_toggle(update: Update, context: Context) -> None:
    """Turn the daily summary on or off (the button says which)."""
    who = await actor(update, context)
    tap = context.tap(taps.SummariesOnOff)
    shop_id, wanted = tap.shop, tap.on
    membership = await _owned(update, context, shop_id)
    if membership is None:
        return
    await query_of(update).answer()
    await _set_enabled(update, context, who, membership.shop, bool(wanted))


async def on_opens_in(update: Update, context: Context) -> None:
    """What QR codes and posted cards open: the button shows the current choice; a tap switches."""
    who = await actor(update, context)
    tap = context.tap(taps.SetOpensIn)
    membership = await _owned(update, context, tap.shop)
    if membership is None:
        return
    await query_of(update).answer()
    store = services(context).store
    await store.shops.set_opens_in(membership.shop.id, "app" if tap.app else "chat")
    shop = await store.shops.require(membership.shop.id)
    await show_settings(update, context, shop, who, who.t("settings.opens_app_set" if tap.app else "settings.opens_chat_set"))


async def _set_enabled(update: Update, context: Context, who: Actor, shop: Shop, enabled: bool) -> None:
    settings = await services(context).store.summaries.set_enabled(shop.id, enabled)
    notice = who.t("settings.turned_on", time=format_time_of_day(settings.send_at), timezone=shop.timezone) \
        if enabled else who.t("settings.turned_off")
    await show_settings(update, context, shop, who, notice)


async def on_settings_input(update: Update, context: Context, who: Actor, flow: Flow) -> None:
    """The value asked for: checked, applied, or refused with what to send instead."""
    membership = await _owned(update, context, flow.data.get("shop"))
    if membership is None:
        await services(context).store.flows.clear(who.id)
        return
    text = message_text(update)
    if not text:  # a photo or a sticker: the question again
        await _ask(update, context, who, membership.shop, flow.step)
        return
    await _apply(update, context, who, membership.shop, flow.step, text, in_flow=True)


async def _apply(update: Update, context: Context, who: Actor, shop: Shop, what: str, text: str, *,
                 in_flow: bool = False) -> None:
    store = services(context).store
    t = who.t
    try:
        if what == SettingStep.TIME:
            settings = await store.summaries.set_send_at(shop.id, parse_time_of_day(text))
            notice = t("settings.time_set", time=format_time_of_day(settings.send_at), timezone=shop.timezone)
            if settings.send_at < MORNING_ENDS:
                notice += "\n" + t("settings.morning_note")
            if not settings.enabled:
                notice += "\n" + t("settings.still_off")
        elif what == SettingStep.TIMEZONE:
            zone = parse_timezone(text)
            await store.shops.set_timezone(shop.id, zone)
            shop = await store.shops.get(shop.id) or shop
            notice = t("settings.tz_set", timezone=zone, now=datetime.fromtimestamp(time.time(), ZoneInfo(zone))
                       .strftime("%H:%M"))
        elif what == SettingStep.HOLD:
            minutes = parse_hold_minutes(text)
            await store.shops.set_hold_minutes(shop.id, minutes)
            shop = await store.shops.get(shop.id) or shop
            notice = t("settings.hold_set", minutes=minutes)
        else:
            threshold = parse_low_stock(text)
            await store.summaries.set_low_stock(shop.id, threshold)
            notice = t("settings.low_set", threshold=threshold)
    except SettingError as exc:
        # Refused: say what to send instead; the question stays open.
        top = MAX_HOLD_MINUTES if exc.reason == "hold" else MAX_LOW_STOCK
        await reply(update, t(PROBLEMS[exc.reason], text=shorten(text, INPUT_MAX), min=MIN_HOLD_MINUTES, max=top))
        return
    if in_flow:
        await store.flows.clear(who.id)
    await show_settings(update, context, shop, who, notice)
