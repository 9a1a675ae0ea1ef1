"""Staff: the owner invites packers and co-hosts with a one-time link and can remove them.
Staff handle orders; only the owner changes the catalog, the settings and the staff."""

from __future__ import annotations

from telegram import Update

from core import callbacks as taps
from core.i18n import N_
from core.links import invite_link
from core.text import clean_text
from handlers.common import (
    Actor, Context, actor, button, current_membership, keyboard, present, query_of, reply, services, translator_for,
)
from handlers.menu import refresh_commands_for
from storage.outbox import Outgoing
from storage.staff import InviteInvalid

INVITE_PROBLEMS = {"unknown": N_("staff.invite_unknown"), "used": N_("staff.invite_used"),
                   "expired": N_("staff.invite_expired")}


STAFF_PAGE = 20


async def staff_command(update: Update, context: Context) -> None:
    """/staff (or its button): who helps in the shop, remove them, invite someone."""
    who = await actor(update, context)
    if update.callback_query:
        await query_of(update).answer()
    membership = await current_membership(who, context)
    if membership is None or not membership.is_owner:
        await reply(update, who.t("staff.owner_only"))
        return
    store = services(context).store
    t = who.t
    tap = context.button
    page = tap.page if isinstance(tap, taps.StaffList) else 0
    staff = []
    for user_id, role in await store.shops.members(membership.shop.id):
        if role != "staff":
            continue
        user = await store.users.get(user_id)
        staff.append((user_id, (clean_text(user.first_name) if user else "") or str(user_id)))
    names = [name for _, name in staff]
    # A remove button each, a page at a time: Telegram takes 100 buttons per message.
    pages = max(1, -(-len(staff) // STAFF_PAGE))
    page = min(page, pages - 1)
    rows = [[button(t.plain("staff.button_remove", name=name), taps.RemoveStaff(user_id))]
            for user_id, name in staff[page * STAFF_PAGE:(page + 1) * STAFF_PAGE]]
    if pages > 1:
        rows.append(([button("◀", taps.StaffList(page - 1))] if page > 0 else []) +
                    ([button("▶", taps.StaffList(page + 1))] if page + 1 < pages else []))
    rows.append([button(t.plain("staff.button_invite"), taps.InviteStaff())])
    export_all = await store.shops.staff_export_all(membership.shop.id)
    rows.append([button(t.plain("staff.button_export_all" if export_all else "staff.button_export_to_ship"),
                        taps.StaffExportRule(membership.shop.id, 0 if export_all else 1))])
    text = t("staff.title", shop=membership.shop.name) + "\n" + (
        "\n".join(t("staff.member", name=n) for n in names) if names else t("staff.none"))
    text += "\n\n" + t("staff.export_all" if export_all else "staff.export_to_ship")
    await present(update, text, keyboard(rows))


async def on_invite(update: Update, context: Context) -> None:
    who = await actor(update, context)
    membership = await current_membership(who, context)
    if membership is None or not membership.is_owner:
        await query_of(update).answer(who.t.plain("staff.owner_only"), show_alert=True)
        return
    await query_of(update).answer()
    svc = services(context)
    token = await svc.store.staff.invite(membership.shop.id, who.id)
    await reply(update, who.t("staff.invite", shop=membership.shop.name, link=invite_link(svc.bot_username, token)))


async def accept_invite(update: Update, context: Context, who: Actor, token: str) -> None:
    """Someone opened an invite link: they join the shop as staff."""
    svc = services(context)
    try:
        joined = await svc.store.staff.accept(token, who.id)
    except InviteInvalid as exc:
        await reply(update, who.t(INVITE_PROBLEMS[exc.reason]))
        return
    shop = await svc.store.shops.require(joined.shop_id)
    if joined.already_member:
        await reply(update, who.t("staff.already_member", shop=shop.name))
        return
    await svc.store.users.set_current_shop(who.id, shop.id)
    await reply(update, who.t("staff.joined", shop=shop.name))
    await refresh_commands_for(context.bot, svc.store, who.user, who.t)
    owner = await svc.store.users.get(shop.owner_id)
    if owner is not None:
        t = translator_for(owner, svc.config)
        await svc.store.outbox.send_later(Outgoing(owner.id, "sendMessage", {
            "text": t("staff.joined_owner_note", name=clean_text(who.user.first_name) or "?", shop=shop.name),
            "parse_mode": "HTML"}))


async def on_remove(update: Update, context: Context) -> None:
    who = await actor(update, context)
    user_id = context.tap(taps.RemoveStaff).user
    membership = await current_membership(who, context)
    if membership is None or not membership.is_owner:
        await query_of(update).answer(who.t.plain("staff.owner_only"), show_alert=True)
        return
    svc = services(context)
    if not await svc.store.staff.remove(membership.shop.id, user_id):
        await query_of(update).answer(who.t.plain("common.stale_button"))
        return
    removed = await svc.store.users.get(user_id)
    if removed is not None:
        t = translator_for(removed, svc.config)
        await svc.store.outbox.send_later(Outgoing(user_id, "sendMessage", {
            "text": t("staff.removed_note", shop=membership.shop.name), "parse_mode": "HTML"}))
    await staff_command(update, context)


async def on_export_rule(update: Update, context: Context) -> None:
    """The owner decides whether staff may export every order, or only those waiting to ship."""
    who = await actor(update, context)
    tap = context.tap(taps.StaffExportRule)
    shop_id, allowed = tap.shop, tap.export_all
    membership = await services(context).store.shops.membership(who.id, shop_id)
    if membership is None or not membership.is_owner:
        await query_of(update).answer(who.t.plain("staff.owner_only"), show_alert=True)
        return
    await services(context).store.shops.set_staff_export_all(shop_id, bool(allowed))
    await staff_command(update, context)  # answers the tap and shows the new rule
