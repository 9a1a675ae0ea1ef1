"""Summaries: the owner's daily summary with its chart, /summary on demand, and the operator's
all-shops summary (/admin, and daily for the admins named in the config).

The daily summaries are made by `SummaryScheduler.tick`, which runs every minute and can be
called directly with any `now`. For each shop whose local summary time has passed today and that
has none for today yet, it records "made for date D" (a unique key) and, in the same
transaction, hands its messages to the outbox: the chart as an upload with the summary as its
caption when that fits 1024 characters (else photo, then text), retried and, if Telegram will not
take it, replaced by the text by the outbox sender like any other message. A restart never makes a second one; one missed while the bot was down is made when it
comes back the same day.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

from telegram import Bot, InputFile, Update
from telegram.constants import ParseMode

from core import callbacks as taps
from core.chart import ChartDay, ChartText, render_chart
from core.config import Config
from core.regions import region_name
from core.i18n import N_, Safe, Translator, translator
from core.summary import (
    CHART_DAYS, PERIODS, Figures, Period, age, axis_date, compact_money, conversion, daily_period, fits_caption,
    local_clock, parse_period, percent_change, period_for, short_date, weekday_name, weekday_short,
)
from core.text import shorten
from handlers.presale import ship_text
from handlers.common import (
    Context, actor, button, chat_of, chunks, current_membership, keyboard, query_of, reply, services, session_title,
    translator_for,
)
from storage import Store
from storage.live import LiveSession, SlotFigures
from storage.models import Shop
from storage.outbox import Outgoing, Upload
from storage.claims import ClaimFigures
from storage.presale import Overdue
from storage.refunds import RefundFigures
from storage.summaries import (
    OPERATOR, SHOP, BusyLink, BusyShop, DayFigures, Opens, PendingShipments, PlatformFigures, ProductFigures,
    StockFigures,
)

log = logging.getLogger(__name__)

TICK_SECONDS = 60
PARALLEL_SHOPS = 4  # summaries made at once when many shops are due at the same minute
NAME_MAX = 40
TOP_PRODUCTS = 5
SESSION_LINKS = 10

# The clock the scheduler and /summary read; tests replace it to stand at any moment.
clock = time.time

PERIOD_BUTTONS = {"today": N_("summary.button_today"), "yesterday": N_("summary.button_yesterday"),
                  "week": N_("summary.button_week"), "month": N_("summary.button_month")}
PERIOD_TITLES = {"today": N_("summary.period_today"), "yesterday": N_("summary.period_yesterday"),
                 "week": N_("summary.period_week"), "month": N_("summary.period_month")}
NO_ORDERS = {"today": N_("summary.no_orders_today"), "yesterday": N_("summary.no_orders_yesterday"),
             "week": N_("summary.no_orders_week"), "month": N_("summary.no_orders_month")}
AGE_UNITS = {"minutes": N_("summary.age_minutes"), "hours": N_("summary.age_hours"), "days": N_("summary.age_days")}


# ---------------------------------------------------------------- one shop's report

@dataclass(frozen=True)
class Comparison:
    what: str  # "day", "week" (same weekday a week before) or "previous"
    days: int
    figures: Figures


@dataclass(frozen=True)
class ShopReport:
    shop: Shop
    period: Period
    now: float
    figures: Figures
    comparisons: tuple[Comparison, ...]
    top: tuple[ProductFigures, ...]
    opens: Opens
    sessions: tuple[tuple[LiveSession, tuple[SlotFigures, ...]], ...]
    pending: PendingShipments
    stock: StockFigures
    low_stock: int
    days: tuple[tuple[Any, DayFigures, bool], ...]  # (local date, figures, still going on)
    refunds: RefundFigures = RefundFigures()  # refunds due created in the period
    followers: int = 0  # buyers who follow the shop now (handlers/audience.py)
    unanswered: tuple[int, ...] = ()  # numbers of orders whose buyer wrote and got no answer yet
    overdue: tuple[Overdue, ...] = ()  # pre-sales past their date with orders not shipped
    claims: ClaimFigures = ClaimFigures(0, 0, 0, 0)  # damage claims filed in the period
    claims_waiting: tuple[int, ...] = ()  # orders whose claim waits for a decision
    damage: tuple[tuple[str, int, int], ...] = ()  # (product, units claimed damaged, units sold)
    damage_regions: tuple[tuple[str, int, int], ...] = ()  # (shipping region, damaged, sold)


async def shop_report(store: Store, shop: Shop, period: Period, low_stock: int, now: float) -> ShopReport:
    """Every figure of a shop's summary, each one SQL aggregate."""
    summaries = store.summaries
    figures = await summaries.figures(shop.id, period.start, period.end)
    comparisons = []
    for what, days in period.comparisons():
        start, end = period.shifted(days)
        comparisons.append(Comparison(what, days, await summaries.figures(shop.id, start, end, buyers=False)))
    top = await summaries.top_products(shop.id, period.start, period.end, TOP_PRODUCTS)
    opens = await summaries.opens(shop.id, period.start, period.end)
    sessions = []
    for session in await summaries.sessions(shop.id, period.start, period.end):
        sessions.append((session, tuple(await store.live.session_figures(session.id))))
    bounds = period.day_bounds(max(CHART_DAYS, period.days))
    daily = await summaries.daily(shop.id, [(start, end) for _, start, end in bounds])
    chart_days = tuple((day, figures_of_day, period.partial and i == len(bounds) - 1)
                       for i, ((day, _, _), figures_of_day) in enumerate(zip(bounds, daily)))
    return ShopReport(shop, period, now, figures, tuple(comparisons), tuple(top), opens, tuple(sessions),
                      await summaries.pending_shipments(shop.id), await summaries.stock(shop.id, low_stock),
                      low_stock, chart_days, await store.refunds.figures(shop.id, period.start, period.end),
                      await store.audience.follower_count(shop.id),
                      tuple(await store.conversations.unanswered_orders(shop.id)),
                      tuple(await store.presales.overdue(shop.id, _today(shop, now))),
                      await store.claims.figures(shop.id, period.start, period.end),
                      tuple(await store.claims.waiting(shop.id)),
                      tuple(await store.claims.damage_rates(shop.id, period.start, period.end)),
                      tuple(await store.claims.damage_by_region(shop.id, period.start, period.end)))


