"""Wires every journey's handlers into the Application, in the order a user meets them."""

from __future__ import annotations

from telegram import Update
from telegram.ext import (
    Application, CallbackQueryHandler, CommandHandler, MessageHandler, PreCheckoutQueryHandler, TypeHandler, filters,
)

from core.callbacks import pattern
from handlers import (
    abuse, cart, catalog, checkout, desk, errors, export, flows, landing, live, my_orders, payments, shop, staff,
    start,
)
from handlers import settings, summaries

PRIVATE = filters.ChatType.PRIVATE


def register(app: Application) -> None:
    # Before anything else: a flooding user goes no further.
    app.add_handler(TypeHandler(Update, abuse.gate), group=-1)

    # Start, help and the conversation escape hatch.
    app.add_handler(CommandHandler("start", start.start, filters=PRIVATE))
    app.add_handler(CommandHandler("help", start.help_command, filters=PRIVATE))
    app.add_handler(CommandHandler("cancel", start.cancel, filters=PRIVATE))
    app.add_handler(CommandHandler("language", start.language, filters=PRIVATE))
    app.add_handler(CallbackQueryHandler(start.on_language_chosen, pattern=pattern("lang")))

    # Shop setup.
    app.add_handler(CommandHandler("newshop", shop.new_shop, filters=PRIVATE))
    app.add_handler(CallbackQueryHandler(shop.new_shop, pattern=pattern("shop.new")))
    app.add_handler(CommandHandler("myshop", shop.my_shop, filters=PRIVATE))
    app.add_handler(CallbackQueryHandler(shop.my_shop, pattern=pattern("shop.card")))
    app.add_handler(CallbackQueryHandler(shop.on_switch_shop, pattern=pattern("shop.use")))

    # Catalog.
    app.add_handler(CommandHandler("addproduct", catalog.add_product, filters=PRIVATE))
    app.add_handler(CallbackQueryHandler(catalog.add_product, pattern=pattern("cat.add")))
    app.add_handler(CallbackQueryHandler(catalog.on_skip, pattern=pattern("cat.skip")))
    app.add_handler(CommandHandler("products", catalog.list_products, filters=PRIVATE))
    app.add_handler(CallbackQueryHandler(catalog.list_products, pattern=pattern("cat.list")))
    app.add_handler(CallbackQueryHandler(catalog.view_product, pattern=pattern("cat.view")))
    app.add_handler(CallbackQueryHandler(catalog.start_edit, pattern=pattern("cat.edit")))
    app.add_handler(CallbackQueryHandler(catalog.remove_description, pattern=pattern("cat.nodesc")))
    app.add_handler(CallbackQueryHandler(catalog.set_visibility, pattern=pattern("cat.vis")))
    app.add_handler(CallbackQueryHandler(catalog.ask_delete, pattern=pattern("cat.del")))
    app.add_handler(CallbackQueryHandler(catalog.confirm_delete, pattern=pattern("cat.delok")))

    # Live links, QR codes and sessions.
    app.add_handler(CommandHandler("live", live.live_command, filters=PRIVATE))
    for action, callback in [
        ("live.board", live.board), ("live.slot", live.slot_menu), ("live.pick", live.pick_product),
        ("live.pin", live.pin_product), ("live.next", live.put_on_next_free), ("live.clear", live.clear_slot),
        ("live.swapfrom", live.swap_from), ("live.swap", live.swap_slots), ("live.qr", live.slot_qr),
        ("live.shopqr", live.shop_qr), ("live.sheet", live.qr_sheet), ("live.start", live.start_session),
        ("live.end", live.end_session),
    ]:
        app.add_handler(CallbackQueryHandler(callback, pattern=pattern(action)))

    # Buying: landing on a link, the card, the cart, checkout, the buyer's orders.
    start.set_payload_handler(landing.open_link)
    app.add_handler(CommandHandler("cart", cart.cart_command, filters=PRIVATE))
    app.add_handler(CommandHandler("myorders", my_orders.my_orders, filters=PRIVATE))
    for action, callback in [
        ("b.shop", landing.on_catalog), ("b.p", landing.on_open_product), ("b.q", landing.on_quantity),
        ("b.noop", landing.on_noop), ("b.wait", landing.on_notify_when_back),
        ("b.now", checkout.on_buy_now), ("b.use", checkout.on_use_saved), ("b.chg", checkout.on_change_details),
        ("b.note", checkout.on_add_note), ("b.x", checkout.on_cancel_checkout), ("b.ok", checkout.on_confirm),
        ("b.cart", cart.on_add_to_cart), ("c.show", cart.on_show_cart), ("c.set", cart.on_set_quantity),
        ("c.go", cart.on_checkout),
        ("o.mine", my_orders.my_orders), ("o.cancel", my_orders.ask_cancel), ("o.cancelok", my_orders.confirm_cancel),
        ("o.recv", my_orders.confirm_received),
    ]:
        app.add_handler(CallbackQueryHandler(callback, pattern=pattern(action)))

    # The order desk: owner and staff.
    app.add_handler(CommandHandler("orders", desk.orders_command, filters=PRIVATE))
    app.add_handler(CommandHandler("staff", staff.staff_command, filters=PRIVATE))
    app.add_handler(CommandHandler("export", export.export_command, filters=PRIVATE))
    app.add_handler(CommandHandler("packlist", export.packlist_command, filters=PRIVATE))
    for action, callback in [
        ("d.view", desk.on_view), ("d.conf", desk.on_confirm), ("d.ship", desk.on_ship),
        ("d.shipnow", desk.on_ship_without_tracking), ("d.cancel", desk.on_cancel), ("d.done", desk.on_delivered),
        ("d.list", desk.on_list), ("d.rng", desk.on_range),
        ("st.show", staff.staff_command), ("st.inv", staff.on_invite), ("st.rm", staff.on_remove),
    ]:
        app.add_handler(CallbackQueryHandler(callback, pattern=pattern(action)))

    # Summaries (owner and staff), the owner's settings, and the operators' all-shops summary.
    app.add_handler(CommandHandler("summary", summaries.summary_command, filters=PRIVATE))
    app.add_handler(CommandHandler("settings", settings.settings_command, filters=PRIVATE))
    app.add_handler(CommandHandler("admin", summaries.admin_command, filters=PRIVATE))
    for action, callback in [
        ("sum.p", summaries.on_period), ("adm.p", summaries.on_admin_period), ("set.show", settings.on_show),
        ("set.ask", settings.on_ask), ("set.tz", settings.on_zone_picked), ("set.onoff", settings.on_toggle),
    ]:
        app.add_handler(CallbackQueryHandler(callback, pattern=pattern(action)))

    # Payments: choosing a method, the merchant's receive code, Telegram Payments, the shop's settings.
    app.add_handler(PreCheckoutQueryHandler(payments.on_pre_checkout))
    app.add_handler(MessageHandler(PRIVATE & filters.SUCCESSFUL_PAYMENT, payments.on_successful_payment))
    app.add_handler(CommandHandler("payments", payments.payments_command, filters=PRIVATE))
    for action, callback in [
        ("b.m", checkout.on_pick_method), ("pay.claim", payments.on_claim), ("pay.ok", payments.on_received),
        ("pay.no", payments.on_not_received), ("pay.set", payments.payments_command),
        ("pay.tog", payments.on_toggle_method), ("pay.tmo", payments.on_timeout), ("pay.code", payments.on_upload_code),
    ]:
        app.add_handler(CallbackQueryHandler(callback, pattern=pattern(action)))

    # Anything else typed or sent continues the user's conversation.
    app.add_handler(MessageHandler(PRIVATE & ~filters.COMMAND, flows.on_plain_message))
    app.add_handler(MessageHandler(PRIVATE & filters.COMMAND, start.unknown_command))
    app.add_handler(CallbackQueryHandler(start.stale_button))

    app.add_error_handler(errors.on_error)
