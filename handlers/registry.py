"""Wires every journey's handlers into the Application, in the order a user meets them."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from telegram import Update
from telegram.ext import (
    Application, CallbackQueryHandler, ChatMemberHandler, CommandHandler, MessageHandler, PreCheckoutQueryHandler,
    TypeHandler, filters,
)

from core import callbacks as taps
from core.callbacks import TAPS, Tap
from handlers.common import Context
from handlers.flows import Conversation, Conversations, Step
from handlers import (
    abuse, audience, bulk_ship, cart, catalog, checkout, deals, desk, errors, export, landing, live, my_orders,
    order_select, payments, shop, staff, start,
)
from handlers import conversations, corrections, operator, privacy, settings, summaries, tell, typed_quantity, variants
from handlers import channels, claims, comment_orders, contact_shared, presale, shipping, slips
from core.i18n import N_

# New messages in private chats (not edited ones: see abuse.only_handled_kinds, which also stops them).
PRIVATE = filters.ChatType.PRIVATE & filters.UpdateType.MESSAGE
HandlerCallback = Callable[[Update, Context], Awaitable[None]]


class ButtonRouter:
    """One handler for every inline button: the callback data's action picks the function.

    The callback data was read into its typed class (core/callbacks.py) once, when the update's
    context was made; the class picks the function. For a button that a conversation declares
    for some of its steps, the user's conversation is read first when at one of them, and the
    handler acts only then (handlers/flows.py, `flow_of_tap`). A dict lookup instead of a chain of ~130
    pattern handlers that PTB would try one by one for every tap. Data that does not read (an old
    or forged button, a number out of its field's range) goes to the fallback.
    """

    def __init__(self, conversations: Conversations, fallback: HandlerCallback) -> None:
        self._routes: dict[type[Tap], HandlerCallback] = {}
        self._conversations = conversations
        self._fallback = fallback

    def add(self, kind: type[Tap], callback: HandlerCallback) -> None:
        if kind in self._routes:
            raise ValueError(f"button {kind.__name__} ({kind.ACTION}) registered twice")
        self._routes[kind] = callback

    def unrouted(self) -> list[type[Tap]]:
        """Button kinds no handler takes (a test keeps this empty)."""
        return [kind for kind in TAPS.values() if kind not in self._routes]

    async def __call__(self, update: Update, context: Context) -> None:
        tap = context.button  # decoded once, typed, when the context was made (handlers/common.py)
        callback = self._routes.get(type(tap), self._fallback) if tap is not None else self._fallback
        if tap is not None:  # a button declared for some steps finds its conversation read
            await self._conversations.read_for_tap(update, context, type(tap))
        await callback(update, context)


def register(app: Application) -> None:
    talks = Conversations()  # declared below, with the journeys (handlers/flows.py)
    app.bot_data["conversations"] = talks
    buttons = ButtonRouter(talks, fallback=start.stale_button)

    # Before anything else: only new messages, taps and pre-checkout queries are handled (an edited
    # message never runs a command), and a flooding user goes no further.
    app.add_handler(TypeHandler(Update, abuse.only_handled_kinds), group=-3)
    app.add_handler(TypeHandler(Update, abuse.gate), group=-2)
    # A command ends the conversation it interrupts (then the command's own handler runs).
    app.add_handler(MessageHandler(PRIVATE & filters.COMMAND, talks.on_command), group=-1)
    # Every button tap, first: PTB tries a group's handlers in order, so taps (most updates in a
    # sale) skip the command and message checks. The routes are added journey by journey below.
    app.add_handler(CallbackQueryHandler(buttons))

    # Start, help and the conversation escape hatch.
    app.add_handler(CommandHandler("start", start.start, filters=PRIVATE))
    app.add_handler(CommandHandler("help", start.help_command, filters=PRIVATE))
    app.add_handler(CommandHandler("cancel", start.cancel, filters=PRIVATE))
    app.add_handler(CommandHandler("language", start.language, filters=PRIVATE))
    buttons.add(taps.ChooseLanguage, start.on_language_chosen)

    # Shop setup.
    app.add_handler(CommandHandler("newshop", shop.new_shop, filters=PRIVATE))
    buttons.add(taps.OpenShop, shop.new_shop)
    app.add_handler(CommandHandler("myshop", shop.my_shop, filters=PRIVATE))
    buttons.add(taps.MyShop, shop.my_shop)
    buttons.add(taps.SwitchShop, shop.on_switch_shop)

    # Catalog.
    app.add_handler(CommandHandler("addproduct", catalog.add_product, filters=PRIVATE))
    buttons.add(taps.AddProduct, catalog.add_product)
    buttons.add(taps.SkipAddStep, catalog.on_skip)
    buttons.add(taps.PickPrice, catalog.on_price_choice)
    app.add_handler(CommandHandler("products", catalog.list_products, filters=PRIVATE))
    buttons.add(taps.ProductList, catalog.list_products)
    buttons.add(taps.ViewProduct, catalog.view_product)
    buttons.add(taps.EditProduct, catalog.start_edit)
    buttons.add(taps.RemoveDescription, catalog.remove_description)
    buttons.add(taps.SetProductHidden, catalog.set_visibility)
    buttons.add(taps.AskDeleteProduct, catalog.ask_delete)
    buttons.add(taps.DeleteProduct, catalog.confirm_delete)
    buttons.add(taps.ViewVariant, variants.on_view)
    buttons.add(taps.AddVariant, variants.on_add)
    buttons.add(taps.EditVariant, variants.on_start_edit)
    buttons.add(taps.SetPresale, presale.on_set)
    buttons.add(taps.PresaleInStock, presale.on_in_stock)
    buttons.add(taps.ClosePresale, presale.on_close)
    buttons.add(taps.KeepMovedOrder, presale.on_keep)
    buttons.add(taps.SetVariantHidden, variants.on_visibility)
    buttons.add(taps.AskDeleteVariant, variants.on_ask_delete)
    buttons.add(taps.DeleteVariant, variants.on_confirm_delete)

    # Live links, QR codes and sessions.
    app.add_handler(CommandHandler("live", live.live_command, filters=PRIVATE))
    app.add_handler(CommandHandler("deal", deals.deal_command, filters=PRIVATE))
    buttons.add(taps.LiveBoard, live.board)
    buttons.add(taps.SlotMenu, live.slot_menu)
    buttons.add(taps.PickForSlot, live.pick_product)
    buttons.add(taps.PutOnSlot, live.pin_product)
    buttons.add(taps.PutOnNextSlot, live.put_on_next_free)
    buttons.add(taps.ClearSlot, live.clear_slot)
    buttons.add(taps.PutVariantOnNextSlot, live.put_variant_on_next_free)
    buttons.add(taps.SwapFrom, live.swap_from)
    buttons.add(taps.SwapSlots, live.swap_slots)
    buttons.add(taps.SlotQr, live.slot_qr)
    buttons.add(taps.ShopQr, live.shop_qr)
    buttons.add(taps.QrSheet, live.qr_sheet)
    buttons.add(taps.StartSession, live.start_session)
    buttons.add(taps.EndSession, live.end_session)
    buttons.add(taps.AlertFollowers, live.on_alert)

    # Buying: landing on a link, the card, the cart, checkout, the buyer's orders.
    start.set_payload_handler(landing.open_link)
    app.add_handler(CommandHandler("cart", cart.cart_command, filters=PRIVATE))
    app.add_handler(CommandHandler("myorders", my_orders.my_orders, filters=PRIVATE))
    app.add_handler(CommandHandler("following", audience.following_command, filters=PRIVATE))
    buttons.add(taps.Follow, audience.on_follow)
    buttons.add(taps.Unfollow, audience.on_follow)
    buttons.add(taps.ShopCatalog, landing.on_catalog)
    buttons.add(taps.OpenProduct, landing.on_open_product)
    buttons.add(taps.SetCardQuantity, landing.on_quantity)
    buttons.add(taps.PickVariant, landing.on_pick_variant)
    buttons.add(taps.Noop, landing.on_noop)
    buttons.add(taps.NotifyWhenBack, landing.on_notify_when_back)
    buttons.add(taps.BuyNow, checkout.on_buy_now)
    buttons.add(taps.UseSaved, checkout.on_use_saved)
    buttons.add(taps.ChangeAddress, checkout.on_change_details)
    buttons.add(taps.AddNote, checkout.on_add_note)
    buttons.add(taps.ChangeRecipient, checkout.on_change_recipient)
    buttons.add(taps.ChangePhone, checkout.on_change_phone)
    buttons.add(taps.CancelCheckout, checkout.on_cancel_checkout)
    buttons.add(taps.Confirm, checkout.on_confirm)
    buttons.add(taps.PickRegion, checkout.on_pick_region)
    buttons.add(taps.AddToCart, cart.on_add_to_cart)
    buttons.add(taps.ShowCart, cart.on_show_cart)
    buttons.add(taps.SetCartLine, cart.on_set_quantity)
    buttons.add(taps.CartCheckout, cart.on_checkout)
    buttons.add(taps.MyOrders, my_orders.my_orders)
    buttons.add(taps.AskCancelOrder, my_orders.ask_cancel)
    buttons.add(taps.CancelOrder, my_orders.confirm_cancel)
    buttons.add(taps.Received, my_orders.confirm_received)
    # A buyer erasing their personal data.
    app.add_handler(CommandHandler("deletemydata", privacy.delete_my_data, filters=PRIVATE))
    buttons.add(taps.EraseMyData, privacy.on_erase)
    buttons.add(taps.KeepMyData, privacy.on_keep)

    # The order desk: owner and staff.
    app.add_handler(CommandHandler("orders", desk.orders_command, filters=PRIVATE))
    app.add_handler(CommandHandler("ship", bulk_ship.ship_command, filters=PRIVATE))
    buttons.add(taps.BulkShip, bulk_ship.on_confirm)
    buttons.add(taps.CancelBulkShip, bulk_ship.on_cancel)
    buttons.add(taps.StartSelect, order_select.on_select)
    buttons.add(taps.ToggleSelected, order_select.on_toggle)
    buttons.add(taps.ApplySelected, order_select.on_apply)
    buttons.add(taps.LeaveSelect, order_select.on_leave)
    app.add_handler(CommandHandler("tell", tell.tell_command, filters=PRIVATE))
    buttons.add(taps.ShopFix, corrections.on_fix)
    buttons.add(taps.ShopFixField, corrections.on_field)
    buttons.add(taps.BuyerFix, corrections.on_buyer_fix)
    buttons.add(taps.AskShop, conversations.on_buyer_ask)
    buttons.add(taps.WriteBuyer, conversations.on_shop_answer)
    buttons.add(taps.BuyerFixField, corrections.on_buyer_field)
    buttons.add(taps.ApplyFix, corrections.on_apply)
    buttons.add(taps.DeclineFix, corrections.on_decline)
    buttons.add(taps.TellAudience, tell.on_audience)
    buttons.add(taps.TellSend, tell.on_send)
    buttons.add(taps.TellCancel, tell.on_cancel)
    app.add_handler(CommandHandler("staff", staff.staff_command, filters=PRIVATE))
    app.add_handler(CommandHandler("export", export.export_command, filters=PRIVATE))
    app.add_handler(CommandHandler("packlist", export.packlist_command, filters=PRIVATE))
    buttons.add(taps.ViewOrder, desk.on_view)
    buttons.add(taps.ConfirmOrder, desk.on_confirm)
    buttons.add(taps.ShipOrder, desk.on_ship)
    buttons.add(taps.ShipWithoutTracking, desk.on_ship_without_tracking)
    buttons.add(taps.CancelByShop, desk.on_cancel)
    buttons.add(taps.Delivered, desk.on_delivered)
    buttons.add(taps.OrderList, desk.on_list)
    buttons.add(taps.OrderRange, desk.on_range)
    buttons.add(taps.StaffList, staff.staff_command)
    buttons.add(taps.InviteStaff, staff.on_invite)
    buttons.add(taps.RemoveStaff, staff.on_remove)
    buttons.add(taps.StaffExportRule, staff.on_export_rule)

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
    buttons.add(taps.SummaryPeriod, summaries.on_period)
    buttons.add(taps.AllShopsPeriod, summaries.on_admin_period)
    buttons.add(taps.ShowSettings, settings.on_show)
    buttons.add(taps.AskSetting, settings.on_ask)
    buttons.add(taps.PickTimeZone, settings.on_zone_picked)
    buttons.add(taps.SummariesOnOff, settings.on_toggle)
    buttons.add(taps.SetOpensIn, settings.on_opens_in)
    buttons.add(taps.ShippingPreset, shipping.on_preset)
    buttons.add(taps.AskShipping, shipping.on_ask)
    buttons.add(taps.ShippingOff, shipping.on_off)
    buttons.add(taps.PackSlips, slips.on_pack_slips)
    buttons.add(taps.OrderSlip, slips.on_order_slip)
    buttons.add(taps.OrderAgain, slips.on_order_again)
    # Damaged-goods claims: the policy, the buyer's claim, the shop's decision.
    buttons.add(taps.ClaimsOnOff, claims.on_policy_toggle)
    buttons.add(taps.AskClaimPolicy, claims.on_policy_ask)
    buttons.add(taps.ReportDamage, claims.on_damage)
    buttons.add(taps.ClaimLine, claims.on_line)
    buttons.add(taps.ClaimUnits, claims.on_units)
    buttons.add(taps.SendClaim, claims.on_send)
    buttons.add(taps.DropClaim, claims.on_cancel)
    buttons.add(taps.ApproveClaim, claims.on_approve)
    buttons.add(taps.ClaimOtherAmount, claims.on_ask_amount)
    buttons.add(taps.RejectClaim, claims.on_reject)
    buttons.add(taps.ConnectChat, channels.on_connect)
    buttons.add(taps.PostProduct, channels.on_post_product)
    buttons.add(taps.PostBoard, channels.on_post_board)

    # Payments: choosing a method, the merchant's receive code, Telegram Payments, the shop's settings.
    app.add_handler(PreCheckoutQueryHandler(payments.on_pre_checkout))
    app.add_handler(MessageHandler(PRIVATE & filters.SUCCESSFUL_PAYMENT, payments.on_successful_payment))
    app.add_handler(CommandHandler("payments", payments.payments_command, filters=PRIVATE))
    buttons.add(taps.PickMethod, checkout.on_pick_method)
    buttons.add(taps.ClaimPaid, payments.on_claim)
    buttons.add(taps.PaymentReceived, payments.on_received)
    buttons.add(taps.PaymentNotReceived, payments.on_not_received)
    buttons.add(taps.PaymentSettings, payments.payments_command)
    buttons.add(taps.TogglePaymentMethod, payments.on_toggle_method)
    buttons.add(taps.PaymentTimeout, payments.on_timeout)
    buttons.add(taps.UploadPaymentCode, payments.on_upload_code)
    buttons.add(taps.RefundSettled, payments.on_settle_refund)

    # Conversations: each one's steps, what the user may type or send at each (`typed`) and the
    # buttons that act only there. Where a user is stays in storage (storage/flows.py), across restarts.
    talks.add(Conversation(shop.FLOW_NEW_SHOP, {
        shop.NewShopStep.NAME: Step(typed=shop.on_shop_name),
    }))
    talks.add(Conversation(catalog.FLOW_ADD, {
        catalog.AddStep.NAME: Step(typed=catalog.on_add_text),
        catalog.AddStep.PRICE: Step(typed=catalog.on_add_text),
        catalog.AddStep.STOCK: Step(typed=catalog.on_add_text),
        catalog.AddStep.PHOTO: Step(typed=catalog.on_add_photo, buttons=(taps.SkipAddStep,)),
        catalog.AddStep.DESCRIPTION: Step(typed=catalog.on_add_text, buttons=(taps.SkipAddStep,)),
        catalog.AddStep.PRICE_CHOICE: Step(typed=catalog.on_price_choice_typed, buttons=(taps.PickPrice,)),
    }))
    talks.add(Conversation(catalog.FLOW_EDIT, {
        catalog.EditField.NAME: Step(typed=catalog.on_edit_text),
        catalog.EditField.PRICE: Step(typed=catalog.on_edit_text),
        catalog.EditField.DESCRIPTION: Step(typed=catalog.on_edit_text),
        catalog.EditField.STOCK: Step(typed=catalog.on_edit_stock),
        catalog.EditField.PHOTO: Step(typed=catalog.on_edit_photo),
        catalog.EditField.LIMIT: Step(typed=catalog.on_edit_limit),
    }))
    talks.add(Conversation(variants.FLOW, {
        variants.VariantStep.ADD: Step(typed=variants.on_line),
        variants.VariantStep.NAME: Step(typed=variants.on_edit_text),
        variants.VariantStep.PRICE: Step(typed=variants.on_edit_text),
        variants.VariantStep.STOCK: Step(typed=variants.on_edit_stock),
        variants.VariantStep.LIMIT: Step(typed=variants.on_edit_limit),
        variants.VariantStep.PHOTO: Step(typed=variants.on_edit_photo),
    }))
    talks.add(Conversation(presale.FLOW, {
        presale.PresaleStep.DATE: Step(typed=presale.on_input),
    }))
    talks.add(Conversation(landing.FLOW_CARD, {  # the card a buyer looks at: a number typed sets its quantity
        landing.CardStep.QUANTITY: Step(typed=typed_quantity.on_typed_quantity),
    }, quiet=True))
    talks.add(Conversation(checkout.FLOW, {
        checkout.CheckoutStep.PHONE: Step(typed=checkout.on_phone),
        checkout.CheckoutStep.RECIPIENT: Step(typed=checkout.on_recipient),
        checkout.CheckoutStep.ADDRESS: Step(typed=checkout.on_address),
        checkout.CheckoutStep.NOTE: Step(typed=checkout.on_note),
        checkout.CheckoutStep.REGION: Step(buttons=(taps.PickRegion,)),
        checkout.CheckoutStep.CONFIRM: Step(buttons=(
            taps.Confirm, taps.PickMethod, taps.ChangeRecipient, taps.ChangePhone, taps.AddNote, taps.UseSaved)),
    }, buttons=(taps.CancelCheckout, taps.ChangeAddress), interrupted=N_("checkout.cancelled"),
        use_buttons=N_("checkout.use_buttons"), stale=checkout.on_stale_tap))
    talks.add(Conversation(payments.FLOW_PROOF, {
        payments.ProofStep.PHOTO: Step(typed=payments.on_proof),
    }))
    talks.add(Conversation(payments.FLOW_PAY_SETTINGS, {
        payments.PayCodeStep.CODE: Step(typed=payments.on_code_photo),
    }))
    talks.add(Conversation(desk.FLOW_SHIP, {
        desk.ShipStep.TRACKING: Step(typed=desk.on_ship_input),
    }))
    talks.add(Conversation(desk.FLOW_CANCEL, {
        desk.CancelStep.REASON: Step(typed=desk.on_cancel_input),
    }))
    talks.add(Conversation(bulk_ship.FLOW_BULK_SHIP, {
        bulk_ship.BulkShipStep.LIST: Step(typed=bulk_ship.on_input),
        bulk_ship.BulkShipStep.CONFIRM: Step(typed=bulk_ship.on_input, buttons=(taps.BulkShip,)),
    }, stale=N_("desk.bulk_already_done")))
    talks.add(Conversation(order_select.FLOW_SELECT, {  # the check boxes of /orders
        order_select.SelectStep.PICK: Step(typed=order_select.on_typed, buttons=(
            taps.ToggleSelected, taps.ApplySelected)),
    }, quiet=True))
    talks.add(Conversation(tell.FLOW, {
        tell.TellStep.TEXT: Step(typed=tell.on_input),
        tell.TellStep.CONFIRM: Step(buttons=(taps.TellSend,)),
    }, use_buttons=N_("tell.use_buttons")))
    talks.add(Conversation(corrections.FLOW, {
        corrections.FixField.RECIPIENT: Step(typed=corrections.on_input),
        corrections.FixField.PHONE: Step(typed=corrections.on_input),
        corrections.FixField.ADDRESS: Step(typed=corrections.on_input),
    }))
    talks.add(Conversation(corrections.BUYER_FLOW, {
        corrections.FixField.RECIPIENT: Step(typed=corrections.on_buyer_input),
        corrections.FixField.PHONE: Step(typed=corrections.on_buyer_input),
        corrections.FixField.ADDRESS: Step(typed=corrections.on_buyer_input),
    }))
    talks.add(Conversation(conversations.BUYER_FLOW, {
        conversations.MessageStep.MESSAGE: Step(typed=conversations.on_buyer_message),
    }))
    talks.add(Conversation(conversations.SHOP_FLOW, {
        conversations.MessageStep.MESSAGE: Step(typed=conversations.on_shop_message),
    }))
    talks.add(Conversation(settings.FLOW_SETTINGS, {
        settings.SettingStep.TIME: Step(typed=settings.on_settings_input),
        settings.SettingStep.TIMEZONE: Step(typed=settings.on_settings_input),
        settings.SettingStep.LOW_STOCK: Step(typed=settings.on_settings_input),
        settings.SettingStep.HOLD: Step(typed=settings.on_settings_input),
    }))
    talks.add(Conversation(shipping.FLOW, {
        shipping.ShippingStep.DEFAULT: Step(typed=shipping.on_input),
        shipping.ShippingStep.FREE: Step(typed=shipping.on_input),
        shipping.ShippingStep.UNIT: Step(typed=shipping.on_input),
        shipping.ShippingStep.KG: Step(typed=shipping.on_input),
        shipping.ShippingStep.REGIONS: Step(typed=shipping.on_input),
    }))
    talks.add(Conversation(claims.FLOW, {
        claims.ClaimStep.PHOTOS: Step(typed=claims.on_input, buttons=(taps.SendClaim,)),
    }))
    talks.add(Conversation(claims.SHOP_FLOW, {
        claims.DecisionStep.AMOUNT: Step(typed=claims.on_decision_amount),
        claims.DecisionStep.REASON: Step(typed=claims.on_decision_reason),
    }))
    talks.add(Conversation(claims.POLICY_FLOW, {
        claims.PolicyStep.WINDOW: Step(typed=claims.on_policy_input),
        claims.PolicyStep.PAYBACK: Step(typed=claims.on_policy_input),
        claims.PolicyStep.TEXT: Step(typed=claims.on_policy_input),
    }))
    talks.set_photo_outside(catalog.on_captioned_photo)  # a captioned photo adds a product
    talks.set_contact_outside(contact_shared.on_contact)  # the Mini App's contact request posts one

    # Anything else typed or sent continues the user's conversation.
    app.add_handler(MessageHandler(PRIVATE & ~filters.COMMAND, talks.on_plain_message))
    app.add_handler(MessageHandler(PRIVATE & filters.COMMAND, start.unknown_command))

    app.add_error_handler(errors.on_error)