def _today(shop: Shop, now: float) -> str:
    """The shop's local date, ISO, as pre-sale dates are kept."""
    return datetime.fromtimestamp(now, ZoneInfo(shop.timezone)).date().isoformat()


def _claim_lines(t: Translator, r: ShopReport) -> list[str]:
    """Damage claims of the period, the damage rate by product, and claims waiting for a decision."""
    lines = []
    c = r.claims
    if c.claims:
        lines.append(t("summary.claims", claims=c.claims, approved=c.approved,
                       refunded=t.money(c.refunded, r.shop.currency)))
    if r.damage:
        rates = ", ".join(f"{shorten(name, NAME_MAX)} {damaged}/{sold} ({_percent(round(damaged * 100 / sold))})"
                          for name, damaged, sold in r.damage if sold)
        lines.append(t("summary.damage_rate", lines=rates))
    if r.damage_regions:
        rates = ", ".join(f"{region_name(region, t.language)} {damaged}/{sold} ({_percent(round(damaged * 100 / sold))})"
                          for region, damaged, sold in r.damage_regions if sold)
        lines.append(t("summary.damage_by_region", lines=rates))
    if r.claims_waiting:
        lines.append(t("summary.claims_open", orders=", ".join(f"#{n}" for n in r.claims_waiting)))
    return lines


def _overdue_lines(t: Translator, r: ShopReport) -> list[str]:
    """First in the summary: pre-sales whose day has passed with orders still to ship."""
    return [t("summary.presale_overdue", name=o.name, ships=ship_text(t, o.ships_from), count=o.orders)
            for o in r.overdue]


def period_title(t: Translator, period: Period) -> str:
    return t.plain(PERIOD_TITLES[period.kind], date=short_date(period.last_day, t.locale),
                   first=short_date(period.first_day, t.locale), last=short_date(period.last_day, t.locale),
                   time=t.time(period.end, period.timezone))


