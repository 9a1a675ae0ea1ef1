"""/export: the shop's orders as a CSV file; /packlist: what is left to pack.

Every cell of an export goes through core/sheet.py: text that could run as a spreadsheet formula
is neutralised, money stays a number a spreadsheet can add up, phones stay text.
"""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from telegram import InputFile, Update

from core.command_words import EXPORT_PERIODS, parse_export_period
from core.geo import map_link
from core.i18n import LANGUAGES, N_, Translator, translator
from core.orders import Status
from core.payments import Method, PaymentStatus
from core.presale import ShipDate, format_ship_date, week_end
from core.regions import region_name
from core.sheet import home_region, money_cell, phone_cell, safe_row
from handlers.common import Context, actor, chat_of, chunks, current_membership, reply, services, session_title
from handlers.notices import STATUS_NAMES, method_name
from handlers.slips import WEEK_KEYWORDS, pack_slip_buttons

PERIODS = EXPORT_PERIODS
EXPORT_PERIOD_NAMES = {"today": N_("export.period_today"), "yesterday": N_("export.period_yesterday"),
                       "7d": N_("export.period_7d"), "30d": N_("export.period_30d"), "all": N_("export.period_all")}
# `/packlist live` in either language (a Chinese merchant types /packlist 直播).
LIVE_KEYWORDS = frozenset(translator(language).plain("packlist.keyword_live").lower()
                          for language in LANGUAGES) | {"live"}
CSV_HEADERS = [N_("export.col_number"), N_("export.col_time"), N_("export.col_buyer"), N_("export.col_recipient"),
               N_("export.col_phone"), N_("export.col_address"), N_("export.col_map"), N_("export.col_items"),
               N_("export.col_variants"),
               N_("export.col_units"), N_("export.col_total"), N_("export.col_currency"), N_("export.col_status"),
               N_("export.col_payment"), N_("export.col_payment_status"), N_("export.col_carrier"),
               N_("export.col_tracking"), N_("export.col_note"), N_("export.col_refund"), N_("export.col_shipping"),
               N_("export.col_region"), N_("export.col_parcel")]
# Status words for a spreadsheet: no emoji, so a filter or a pivot table reads them as they are.
STATUS_WORDS = {Status.PLACED: N_("export.status_placed"), Status.CONFIRMED: N_("export.status_confirmed"),
                Status.SHIPPED: N_("export.status_shipped"), Status.DELIVERED: N_("export.status_delivered"),
                Status.CANCELLED: N_("export.status_cancelled")}


def period_bounds(period: str, timezone: str, now: datetime | None = None) -> tuple[float | None, float | None]:
    """[since, until) in Unix time for a named period, in the shop's time zone."""
    zone = ZoneInfo(timezone)
    current = (now or datetime.now(zone)).astimezone(zone)
    midnight = current.replace(hour=0, minute=0, second=0, microsecond=0)
    if period == "today":
        return midnight.timestamp(), None
    if period == "yesterday":
        return (midnight - timedelta(days=1)).timestamp(), midnight.timestamp()
    if period in ("7d", "30d"):
        return (midnight - timedelta(days=int(period[:-1]) - 1)).timestamp(), None
    return None, None


