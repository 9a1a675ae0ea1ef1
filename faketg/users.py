"""FakeUser: a Telegram user a test drives like a person with a phone.

Every action builds the update Telegram would send, queues it for
getUpdates, then awaits ``tg.settle()`` so the bot has reacted by the time
the action returns (when the test harness installed a settle hook).  Each
action returns what it created: the message, the callback query record or
the pre-checkout record.
"""

from __future__ import annotations

import time

from typing import TYPE_CHECKING, Any

from .errors import ApiError
from .markup import find_button, inline_rows
from .media import make_png
from .model import FakeCallbackQuery, FakeChat, FakeMessage, FakePreCheckout
from .text import find_bot_commands

if TYPE_CHECKING:
    from .server import FakeTelegram

DEFAULT_LOCATION = (31.2304, 121.4737)  # Shanghai


# What Telegram says an administrator bot may do (ChatMemberAdministrator's required fields).
_ADMIN_RIGHTS = {
    "can_be_edited": False, "is_anonymous": False, "can_manage_chat": True, "can_delete_messages": True,
    "can_manage_video_chats": False, "can_restrict_members": False, "can_promote_members": False,
    "can_change_info": False, "can_invite_users": True, "can_post_stories": False, "can_edit_stories": False,
    "can_delete_stories": False, "can_post_messages": True, "can_edit_messages": True,
}