def change_text(t: Translator, current: int, previous: int) -> str:
    change = percent_change(current, previous)
    if change is None:
        return t.plain("summary.change_from_nothing") if current else t.plain("summary.change_none")
    if change > 0:
        return t.plain("summary.change_up", percent=change)
    if change < 0:
        return t.plain("summary.change_down", percent=-change)
    return t.plain("summary.change_same")


def comparison_label(t: Translator, period: Period, comparison: Comparison) -> str:
    if comparison.what == "previous":
        return t.plain("summary.vs_previous", days=comparison.days)
    weekday = weekday_name(period.last_day - timedelta(days=comparison.days), t.locale)
    if period.partial:
        return t.plain("summary.vs_yesterday_so_far" if comparison.what == "day" else "summary.vs_weekday_so_far",
                       weekday=weekday)
    return t.plain("summary.vs_day_before" if comparison.what == "day" else "summary.vs_weekday_before",
                   weekday=weekday)


def _orders(t: Translator, n: int) -> Safe:
    return Safe(t.plural("summary.n_orders", n))


def _opens(t: Translator, n: int) -> Safe:
    return Safe(t.plural("summary.n_opens", n))


def _people(t: Translator, n: int) -> Safe:
    return Safe(t.plural("summary.n_people", n))


def _percent(value: int | None) -> str:
    return "—" if value is None else f"{value}%"


def _age(t: Translator, seconds: float) -> str:
    a = age(seconds)
    return t.plain(AGE_UNITS[a.unit], value=a.value)


def _stock_lines(t: Translator, r: ShopReport) -> list[str]:
    stock = r.stock
    if not stock.low_count:
        return [t("summary.stock_fine", on_sale=stock.on_sale, threshold=r.low_stock)]
    items = [t.plain("summary.sold_out_item", name=shorten(name, NAME_MAX)) if left <= 0 else
             t.plain("summary.low_item", name=shorten(name, NAME_MAX), stock=left) for name, left in stock.low]
    text = t("summary.low_stock", threshold=r.low_stock, items=", ".join(items))
    if stock.low_count > len(stock.low):
        text += " " + t("summary.and_more", more=stock.low_count - len(stock.low))
    return [text]


def _refund_lines(t: Translator, r: ShopReport) -> list[str]:
    """Refunds due created in the period (what was owed back, and what is still to send)."""
    if not r.refunds.count:
        return []
    return [t("summary.refunds", count=r.refunds.count, amount=t.money(r.refunds.amount, r.shop.currency),
              open=r.refunds.open_count, open_amount=t.money(r.refunds.open_amount, r.shop.currency))]


def _pending_line(t: Translator, r: ShopReport) -> str:
    if not r.pending.count:
        return t("summary.pending_none")
    line = t("summary.to_ship", orders=_orders(t, r.pending.count),
             age=_age(t, r.now - (r.pending.oldest_at or r.now)))
    if r.pending.unpaid:
        line += "\n" + t("summary.unpaid", orders=_orders(t, r.pending.unpaid),
                         total=t.money(r.pending.unpaid_total, r.shop.currency))
    return line


def _funnel_lines(t: Translator, r: ShopReport) -> list[str]:
    lines = [t("summary.links_opened", opens=_opens(t, r.opens.opens), visitors=_people(t, r.opens.visitors),
               orders=_orders(t, r.figures.orders), conversion=_percent(conversion(r.figures.orders, r.opens.opens)))]
    tz = r.shop.timezone
    for session, rows in r.sessions:
        end = t.time(session.ended_at, tz) if session.ended_at else t.plain("live.report_running")
        lines.append(t("summary.live_heading", title=session_title(t, session.title),
                       start=t.time(session.started_at, tz), end=end))
        for row in rows[:SESSION_LINKS]:
            label = t.plain("live.report_other_links") if row.slot is None else \
                t.plain("live.report_link", slot=row.slot, name=shorten(row.names or "—", NAME_MAX))
            lines.append(t("summary.link_funnel", label=label, opens=_opens(t, row.opens),
                           orders=_orders(t, row.orders),
                           conversion=_percent(conversion(row.orders, row.opens)),
                           revenue=t.money(row.revenue, r.shop.currency)))
        if not rows:
            lines.append(t("live.report_nothing"))
        elif len(rows) > SESSION_LINKS:
            lines.append(t("summary.and_more", more=len(rows) - SESSION_LINKS))
    return lines