def render_csv(t: Translator, rows, timezone: str, currency: str = "CNY") -> bytes:
    """UTF-8 with a byte-order mark, so spreadsheet programs open Chinese text correctly."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(safe_row(t.plain(key) for key in CSV_HEADERS))
    zone = ZoneInfo(timezone)
    region = home_region(currency)
    for r in rows:
        buyer = r["buyer"] + (f" (@{r['username']})" if r["username"] else "")
        # Cash on delivery has no payment state of its own to add ("pay on delivery" again).
        paid = "" if r["payment_method"] == Method.COD else t.plain(STATUS_NAMES[PaymentStatus(r["payment_status"])])
        writer.writerow(safe_row([
            r["number"], datetime.fromtimestamp(r["created_at"], zone).strftime("%Y-%m-%d %H:%M"), buyer,
            r["recipient"], phone_cell(r["phone"], region), r["address"],
            map_link(r["latitude"], r["longitude"], t.language), r["items"], r["variants"], r["units"],
            money_cell(r["total"], r["currency"]), r["currency"], t.plain(STATUS_WORDS[Status(r["status"])]),
            method_name(t, r["payment_method"]), paid, r["carrier"], r["tracking_number"], r["note"],
            _refund_cell(t, r), money_cell(r["shipping_fee"], r["currency"]),
            region_name(r["region"], t.language) if r["region"] else "", r["parcel_number"] or "",
        ]))
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def _refund_cell(t: Translator, r) -> str:
    """What was owed back on the order (storage/refunds.py), and whether it was sent."""
    if not r["refunded"]:
        return ""
    state = "refund.state_open" if r["refunds_open"] else "refund.state_settled"
    return f"{t.money(r['refunded'], r['currency']).replace(chr(0xa0), ' ')} · {t.plain(state)}"


async def export_command(update: Update, context: Context) -> None:
    """/export [today|yesterday|7d|30d|all] (default today). Staff get the orders waiting to
    ship (what they need to pack and send), unless the owner lets them export everything."""
    who = await actor(update, context)
    membership = await current_membership(who, context)
    if membership is None:
        await reply(update, who.t("catalog.no_shop"))
        return
    store = services(context).store
    shop = membership.shop
    if not membership.is_owner and not await store.shops.staff_export_all(shop.id):
        rows = await store.orders.export_rows(shop.id, None, None, waiting_to_ship=True)
        await chat_of(update).send_document(
            InputFile(render_csv(who.t, rows, shop.timezone, shop.currency), filename=f"{shop.slug}-to-ship.csv"),
            caption=who.t("export.caption_to_ship", count=len(rows)))
        return
    period = parse_export_period(" ".join(context.args or []))
    if period is None:
        await reply(update, who.t("export.bad_period", periods=who.t.plain("export.period_words")))
        return
    since, until = period_bounds(period, shop.timezone)
    rows = await store.orders.export_rows(shop.id, since, until)
    data = render_csv(who.t, rows, shop.timezone, shop.currency)
    name = f"{shop.slug}-orders-{period}.csv"
    caption = who.t("export.caption", count=len(rows), period=who.t.plain(EXPORT_PERIOD_NAMES[period]))
    await chat_of(update).send_document(InputFile(data, filename=name), caption=caption)


def parcels(rows) -> list[list]:
    """The pack list's orders grouped by parcel (storage: one buyer's orders to one address, not
    shipped yet, go in one box), in the order their first order was placed."""
    grouped: dict[int, list] = {}
    for row in rows:
        grouped.setdefault(row["parcel"], []).append(row)
    return list(grouped.values())


async def packlist_command(update: Update, context: Context) -> None:
    """/packlist: units to pack per product and per buyer for every order waiting to ship;
    `/packlist live`: only the orders of the current (or last) live session."""
    who = await actor(update, context)
    membership = await current_membership(who, context)
    if membership is None:
        await reply(update, who.t("catalog.no_shop"))
        return
    store = services(context).store
    shop = membership.shop
    t = who.t
    if context.args and context.args[0].lower() in LIVE_KEYWORDS:
        session = await store.live.current_session(shop.id) or await store.live.last_session(shop.id)
        if session is None:
            await reply(update, t("packlist.no_session"))
            return
        packing = await store.orders.pack_list(shop.id, session.started_at, session.ended_at)
        title = t("packlist.heading", title=session_title(t, session.title),
                  start=t.datetime(session.started_at, shop.timezone))
    elif context.args and context.args[0].lower() in WEEK_KEYWORDS:  # what to pack this week
        by = week_end(datetime.now(ZoneInfo(shop.timezone)).date())
        packing = await store.orders.pack_list(shop.id, ship_by=by.isoformat())
        title = t("packlist.title_ship_by", shop=shop.name, date=format_ship_date(ShipDate(by), t.locale))
    else:
        packing = await store.orders.pack_list(shop.id)
        title = t("packlist.title_waiting", shop=shop.name)
    lines = [title]
    if not packing.per_product:
        lines.append(t("packlist.nothing_waiting"))
    else:
        lines.append(t("packlist.per_product"))
        lines += [t("packlist.product_line", name=r["name"], units=r["units"]) for r in packing.per_product]
        lines.append("")
        lines.append(t("packlist.per_buyer"))
        for parcel in parcels(packing.per_buyer):
            r = parcel[0]
            number = " + #".join(str(p["number"]) for p in parcel)  # one parcel: packed as one box
            lines.append(t("packlist.buyer_line", number=number, recipient=r["recipient"], phone=r["phone"],
                           address=r["address"], items="; ".join(p["items"] for p in parcel)))
            link = map_link(r["latitude"], r["longitude"], t.language)
            if link:
                lines.append(t("notice.location", link=link))
    if packing.awaiting_payment:
        lines += ["", t.plural("packlist.awaiting_payment", packing.awaiting_payment)]
    parts = chunks(lines)
    for i, text in enumerate(parts):  # the slips for the boxes, under the last part
        await reply(update, text, pack_slip_buttons(t, shop) if i == len(parts) - 1 and packing.per_buyer else None)
