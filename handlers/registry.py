"""Wires every journey's handlers into the Application, in the order a user meets them."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from telegram import Update
from telegram.ext import (
    Application, CallbackQueryHandler, ChatMemberHandler, CommandHandler, MessageHandler, PreCheckoutQueryHandler,
    TypeHandler, filters,
)

from handlers.common import Context
from handlers import (
    abuse, audience, bulk_ship, cart, catalog, checkout, deals, desk, errors, export, flows, landing, live, my_orders,
    order_select, payments, shop, staff, start,
)
from handlers import conversations, corrections, operator, privacy, settings, summaries, tell, typed_quantity, variants
from handlers import channels, claims, comment_orders, presale, shipping, slips
from core.i18n import N_

# New messages in private chats (not edited ones: see abuse.only_handled_kinds, which also stops them).
PRIVATE = filters.ChatType.PRIVATE & filters.UpdateType.MESSAGE
HandlerCallback = Callable[[Update, Context], Awaitable[None]]


class ButtonRouter:
    """One handler for every inline button: the callback data's action picks the function.

    A dict lookup instead of a chain of ~80 pattern handlers that PTB would try one by one for
    every tap. Data that does not decode, or names no action we know (an old or forged button),
    goes to the fallback.
    """

    def __init__(self, fallback: HandlerCallback) -> None:
        self._routes: dict[str, HandlerCallback] = {}
        self._fallback = fallback

    def add(self, action: str, callback: HandlerCallback) -> None:
        if action in self._routes:
            raise ValueError(f"button action {action!r} registered twice")
        self._routes[action] = callback

    async def __call__(self, update: Update, context: Context) -> None:
        data = context.button
        callback = self._routes.get(data.action, self._fallback) if data is not None else self._fallback
        await callback(update, context)


def register(app: Application) -> None:
    buttons = ButtonRouter(fallback=start.stale_button)

    # Before anything else: only new messages, taps and pre-checkout queries are handled (an edited
    # message never runs a command), and a flooding user goes no further.
    app.add_handler(TypeHandler(Update, abuse.only_handled_kinds), group=-3)
    app.add_handler(TypeHandler(Update, abuse.gate), group=-2)
    # A command ends the conversation it interrupts (then the command's own handler runs).
    app.add_handler(MessageHandler(PRIVATE & filters.COMMAND, flows.on_command), group=-1)
    # Every button tap, first: PTB tries a group's handlers in order, so taps (most updates in a
    # sale) skip the command and message checks. The routes are added journey by journey below.
    app.add_handler(CallbackQueryHandler(buttons))

    # Start, help and the conversation escape hatch.
    app.add_handler(CommandHandler("start", start.start, filters=PRIVATE))
    app.add_handler(CommandHandler("help", start.help_command, filters=PRIVATE))
    app.add_handler(CommandHandler("cancel", start.cancel, filters=PRIVATE))
    app.add_handler(CommandHandler("language", start.language, filters=PRIVATE))
    buttons.add("lang", start.on_language_chosen)

    # Shop setup.
    app.add_handler(CommandHandler("newshop", shop.new_shop, filters=PRIVATE))
    buttons.add("shop.new", shop.new_shop)
    app.add_handler(CommandHandler("myshop", shop.my_shop, filters=PRIVATE))
    buttons.add("shop.card", shop.my_shop)
    buttons.add("shop.use", shop.on_switch_shop)

    # Catalog.
    app.add_handler(CommandHandler("addproduct", catalog.add_product, filters=PRIVATE))
    buttons.add("cat.add", catalog.add_product)
    buttons.add("cat.skip", catalog.on_skip)
    buttons.add("cat.price", catalog.on_price_choice)
    app.add_handler(CommandHandler("products", catalog.list_products, filters=PRIVATE))
    buttons.add("cat.list", catalog.list_products)
    buttons.add("cat.view", catalog.view_product)
    buttons.add("cat.edit", catalog.start_edit)
    buttons.add("cat.nodesc", catalog.remove_description)
    buttons.add("cat.vis", catalog.set_visibility)
    buttons.add("cat.del", catalog.ask_delete)
    buttons.add("cat.delok", catalog.confirm_delete)
    buttons.add("var.view", variants.on_view)
    buttons.add("var.add", variants.on_add)
    buttons.add("var.edit", variants.on_start_edit)
    for action, callback in [("ps.set", presale.on_set), ("ps.now", presale.on_in_stock), ("ps.close", presale.on_close),
                             ("ps.keep", presale.on_keep)]:
        buttons.add(action, callback)
    buttons.add("var.vis", variants.on_visibility)
    buttons.add("var.del", variants.on_ask_delete)
    buttons.add("var.delok", variants.on_confirm_delete)

    # Live links, QR codes and sessions.
    app.add_handler(CommandHandler("live", live.live_command, filters=PRIVATE))
    app.add_handler(CommandHandler("deal", deals.deal_command, filters=PRIVATE))
    for action, callback in [
        ("live.board", live.board), ("live.slot", live.slot_menu), ("live.pick", live.pick_product),
        ("live.pin", live.pin_product), ("live.next", live.put_on_next_free), ("live.clear", live.clear_slot),
        ("live.nextv", live.put_variant_on_next_free),
        ("live.swapfrom", live.swap_from), ("live.swap", live.swap_slots), ("live.qr", live.slot_qr),
        ("live.shopqr", live.shop_qr), ("live.sheet", live.qr_sheet), ("live.start", live.start_session),
        ("live.end", live.end_session), ("live.alert", live.on_alert),
    ]:
        buttons.add(action, callback)

    # Buying: landing on a link, the card, the cart, checkout, the buyer's orders.
    start.set_payload_handler(landing.open_link)
    app.add_handler(CommandHandler("cart", cart.cart_command, filters=PRIVATE))
    app.add_handler(CommandHandler("myorders", my_orders.my_orders, filters=PRIVATE))
    app.add_handler(CommandHandler("following", audience.following_command, filters=PRIVATE))
    buttons.add(audience.FOLLOW_ON, audience.on_follow)
    buttons.add(audience.FOLLOW_OFF, audience.on_follow)
    for action, callback in [
        ("b.shop", landing.on_catalog), ("b.p", landing.on_open_product), ("b.q", landing.on_quantity),
        ("b.v", landing.on_pick_variant),
        ("b.noop", landing.on_noop), ("b.wait", landing.on_notify_when_back),
        ("b.now", checkout.on_buy_now), ("b.use", checkout.on_use_saved), ("b.chg", checkout.on_change_details),
        ("b.note", checkout.on_add_note), ("b.rcp", checkout.on_change_recipient),
        ("b.ph", checkout.on_change_phone), ("b.x", checkout.on_cancel_checkout), ("b.ok", checkout.on_confirm),
        ("b.rg", checkout.on_pick_region),
        ("b.cart", cart.on_add_to_cart), ("c.show", cart.on_show_cart), ("c.set", cart.on_set_quantity),
        ("c.go", cart.on_checkout),
        ("o.mine", my_orders.my_orders), ("o.cancel", my_orders.ask_cancel), ("o.cancelok", my_orders.confirm_cancel),
        ("o.recv", my_orders.confirm_received),
    ]:
        buttons.add(action, callback)
    # A buyer erasing their personal data.
    app.add_handler(CommandHandler("deletemydata", privacy.delete_my_data, filters=PRIVATE))
    buttons.add("pv.ok", privacy.on_erase)
    buttons.add("pv.no", privacy.on_keep)

    # The order desk: owner and staff.
    app.add_handler(CommandHandler("orders", desk.orders_command, filters=PRIVATE))
    app.add_handler(CommandHandler("ship", bulk_ship.ship_command, filters=PRIVATE))
    buttons.add("bs.go", bulk_ship.on_confirm)
    buttons.add("bs.no", bulk_ship.on_cancel)
    buttons.add("d.sel", order_select.on_select)
    buttons.add("d.tog", order_select.on_toggle)
    buttons.add("d.selgo", order_select.on_apply)
    buttons.add("d.sel0", order_select.on_leave)
    app.add_handler(CommandHandler("tell", tell.tell_command, filters=PRIVATE))
    buttons.add("d.fix", corrections.on_fix)
    buttons.add("d.fixf", corrections.on_field)
    buttons.add("o.fix", corrections.on_buyer_fix)
    buttons.add("o.ask", conversations.on_buyer_ask)
    buttons.add("d.ans", conversations.on_shop_answer)
    buttons.add("o.fixf", corrections.on_buyer_field)
    buttons.add("d.rqok", corrections.on_apply)
    buttons.add("d.rqno", corrections.on_decline)
    buttons.add("tl.to", tell.on_audience)
    buttons.add("tl.go", tell.on_send)
    buttons.add("tl.no", tell.on_cancel)
    app.add_handler(CommandHandler("staff", staff.staff_command, filters=PRIVATE))
    app.add_handler(CommandHandler("export", export.export_command, filters=PRIVATE))
    app.add_handler(CommandHandler("packlist", export.packlist_command, filters=PRIVATE))
    for action, callback in [
        ("d.view", desk.on_view), ("d.conf", desk.on_confirm), ("d.ship", desk.on_ship),
        ("d.shipnow", desk.on_ship_without_tracking), ("d.cancel", desk.on_cancel), ("d.done", desk.on_delivered),
        ("d.list", desk.on_list), ("d.rng", desk.on_range),
        ("st.show", staff.staff_command), ("st.inv", staff.on_invite), ("st.rm", staff.on_remove),
        ("st.exp", staff.on_export_rule),
    ]:
        buttons.add(action, callback)

    # Summaries (owner and staff), the owner's settings, and the operators' all-shops summary.
    app.add_handler(CommandHandler("summary", summaries.summary_command, filters=PRIVATE))
    app.add_handler(CommandHandler("settings", settings.settings_command, filters=PRIVATE))
    app.add_handler(CommandHandler("admin", operator.admin_command, filters=PRIVATE))
    app.add_handler(CommandHandler("shipping", shipping.shipping_command, filters=PRIVATE))
    app.add_handler(CommandHandler("slips", slips.slips_command, filters=PRIVATE))
    app.add_handler(CommandHandler("claims", claims.claims_command, filters=PRIVATE))
    # The shop's channel and group: the bot made an administrator there, then posts and their edits.
    app.add_handler(ChatMemberHandler(channels.on_my_chat_member, ChatMemberHandler.MY_CHAT_MEMBER))
    # Orders typed in a connected group during a live ("1 x2"), answered once per burst.
    app.add_handler(MessageHandler(filters.ChatType.GROUPS & filters.UpdateType.MESSAGE & filters.TEXT
                                   & ~filters.COMMAND, comment_orders.on_group_message))
    for action, callback in [
        ("sum.p", summaries.on_period), ("adm.p", summaries.on_admin_period), ("set.show", settings.on_show),
        ("set.ask", settings.on_ask), ("set.tz", settings.on_zone_picked), ("set.onoff", settings.on_toggle),
        ("sh.pre", shipping.on_preset), ("sh.ask", shipping.on_ask), ("sh.off", shipping.on_off),
        ("slip.p", slips.on_pack_slips), ("d.slip", slips.on_order_slip), ("o.again", slips.on_order_again),
        # Damaged-goods claims: the policy, the buyer's claim, the shop's decision.
        ("clp.on", claims.on_policy_toggle), ("clp.ask", claims.on_policy_ask), ("o.dmg", claims.on_damage),
        ("cl.l", claims.on_line), ("cl.u", claims.on_units), ("cl.send", claims.on_send), ("cl.x", claims.on_cancel),
        ("cl.ok", claims.on_approve), ("cl.amt", claims.on_ask_amount), ("cl.no", claims.on_reject),
        ("ch.c", channels.on_connect), ("ch.p", channels.on_post_product), ("ch.b", channels.on_post_board),
    ]:
        buttons.add(action, callback)

    # Payments: choosing a method, the merchant's receive code, Telegram Payments, the shop's settings.
    app.add_handler(PreCheckoutQueryHandler(payments.on_pre_checkout))
    app.add_handler(MessageHandler(PRIVATE & filters.SUCCESSFUL_PAYMENT, payments.on_successful_payment))
    app.add_handler(CommandHandler("payments", payments.payments_command, filters=PRIVATE))
    for action, callback in [
        ("b.m", checkout.on_pick_method), ("pay.claim", payments.on_claim), ("pay.ok", payments.on_received),
        ("pay.no", payments.on_not_received), ("pay.set", payments.payments_command),
        ("pay.tog", payments.on_toggle_method), ("pay.tmo", payments.on_timeout), ("pay.code", payments.on_upload_code),
        ("rf.ok", payments.on_settle_refund),
    ]:
        buttons.add(action, callback)

    # Conversations: which handler takes what a user types or sends at each stored conversation
    # (storage/flows.py keeps where they are, across restarts).
    flows.add_flow(shop.FLOW_NEW_SHOP, shop.on_shop_name)
    flows.add_flow(catalog.FLOW_ADD, catalog.on_add_input)
    flows.add_flow(catalog.FLOW_EDIT, catalog.on_edit_input)
    flows.add_flow(variants.FLOW, variants.on_input)
    flows.add_flow(landing.FLOW_CARD, typed_quantity.on_typed_quantity, quiet=True)  # the card looked at
    flows.add_flow(checkout.FLOW, checkout.on_input, interrupted=N_("checkout.cancelled"))
    flows.add_flow(desk.FLOW_SHIP, desk.on_ship_input)
    flows.add_flow(desk.FLOW_CANCEL, desk.on_cancel_input)
    flows.add_flow(bulk_ship.FLOW_BULK_SHIP, bulk_ship.on_input)
    flows.add_flow(tell.FLOW, tell.on_input)
    flows.add_flow(corrections.FLOW, corrections.on_input)
    flows.add_flow(corrections.BUYER_FLOW, corrections.on_buyer_input)
    flows.add_flow(conversations.BUYER_FLOW, conversations.on_buyer_message)
    flows.add_flow(conversations.SHOP_FLOW, conversations.on_shop_message)
    flows.add_flow(order_select.FLOW_SELECT, order_select.on_typed, quiet=True)  # the check boxes of /orders
    flows.add_flow(settings.FLOW_SETTINGS, settings.on_settings_input)
    flows.add_flow(shipping.FLOW, shipping.on_input)
    flows.add_flow(presale.FLOW, presale.on_input)
    flows.add_flow(claims.FLOW, claims.on_input)
    flows.add_flow(claims.SHOP_FLOW, claims.on_decision_input)
    flows.add_flow(claims.POLICY_FLOW, claims.on_policy_input)
    flows.add_flow(payments.FLOW_PROOF, payments.on_proof)
    flows.add_flow(payments.FLOW_PAY_SETTINGS, payments.on_code_photo)
    flows.set_photo_outside_flow(catalog.on_captioned_photo)  # a captioned photo adds a product

    # Anything else typed or sent continues the user's conversation.
    app.add_handler(MessageHandler(PRIVATE & ~filters.COMMAND, flows.on_plain_message))
    app.add_handler(MessageHandler(PRIVATE & filters.COMMAND, start.unknown_command))

    app.add_error_handler(errors.on_error)