def _tips(t: Translator, r: ShopReport) -> list[str]:
    tips = []
    if r.stock.on_sale == 0:
        tips.append(t("summary.tip_add_products"))
    elif r.opens.opens == 0:
        tips.append(t("summary.tip_share_links"))
    else:
        tips.append(t("summary.tip_looked", visitors=_people(t, r.opens.visitors)))
    if r.stock.low_count and r.stock.on_sale:
        tips.append(t("summary.tip_restock"))
    if not r.sessions and r.stock.on_sale:
        tips.append(t("summary.tip_go_live"))
    return [t("summary.tips_title"), *tips]


def render_shop_summary(t: Translator, r: ShopReport) -> list[str]:
    """The summary's lines (Telegram HTML); a day without orders gets a short, practical one."""
    currency = r.shop.currency
    f = r.figures
    lines = [t("summary.title", shop=r.shop.name, period=period_title(t, r.period)), *_overdue_lines(t, r)]
    if f.orders == 0:
        lines.append(t(NO_ORDERS[r.period.kind]))
        if f.cancelled:
            lines.append(t("summary.cancelled", cancelled=f.cancelled))
        lines += _refund_lines(t, r)
        recent = r.days[-CHART_DAYS:]
        lines.append(t("summary.last_days", days=len(recent), orders=_orders(t, sum(d.orders for _, d, _ in recent)),
                       revenue=t.money(sum(d.revenue for _, d, _ in recent), currency)))
        lines += _funnel_lines(t, r) if r.opens.opens or r.sessions else [t("summary.no_opens")]
        lines += _stock_lines(t, r)
        if r.pending.count:
            lines.append(_pending_line(t, r))
        lines += _unanswered_lines(t, r) + _claim_lines(t, r) + _follower_lines(t, r)
        return lines + [""] + _tips(t, r)
    lines.append(t("summary.sales", orders=f.orders, revenue=t.money(f.revenue, currency)))
    if f.shipping:  # revenue with and without the shipping fees collected
        lines.append(t("summary.shipping", goods=t.money(f.revenue - f.shipping, currency),
                       shipping=t.money(f.shipping, currency)))
    lines.append(t("summary.units", units=f.units, average=t.money(f.average_order, currency)))
    lines.append(t("summary.buyers", buyers=f.buyers, new=f.new_buyers, returning=f.returning_buyers))
    if f.cancelled:
        lines.append(t("summary.cancelled", cancelled=f.cancelled))
    lines += _refund_lines(t, r)
    lines += ["", t("summary.compare_title")]
    for c in r.comparisons:
        if c.figures.orders == 0 and c.figures.revenue == 0:  # no "▲ (none then)": say it plainly
            lines.append(t("summary.compare_none_then", label=comparison_label(t, r.period, c)))
            continue
        lines.append(t("summary.compare", label=comparison_label(t, r.period, c),
                       orders_change=change_text(t, f.orders, c.figures.orders),
                       revenue_change=change_text(t, f.revenue, c.figures.revenue),
                       orders=_orders(t, c.figures.orders), revenue=t.money(c.figures.revenue, currency)))
    if r.top:
        lines += ["", t("summary.top_title")]
        for i, p in enumerate(r.top, 1):
            lines.append(t("summary.top_line", rank=i, name=shorten(p.name, NAME_MAX), units=p.units,
                           revenue=t.money(p.revenue, currency)))
            if p.variants:  # a product sold in variants: how many of each
                lines.append(t("summary.top_variants", variants="; ".join(
                    f"{shorten(name, NAME_MAX)} ×{units}" for name, units in p.variants)))
    if r.opens.opens or r.sessions:
        lines += ["", *_funnel_lines(t, r)]
    lines += ["", _pending_line(t, r), *_unanswered_lines(t, r), *_claim_lines(t, r), *_stock_lines(t, r),
              *_follower_lines(t, r)]
    return lines