class FakeUser:
    """A user and their private chat with the bot."""

    def __init__(
        self,
        tg: FakeTelegram,
        user_id: int,
        first_name: str,
        *,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = "en",
        phone: str | None = None,
        started: bool = True,
        is_premium: bool = False,
    ) -> None:
        self.tg = tg
        self.id = user_id
        self.first_name = first_name
        self.last_name = last_name
        self.username = username
        self.language_code = language_code
        self.phone = phone or f"+86138{user_id:08d}"
        self.is_premium = is_premium
        self.started = started
        self.blocked = False
        self.deactivated = False
        self.chat = FakeChat(
            id=user_id, type="private", first_name=first_name, last_name=last_name, username=username, user=self
        )

    def __repr__(self) -> str:
        return f"FakeUser({self.first_name} #{self.id})"

    def to_api(self) -> dict[str, Any]:
        user: dict[str, Any] = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        for name in ("last_name", "username", "language_code"):
            value = getattr(self, name)
            if value is not None:
                user[name] = value
        if self.is_premium:
            user["is_premium"] = True
        return user

    @property
    def last(self) -> FakeMessage | None:
        """The newest visible bot message in the private chat."""
        return self.chat.last

    # -- account state ------------------------------------------------------

    def block_bot(self) -> None:
        """The user blocks the bot: sends to them now fail with 403."""
        self.blocked = True

    def unblock_bot(self) -> None:
        self.blocked = False

    def deactivate(self) -> None:
        """The account is deleted: sends fail with 403 "user is deactivated"."""
        self.deactivated = True

    # -- plumbing -----------------------------------------------------------

    def _target(self, chat: FakeChat | None) -> FakeChat:
        target = chat or self.chat
        if target.type == "private":
            if self.blocked:
                raise AssertionError(f"{self.first_name} has blocked the bot; call unblock_bot() first")
            self.started = True  # writing to a bot starts it
        elif self not in target.members:
            target.members.append(self)
        return target

    async def _deliver(self, payload: dict[str, Any]) -> dict[str, Any]:
        update = self.tg.push_update(payload)
        await self.tg.settle()
        return update

    async def _post(self, chat: FakeChat | None, **fields: Any) -> FakeMessage:
        message = self.tg.post_user_message(self, self._target(chat), **fields)
        if self.tg.bot_sees(message):
            await self._deliver({"message": message.to_api()})
        return message

    # -- the bot in groups and channels ----------------------------------------

    async def add_bot(self, chat: FakeChat, *, admin: bool = True) -> dict[str, Any]:
        """This user adds the bot to a group or channel (as an administrator by default): the
        bot gets a my_chat_member update, as Telegram sends it."""
        return await self._chat_member(chat, "left", "administrator" if admin else "member")

    async def remove_bot(self, chat: FakeChat) -> dict[str, Any]:
        return await self._chat_member(chat, "administrator", "left")

    async def _chat_member(self, chat: FakeChat, old: str, new: str) -> dict[str, Any]:
        bot = self.tg.bot_user()
        chat.bot_admin = new == "administrator"

        def member(status: str) -> dict[str, Any]:
            return _ADMIN_RIGHTS | {"user": bot, "status": status} if status == "administrator" \
                else {"user": bot, "status": status}
        return await self._deliver({"my_chat_member": {
            "chat": chat.to_api(), "from": self.to_api(), "date": int(time.time()),
            "old_chat_member": member(old), "new_chat_member": member(new)}})

    # -- messages -----------------------------------------------------------

    async def send(
        self, text: str, *, chat: FakeChat | None = None, reply_to: FakeMessage | None = None
    ) -> FakeMessage:
        """Send a text; ``/commands`` get bot_command entities as Telegram adds them."""
        return await self._post(chat, body=text, entities=find_bot_commands(text), reply_to=reply_to)

    async def send_photo(
        self, image_bytes: bytes | None = None, caption: str | None = None, *, chat: FakeChat | None = None
    ) -> FakeMessage:
        """Send a picture (a generated PNG by default); the bot can re-send its file_ids."""
        try:
            photo = self.tg.files.add_photo(image_bytes or make_png(), from_bot=False)
        except ApiError as error:  # a test mistake, not a bot reply
            raise ValueError(f"Telegram would not accept this picture: {error.description}") from None
        return await self._post(chat, photo_sizes=photo, caption=caption)

    async def send_document(
        self,
        data: bytes,
        file_name: str = "file.bin",
        mime_type: str | None = None,
        *,
        caption: str | None = None,
        chat: FakeChat | None = None,
    ) -> FakeMessage:
        document = self.tg.files.add_document(data, file_name, mime_type, from_bot=False)
        return await self._post(chat, document=document, caption=caption)

    async def share_contact(
        self, phone: str | None = None, first_name: str | None = None, *, last_name: str | None = None
    ) -> FakeMessage:
        """Share a contact card; by default one's own (with user_id, as Telegram does)."""
        contact: dict[str, Any] = {
            "phone_number": phone or self.phone,
            "first_name": first_name or self.first_name,
            "user_id": self.id,
        }
        if last_name or (first_name is None and self.last_name):
            contact["last_name"] = last_name or self.last_name
        return await self._post(None, contact=contact)

    async def share_location(self, latitude: float, longitude: float) -> FakeMessage:
        return await self._post(None, location={"latitude": latitude, "longitude": longitude})

    async def edit(self, message: FakeMessage, text: str) -> FakeMessage:
        """Edit one's own text message (the bot gets an edited_message update)."""
        if message.from_bot or message.sender.get("id") != self.id:
            raise AssertionError(f"{self.first_name} can only edit their own messages, not {message}")
        message.history.append(message.snapshot())
        message.body = text
        message.entities = find_bot_commands(text)
        message.edit_date = self.tg.now()
        if self.tg.bot_sees(message):
            await self._deliver({"edited_message": message.to_api()})
        return message

    # -- keyboards ----------------------------------------------------------

    def _find_tap_target(self, text: str, message: FakeMessage | None) -> tuple[FakeMessage, dict[str, Any]]:
        candidates = [message] if message is not None else list(reversed(self.chat.bot_messages))
        # An exact match anywhere beats a partial match in a newer message.
        for candidate in candidates:
            for row in inline_rows(candidate.reply_markup):
                for button in row:
                    if button["text"] == text:
                        return candidate, button
        for candidate in candidates:
            partial = find_button(inline_rows(candidate.reply_markup), text)
            if partial is not None:
                return candidate, partial
        shown = "\n".join(str(m) for m in candidates if m.buttons) or "(no inline buttons at all)"
        raise AssertionError(f"{self.first_name} sees no button {text!r}. Messages with buttons:\n{shown}")

    async def tap(self, button_text: str, message: FakeMessage | None = None) -> FakeCallbackQuery:
        """Tap an inline button by its text (exact, else the only one containing it).

        Looks in ``message`` or, by default, the newest bot message having
        such a button.  Returns the callback query; its answer fields fill in
        when the bot calls answerCallbackQuery.
        """
        target, button = self._find_tap_target(button_text, message)
        if "url" in button:
            raise AssertionError(
                f"button {button['text']!r} is a URL button ({button['url']}); it opens a link, the bot gets nothing"
            )
        if "callback_data" not in button:
            raise AssertionError(f"button {button['text']!r} sends no callback_data: {button}")
        return await self.send_callback(button["callback_data"], target)

    async def send_callback(self, data: str, message: FakeMessage) -> FakeCallbackQuery:
        """A callback query with arbitrary data on any message (forged taps)."""
        self._target(message.chat if message.chat.type != "private" else None)
        query = FakeCallbackQuery(id=self.tg.new_query_id(), user=self, message=message, data=data)
        self.tg.callback_queries[query.id] = query
        payload = {
            "id": query.id,
            "from": self.to_api(),
            "message": message.to_api(),
            # A stable per-chat identifier, as Telegram's chat_instance is.
            "chat_instance": str(abs(message.chat.id) * 1000003 % 2**62),
            "data": data,
        }
        update = self.tg.push_update({"callback_query": payload})
        query.update_id = update["update_id"]
        await self.tg.settle()
        return query

    async def press(self, text: str) -> FakeMessage:
        """Press a button of the reply keyboard the bot is showing.

        request_contact shares this user's phone, request_location a location,
        any other button sends its text.
        """
        keyboard = self.chat.reply_keyboard
        if keyboard is None:
            raise AssertionError(
                f"{self.first_name} has no reply keyboard to press {text!r}:\n{self.chat.transcript()}"
            )
        button = find_button(keyboard["keyboard"], text)
        if button is None:
            raise AssertionError(f"no key {text!r} on the reply keyboard {self.chat.reply_keyboard_buttons}")
        if keyboard.get("one_time_keyboard"):
            self.chat.reply_keyboard = None  # the client hides it after one use
        if button.get("request_contact"):
            return await self.share_contact()
        if button.get("request_location"):
            return await self.share_location(*DEFAULT_LOCATION)
        return await self.send(button["text"])

    async def send_update(self, raw: dict[str, Any]) -> dict[str, Any]:
        """Queue any raw update (update_id is assigned); for fuzzing."""
        payload = {key: value for key, value in raw.items() if key != "update_id"}
        return await self._deliver(payload)

    # -- payments -----------------------------------------------------------

    def _invoice(self, message: FakeMessage | None) -> FakeMessage:
        if message is None:
            invoices = [m for m in self.chat.bot_messages if m.invoice is not None]
            if not invoices:
                raise AssertionError(f"no invoice in the chat with {self.first_name}:\n{self.chat.transcript()}")
            message = invoices[-1]
        if message.invoice is None or message.invoice_details is None:
            raise AssertionError(f"not an invoice: {message}")
        return message

    async def pre_checkout(
        self,
        invoice_message: FakeMessage | None = None,
        *,
        tip_amount: int = 0,
        shipping_option_id: str | None = None,
        order_info: dict[str, Any] | None = None,
    ) -> FakePreCheckout:
        """Press Pay: Telegram asks the bot to confirm with a pre_checkout_query."""
        message = self._invoice(invoice_message)
        assert message.invoice is not None and message.invoice_details is not None
        record = FakePreCheckout(
            id=self.tg.new_query_id(),
            user=self,
            invoice_message=message,
            currency=message.invoice["currency"],
            total_amount=message.invoice["total_amount"] + tip_amount,
            invoice_payload=message.invoice_details["payload"],
        )
        self.tg.pre_checkouts[record.id] = record
        query: dict[str, Any] = {
            "id": record.id,
            "from": self.to_api(),
            "currency": record.currency,
            "total_amount": record.total_amount,
            "invoice_payload": record.invoice_payload,
        }
        if shipping_option_id is not None:
            query["shipping_option_id"] = shipping_option_id
        if order_info is not None:
            query["order_info"] = order_info
        update = self.tg.push_update({"pre_checkout_query": query})
        record.update_id = update["update_id"]
        await self.tg.settle()
        return record

    async def pay(
        self,
        invoice_message: FakeMessage | None = None,
        charge_id: str | None = None,
        *,
        provider_charge_id: str | None = None,
        skip_pre_checkout: bool = False,
    ) -> FakeMessage:
        """Pay an invoice: pre-checkout (which the bot must approve), then successful_payment.

        Needs a settle hook so the bot has answered the pre-checkout before
        the payment goes through; ``skip_pre_checkout`` forges the payment.
        """
        message = self._invoice(invoice_message)
        assert message.invoice is not None and message.invoice_details is not None
        total = message.invoice["total_amount"]
        if not skip_pre_checkout:
            record = await self.pre_checkout(message)
            if not record.answered:
                raise AssertionError("the bot did not answer the pre_checkout_query (Telegram gives up after 10 s)")
            if not record.ok:
                raise AssertionError(f"the bot declined the payment: {record.error_message!r}")
            total = record.total_amount
        n = self.tg.new_charge_number()
        payment = {
            "currency": message.invoice["currency"],
            "total_amount": total,
            "invoice_payload": message.invoice_details["payload"],
            "telegram_payment_charge_id": charge_id or f"fake_tg_charge_{n}",
            "provider_payment_charge_id": provider_charge_id or f"fake_provider_charge_{n}",
        }
        return await self._post(None, successful_payment=payment)
