"""/export: the shop's orders as a CSV file; /packlist: what to pack after a live session."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from telegram import InputFile, Update

from core.i18n import N_, Translator
from handlers.common import Context, actor, chunks, current_membership, reply, services
from core.payments import PaymentStatus
from handlers.my_orders import status_text
from handlers.notices import STATUS_NAMES, method_name

PERIODS = ("today", "yesterday", "7d", "30d", "all")
CSV_HEADERS = [N_("export.col_number"), N_("export.col_time"), N_("export.col_buyer"), N_("export.col_recipient"),
               N_("export.col_phone"), N_("export.col_address"), N_("export.col_items"), N_("export.col_units"),
               N_("export.col_total"), N_("export.col_status"), N_("export.col_payment"), N_("export.col_carrier"),
               N_("export.col_tracking"), N_("export.col_note"), N_("export.col_refund")]


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


def render_csv(t: Translator, rows, timezone: str) -> bytes:
    """UTF-8 with a byte-order mark, so spreadsheet programs open Chinese text correctly."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([t.plain(key) for key in CSV_HEADERS])
    zone = ZoneInfo(timezone)
    for r in rows:
        buyer = r["buyer"] + (f" (@{r['username']})" if r["username"] else "")
        writer.writerow([
            r["number"], datetime.fromtimestamp(r["created_at"], zone).strftime("%Y-%m-%d %H:%M"), buyer,
            r["recipient"], r["phone"], r["address"], r["items"], r["units"],
            t.money(r["total"], r["currency"]).replace("\xa0", " "), status_text(t, r["status"]),
            f"{method_name(t, r['payment_method'])} · {t.plain(STATUS_NAMES[PaymentStatus(r['payment_status'])])}",
            r["carrier"] or "", r["tracking_number"] or "", r["note"] or "", _refund_cell(t, r),
        ])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def _refund_cell(t: Translator, r) -> str:
    """What was owed back on the order (storage/refunds.py), and whether it was sent."""
    if not r["refunded"]:
        return ""
    state = "refund.state_open" if r["refunds_open"] else "refund.state_settled"
    return f"{t.money(r['refunded'], r['currency']).replace(chr(0xa0), ' ')} · {t.plain(state)}"


async def export_command(update: Update, context: Context) -> None:
    """/export [today|yesterday|7d|30d|all] (default today)."""
    who = await actor(update, context)
    membership = await current_membership(who, context)
    if membership is None:
        await reply(update, who.t("catalog.no_shop"))
        return
    period = (context.args[0].lower() if context.args else "today")
    if period not in PERIODS:
        await reply(update, who.t("export.bad_period", periods=" | ".join(PERIODS)))
        return
    shop = membership.shop
    since, until = period_bounds(period, shop.timezone)
    rows = await services(context).store.orders.export_rows(shop.id, since, until)
    data = render_csv(who.t, rows, shop.timezone)
    name = f"{shop.slug}-orders-{period}.csv"
    await update.effective_chat.send_document(InputFile(data, filename=name),
                                              caption=who.t("export.caption", count=len(rows), period=period))


async def packlist_command(update: Update, context: Context) -> None:
    """/packlist: units to pack per product and per buyer for the current or last live session."""
    who = await actor(update, context)
    membership = await current_membership(who, context)
    if membership is None:
        await reply(update, who.t("catalog.no_shop"))
        return
    store = services(context).store
    shop = membership.shop
    session = await store.live.current_session(shop.id) or await store.live.last_session(shop.id)
    if session is None:
        await reply(update, who.t("packlist.no_session"))
        return
    per_product, per_buyer = await store.orders.pack_list(shop.id, session.started_at, session.ended_at)
    t = who.t
    lines = [t("packlist.title", title=session.title or "", start=t.datetime(session.started_at, shop.timezone))]
    if not per_product:
        lines.append(t("packlist.nothing"))
    else:
        lines.append(t("packlist.per_product"))
        lines += [t("packlist.product_line", name=r["name"], units=r["units"]) for r in per_product]
        lines.append("")
        lines.append(t("packlist.per_buyer"))
        lines += [t("packlist.buyer_line", number=r["number"], recipient=r["recipient"], phone=r["phone"],
                    address=r["address"], items=r["items"]) for r in per_buyer]
    for text in chunks(lines):
        await reply(update, text)