def _unanswered_lines(t: Translator, r: ShopReport) -> list[str]:
    if not r.unanswered:
        return []
    shown = ", ".join(f"#{n}" for n in r.unanswered[:10]) + (" …" if len(r.unanswered) > 10 else "")
    return [t("summary.unanswered", orders=shown)]


def _follower_lines(t: Translator, r: ShopReport) -> list[str]:
    return [t("summary.followers", followers=r.followers)] if r.followers else []


def has_chart(r: ShopReport) -> bool:
    """A chart of nothing but zeros says nothing: leave it out."""
    return any(d.orders for _, d, _ in r.days)


def render_shop_chart(t: Translator, r: ShopReport) -> bytes:
    """The chart PNG (CPU work: call it in a thread)."""
    currency = r.shop.currency
    days = [ChartDay(axis_date(day), weekday_short(day, t.locale), d.revenue, d.orders, partial_day)
            for day, d, partial_day in r.days]
    first, last = r.days[0][0], r.days[-1][0]
    text = ChartText(
        title=t.plain("summary.chart_title", shop=r.shop.name),
        subtitle=t.plain("summary.chart_subtitle", days=len(days), first=short_date(first, t.locale),
                         last=short_date(last, t.locale)),
        revenue_title=t.plain("summary.chart_revenue", total=t.money(sum(d.revenue for d in days), currency)),
        orders_title=t.plain("summary.chart_orders", total=sum(d.orders for d in days)),
        partial_note=t.plain("summary.chart_partial"),
    )
    return render_chart(text, days, partial(compact_money, currency=currency, locale=t.locale))


def summary_markup(t: Translator, shop_id: int, *, owner: bool) -> dict[str, Any]:
    rows = [[button(t.plain(PERIOD_BUTTONS[p]), taps.SummaryPeriod(shop_id, p)) for p in PERIODS]]
    if owner:
        rows.append([button(t.plain("summary.button_settings"), taps.ShowSettings())])
    return keyboard(rows)


@dataclass(frozen=True)
class SummaryMessages:
    """What to send: a photo (its parameters but the image) and then texts; or only texts."""

    chart: bytes | None
    photo: dict[str, Any] | None
    texts: tuple[dict[str, Any], ...]


def arrange(lines: Sequence[str], chart: bytes | None, markup: dict[str, Any]) -> SummaryMessages:
    """The photo carries the whole summary as its caption when it fits 1024 characters; else the
    photo carries the title and the summary follows as text. The buttons go on the last message."""
    text = "\n".join(lines)
    if chart is not None and fits_caption(text):
        return SummaryMessages(chart, {"caption": text, "parse_mode": ParseMode.HTML, "reply_markup": markup}, ())
    texts: list[dict[str, Any]] = [{"text": chunk, "parse_mode": ParseMode.HTML} for chunk in chunks(list(lines))]
    texts[-1]["reply_markup"] = markup
    photo = {"caption": lines[0], "parse_mode": ParseMode.HTML} if chart is not None else None
    return SummaryMessages(chart, photo, tuple(texts))


async def shop_summary(store: Store, t: Translator, shop: Shop, period: Period, now: float, *, owner: bool
                       ) -> SummaryMessages:
    settings = await store.summaries.settings(shop.id)
    report = await shop_report(store, shop, period, settings.low_stock, now)
    lines = render_shop_summary(t, report)
    chart = None
    if has_chart(report):
        try:
            chart = await asyncio.to_thread(render_shop_chart, t, report)
        except Exception:  # a chart is a bonus: never lose the summary over it
            log.exception("could not draw the summary chart of shop %d", shop.id)
    return arrange(lines, chart, summary_markup(t, shop.id, owner=owner))


async def send_now(bot: Bot, chat_id: int, messages: SummaryMessages) -> None:
    """Send a summary into a chat directly (the answer to the user's own command)."""
    if messages.chart is not None and messages.photo is not None:
        await bot.send_photo(chat_id, InputFile(messages.chart, filename="summary.png"), **messages.photo)
    for params in messages.texts:
        await bot.send_message(chat_id, **params)


# ---------------------------------------------------------------- /summary

async def summary_command(update: Update, context: Context) -> None:
    """/summary [today|yesterday|week|month]: the current shop's figures (owner and staff)."""
    who = await actor(update, context)
    kind = parse_period(" ".join(context.args or []))
    if kind is None:
        await reply(update, who.t("summary.bad_period", period=shorten(" ".join(context.args or []), NAME_MAX)))
        return
    membership = await current_membership(who, context)
    if membership is None:
        await reply(update, who.t("catalog.no_shop"), keyboard([[button(who.t.plain("button.open_shop"), taps.OpenShop())]]))
        return
    await _send_summary(update, context, who.t, membership.shop, kind, owner=membership.is_owner)


async def on_period(update: Update, context: Context) -> None:
    """A period button under a summary: re-checks that the user belongs to that shop."""
    who = await actor(update, context)
    tap = context.tap(taps.SummaryPeriod)
    store = services(context).store
    kind = tap.period
    membership = await store.shops.membership(who.id, tap.shop)
    if membership is None or kind not in PERIODS:
        await query_of(update).answer(who.t.plain("common.not_allowed"), show_alert=True)
        return
    await query_of(update).answer()
    await _send_summary(update, context, who.t, membership.shop, kind, owner=membership.is_owner)


async def _send_summary(update: Update, context: Context, t: Translator, shop: Shop, kind: str, *, owner: bool) -> None:
    now = clock()
    messages = await shop_summary(services(context).store, t, shop, period_for(kind, now, shop.timezone), now,
                                  owner=owner)
    await send_now(context.bot, chat_of(update).id, messages)


# ---------------------------------------------------------------- the operator

@dataclass(frozen=True)
class OperatorReport:
    period: Period
    figures: PlatformFigures
    previous: PlatformFigures
    comparison: Comparison
    shops: tuple[BusyShop, ...]
    links: tuple[BusyLink, ...]


async def operator_report(store: Store, period: Period) -> OperatorReport:
    what, days = period.comparisons()[0]
    start, end = period.shifted(days)
    previous = await store.summaries.platform(start, end, busiest=0)
    figures = await store.summaries.platform(period.start, period.end)
    return OperatorReport(period, figures, previous, Comparison(what, days, Figures(previous.orders)),
                          figures.busiest, tuple(await store.summaries.busiest_links(period.start, period.end)))


def render_operator_summary(t: Translator, r: OperatorReport) -> list[str]:
    f = r.figures
    label = comparison_label(t, r.period, r.comparison)
    lines = [t("admin.title", period=period_title(t, r.period)),
             t("admin.shops", active=f.active_shops, shops=f.shops, new=f.new_shops),
             t("admin.orders", orders=f.orders, change=change_text(t, f.orders, r.previous.orders), label=label)]
    for c in f.by_currency:
        lines.append(t("admin.revenue", revenue=t.money(c.revenue, c.currency),
                       change=change_text(t, c.revenue, r.previous.revenue(c.currency)), label=label))
    if not f.orders:
        lines.append(t("admin.nothing"))
        return lines
    lines += ["", t("admin.busiest_shops")]
    lines += [t("admin.shop", rank=i, shop=shorten(s.name, NAME_MAX), orders=_orders(t, s.orders),
                revenue=t.money(s.revenue, s.currency)) for i, s in enumerate(r.shops, 1)]
    if r.links:
        lines += ["", t("admin.busiest_links")]
        lines += [t("admin.link", rank=i, shop=shorten(k.shop_name, NAME_MAX), slot=k.slot,
                    product=shorten(k.product_name or "—", NAME_MAX), orders=_orders(t, k.orders),
                    opens=_opens(t, k.opens),
                    conversion=_percent(conversion(k.orders, k.opens)), revenue=t.money(k.revenue, k.currency))
                  for i, k in enumerate(r.links, 1)]
    return lines


def operator_markup(t: Translator) -> dict[str, Any]:
    return keyboard([[button(t.plain(PERIOD_BUTTONS[p]), taps.AllShopsPeriod(p)) for p in PERIODS]])


def operator_texts(t: Translator, r: OperatorReport) -> list[dict[str, Any]]:
    texts: list[dict[str, Any]] = [{"text": chunk, "parse_mode": ParseMode.HTML}
                                   for chunk in chunks(render_operator_summary(t, r))]
    texts[-1]["reply_markup"] = operator_markup(t)
    return texts


async def admin_command(update: Update, context: Context) -> None:
    """/admin [today|yesterday|week|month]: all shops together, for the operators in the config."""
    who = await actor(update, context)
    svc = services(context)
    if who.id not in svc.config.admins:
        await reply(update, who.t("common.unknown_command"))  # to others the command does not exist
        return
    kind = parse_period(" ".join(context.args or []))
    if kind is None:
        await reply(update, who.t("admin.bad_period", period=shorten(" ".join(context.args or []), NAME_MAX)))
        return
    await _send_operator(update, context, who.t, kind)


async def on_admin_period(update: Update, context: Context) -> None:
    who = await actor(update, context)
    kind = context.tap(taps.AllShopsPeriod).period
    if who.id not in services(context).config.admins or kind not in PERIODS:
        await query_of(update).answer(who.t.plain("common.not_allowed"), show_alert=True)
        return
    await query_of(update).answer()
    await _send_operator(update, context, who.t, kind)


async def _send_operator(update: Update, context: Context, t: Translator, kind: str) -> None:
    svc = services(context)
    report = await operator_report(svc.store, period_for(kind, clock(), svc.config.timezone))
    for params in operator_texts(t, report):
        await context.bot.send_message(chat_of(update).id, **params)


# ---------------------------------------------------------------- the daily schedule

class SummaryScheduler:
    """Makes the daily summaries when they are due, once per shop and day, and queues them."""

    def __init__(self, store: Store, config: Config, interval: float = TICK_SECONDS) -> None:
        self._store = store
        self._config = config
        self._interval = interval
        self._lock = asyncio.Lock()
        self._parallel = asyncio.Semaphore(PARALLEL_SHOPS)
        self.ticks = 0  # completed ticks (tests wait for the first one after a start)

    @property
    def interval(self) -> float:
        """How often the bot's jobs (runtime/jobs.py) tick it; the first tick runs at once, so a
        summary missed while the bot was down goes out now."""
        return self._interval

    async def tick(self, now: float | None = None) -> int:
        """Make every summary due at `now` (default: the clock) and deliver pending charts.
        Returns how many summaries were made."""
        async with self._lock:
            now = clock() if now is None else now
            due = []
            for timezone in await self._store.summaries.timezones():
                try:
                    local = local_clock(now, timezone)
                except (KeyError, ValueError):
                    log.error("shops have an unknown time zone %r; their summaries are skipped", timezone)
                    continue
                shops = await self._store.summaries.due_shops(timezone, local.date, local.minute, local.midnight)
                due += [(shop_id, local.date) for shop_id in shops]
            # A few shops at a time: one shop's figures, chart and upload overlap another's.
            made = sum(await asyncio.gather(*(self._summarise_shop(shop_id, day, now) for shop_id, day in due)))
            made += await self._make_operator_summaries(now)
            await self._store.summaries.expire_undelivered()
            await self._deliver_pending()
            self.ticks += 1
            return made

    async def wait_for_tick(self, after: int, timeout: float = 30.0) -> None:
        """Wait until more than `after` ticks have completed (tests)."""
        deadline = asyncio.get_running_loop().time() + timeout
        while self.ticks <= after:
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError("the summary scheduler did not tick")
            await asyncio.sleep(0.005)

    async def _summarise_shop(self, shop_id: int, local_date: str, now: float) -> int:
        async with self._parallel:
            try:
                return await self._make_shop_summary(shop_id, local_date, now)
            except Exception:  # e.g. the database is busy: the shop is still due at the next tick
                log.exception("could not record the daily summary of shop %d", shop_id)
                return 0

    async def _make_shop_summary(self, shop_id: int, local_date: str, now: float) -> int:
        """Make and record the shop's summary for `local_date`, its messages handed to the outbox in
        the same transaction: 1 if made."""
        store = self._store
        shop = await store.shops.get(shop_id)
        if shop is None:
            return 0
        owner = await store.users.get(shop.owner_id)
        try:
            if owner is None or owner.blocked_at:
                messages, error = SummaryMessages(None, None, ()), "owner_unreachable"
            else:
                t = translator_for(owner, self._config)
                settings = await store.summaries.settings(shop.id)
                period = daily_period(now, shop.timezone, settings.send_at)
                messages, error = await shop_summary(store, t, shop, period, now, owner=True), None
        except Exception:
            log.exception("could not make the daily summary of shop %d; skipping it for %s", shop_id, local_date)
            messages, error = SummaryMessages(None, None, ()), "failed"
        async with store.transaction() as conn:
            run = await store.summaries.claim(conn, SHOP, shop.id, local_date, shop.owner_id, delivered=True,
                                              error=error)
            if run is not None:
                await queue_summary(store, conn, shop.owner_id, messages.photo, messages.chart, messages.texts)
        return 1 if run is not None and error is None else 0

    async def _make_operator_summaries(self, now: float) -> int:
        config, store = self._config, self._store
        if not config.admins:
            return 0
        local = local_clock(now, config.timezone)
        # Nothing to report before the first shop existed at the summary time (a new deployment).
        send_at = config.admin_summary_at  # minutes after midnight in config.timezone
        if local.minute < send_at or not await store.summaries.has_shops_before(local.midnight + 60 * send_at):
            return 0
        waiting = [a for a in sorted(config.admins) if not await store.summaries.made(OPERATOR, a, local.date)]
        if not waiting:
            return 0
        report = await operator_report(store, period_for("today", now, config.timezone))
        made = 0
        for admin_id in waiting:
            admin = await store.users.get(admin_id)
            t = translator_for(admin, config) if admin is not None else translator(config.language)
            async with store.transaction() as conn:
                run = await store.summaries.claim(conn, OPERATOR, admin_id, local.date, admin_id, delivered=True)
                if run is not None:
                    for params in operator_texts(t, report):
                        await store.outbox.enqueue(conn, Outgoing(admin_id, "sendMessage", params))
                    made += 1
        return made

    async def _deliver_pending(self) -> None:
        """Runs made before the outbox carried charts (an upgrade while one waited to retry): handed
        to the outbox now, like new ones."""
        store = self._store
        for run in await store.summaries.undelivered():
            async with store.transaction() as conn:
                await store.summaries.mark_delivered(conn, run.id)
                await queue_summary(store, conn, run.chat_id, run.photo, run.chart, run.follow_up)


async def queue_summary(store: Store, conn, chat_id: int, photo: dict[str, Any] | None, chart: bytes | None,
                        texts: Sequence[dict[str, Any]]) -> None:
    """Queue a summary in the caller's transaction: its chart (an upload the outbox sends, retries
    and, when Telegram will not take it, replaces with the caption as text) and then its texts, each
    after the one before, so they never overtake the chart."""
    after = None
    texts = list(texts)
    if chart is not None and photo is not None:
        caption_as_text = None
        if not texts:  # the caption was the whole summary: without the chart it goes as a text
            caption_as_text = ("sendMessage", {"text": photo.get("caption", ""), "parse_mode": ParseMode.HTML,
                                               **({"reply_markup": photo["reply_markup"]}
                                                  if "reply_markup" in photo else {})})
        after = await store.outbox.enqueue(conn, Outgoing(chat_id, "sendPhoto", dict(photo),
                                                          upload=Upload("photo", "summary.png", chart),
                                                          fallback=caption_as_text))
    for params in texts:
        after = await store.outbox.enqueue(conn, Outgoing(chat_id, "sendMessage", dict(params), after=after))
