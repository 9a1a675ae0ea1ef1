"""Tests of faketg, the fake Telegram Bot API every bot test runs against.

Most tests drive the fake with the real python-telegram-bot ``Bot`` over an
in-process ASGI transport, so they also prove that PTB accepts what the fake
answers.  The HTML parser is tested directly against TDLib's behaviour.
"""

from __future__ import annotations

import asyncio
import html
import datetime as dtm
import json
from collections.abc import AsyncIterator, Callable, Iterator

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from telegram import (
    Bot,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputMediaPhoto,
    KeyboardButton,
    LabeledPrice,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    Update,
)
from telegram.error import BadRequest, Conflict, EndPointNotFound, Forbidden, RetryAfter, TimedOut
from telegram.ext import Application, CommandHandler, ContextTypes
from telegram.request import HTTPXRequest

from faketg import FakeTelegram, HtmlParseError, make_png, parse_html
from faketg.text import clean_text, find_bot_commands, utf16_len

TOKEN = "123:ABC"


def make_bot(tg: FakeTelegram, transport: httpx.AsyncBaseTransport | None = None, **request_kwargs: float) -> Bot:
    """A real PTB Bot wired to the fake, as the project's harness does it."""

    def request() -> HTTPXRequest:
        return HTTPXRequest(httpx_kwargs={"transport": transport or httpx.ASGITransport(app=tg)}, **request_kwargs)

    return Bot(
        TOKEN,
        base_url="http://faketg/bot",
        base_file_url="http://faketg/file/bot",
        request=request(),
        get_updates_request=request(),
    )


@pytest.fixture
def tg() -> Iterator[FakeTelegram]:
    fake = FakeTelegram()
    yield fake
    assert fake.internal_errors == [], "faketg itself crashed"


@pytest.fixture
async def bot(tg: FakeTelegram) -> AsyncIterator[Bot]:
    async with make_bot(tg) as bot:
        yield bot


@pytest.fixture
def raw(tg: FakeTelegram) -> httpx.AsyncClient:
    """Plain HTTP access, for what PTB would not send."""
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=tg), base_url="http://faketg")


def one_button(text: str, data: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton(text, callback_data=data)]])


async def eventually(check: Callable[[], bool], timeout: float = 3.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not check():
        assert asyncio.get_running_loop().time() < deadline, "condition not reached in time"
        await asyncio.sleep(0.01)


# ---------------------------------------------------------------- HTML parser


@pytest.mark.parametrize(
    ("html", "message"),
    [
        ("<br>", 'Unsupported start tag "br" at byte offset 0'),
        ("a < b", 'Unsupported start tag "" at byte offset 2'),
        ("x <b", "Unclosed start tag at byte offset 2"),
        ("<a href", 'Unclosed start tag "a" at byte offset 0'),
        ('<a href="x"', "Unclosed start tag at byte offset 0"),
        ('<a ="x">y</a>', 'Empty attribute name in the tag "a" at byte offset 0'),
        ("<a href=x/>y</a>", "Unexpected end of name token at byte offset 8"),
        ("<span>x</span>", 'Tag "span" must have class "tg-spoiler" at byte offset 0'),
        ("x</b>", "Unexpected end tag at byte offset 1"),
        ("<b>x</b", "Unclosed end tag at byte offset 4"),
        ("<b>x</i>", 'Unmatched end tag at byte offset 4, expected "</b>", found "</i>"'),
        ("<b>x", 'Can\'t find end tag corresponding to start tag "b"'),
        ('<tg-emoji emoji-id="x">y</tg-emoji>', "Invalid custom emoji identifier specified"),
        ("привет <br>", 'Unsupported start tag "br" at byte offset 13'),  # offsets count bytes
        ("a\0b", "Text must not contain null bytes"),
    ],
)
def test_html_refuses_what_telegram_refuses(html: str, message: str) -> None:
    with pytest.raises(HtmlParseError) as caught:
        parse_html(html)
    assert str(caught.value) == message


@pytest.mark.parametrize("html", ["Tom & Jerry", "&nbsp; and &copy", "a > b", "AT&T", "&#0; &#xZZ;"])
def test_html_keeps_unknown_references_and_bare_ampersands(html: str) -> None:
    assert parse_html(html) == (html, [])


@pytest.mark.parametrize(
    ("html", "text"),
    [("&lt;&gt;&amp;&quot;", '<>&"'), ("&lt&gt", "<>"), ("&#65;&#x42;&#67", "ABC"), ("&#x1F600;", "😀")],
)
def test_html_decodes_the_four_named_and_numeric_references(html: str, text: str) -> None:
    assert parse_html(html)[0] == text


def test_html_escaped_markup_is_text_not_formatting() -> None:
    text, entities = parse_html("<b>Name:</b> &lt;b&gt;&amp;&quot;x&lt;/b&gt;")
    assert text == 'Name: <b>&"x</b>'
    assert entities == [{"type": "bold", "offset": 0, "length": 5}]


def test_html_nested_entities_in_utf16_units() -> None:
    text, entities = parse_html("😀 <b>a<i>b😀</i></b>")
    assert text == "😀 ab😀"
    assert entities == [
        {"type": "bold", "offset": 3, "length": 4},
        {"type": "italic", "offset": 4, "length": 3},
    ]


def test_html_all_supported_tags() -> None:
    html = (
        '<a href="https://example.com">site</a> <blockquote>q</blockquote><blockquote expandable>e</blockquote>'
        '<tg-spoiler>s</tg-spoiler><span class="tg-spoiler">S</span>'
        '<tg-emoji emoji-id="5368324170671202286">👍</tg-emoji>'
        "<STRONG>B</STRONG><em>i</em><ins>u</ins><del>d</del>"
    )
    text, entities = parse_html(html)
    assert text == "site qesS👍Biud"
    assert [(e["type"], e["offset"], e["length"]) for e in entities] == [
        ("text_link", 0, 4), ("blockquote", 5, 1), ("expandable_blockquote", 6, 1), ("spoiler", 7, 1),
        ("spoiler", 8, 1), ("custom_emoji", 9, 2), ("bold", 11, 1), ("italic", 12, 1),
        ("underline", 13, 1), ("strikethrough", 14, 1),
    ]
    assert entities[0]["url"] == "https://example.com/"
    assert entities[5]["custom_emoji_id"] == "5368324170671202286"


def test_html_pre_with_language_and_plain_code() -> None:
    html = '<pre><code class="language-python">x = 1</code></pre>\n<code class="language-go">y</code>'
    text, entities = parse_html(html)
    assert text == "x = 1\ny"
    assert entities == [
        {"type": "pre", "offset": 0, "length": 5, "language": "python"},
        {"type": "code", "offset": 6, "length": 1},  # a language only counts inside pre
    ]


def test_html_links_telegram_would_drop_make_no_entity() -> None:
    assert parse_html('<a href="javascript:alert(1)">x</a>') == ("x", [])
    assert parse_html("<a>example.org</a>")[1] == [
        {"type": "text_link", "offset": 0, "length": 11, "url": "http://example.org/"}
    ]
    assert parse_html('<a href="tg://user?id=42">Bo</a>')[1] == [
        {"type": "text_mention", "offset": 0, "length": 2, "user": {"id": 42}}
    ]


def test_html_empty_elements_make_no_entity() -> None:
    assert parse_html("a<b></b>b") == ("ab", [])


def test_clean_text_trims_like_telegram() -> None:
    text, entities = clean_text("  \n hi\r\n there \t\n ", [{"type": "bold", "offset": 4, "length": 2}])
    assert text == "hi\n there"
    assert entities == [{"type": "bold", "offset": 0, "length": 2}]
    # An entity over whitespace only disappears.
    assert clean_text("a   b", [{"type": "bold", "offset": 1, "length": 3}]) == ("a   b", [])


_TEXT_ALPHABET = st.sampled_from(list("ab <>&;/\n\r\t ") + ["é", "😀", "\u2028", "\x01", "€"])


@settings(max_examples=300, deadline=None)
@given(st.text(_TEXT_ALPHABET, max_size=40), st.integers(0, 40), st.integers(1, 40))
def test_clean_text_shortcut_agrees_with_the_character_walk(text: str, offset: int, length: int) -> None:
    """Texts with nothing to clean skip the per-character walk; the result must not depend on it."""
    entity = {"type": "bold", "offset": offset, "length": length}
    shortcut = clean_text(text, [dict(entity)])
    # Force the walk: a trailing \r changes nothing (it is dropped, then trailing space trimmed).
    walked = clean_text(text + "\r", [dict(entity)])
    assert shortcut == walked


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.booleans(), st.text(st.sampled_from(list("ab &;") + ["é", "😀", "\u2028"]),
                                                  min_size=1, max_size=6)), max_size=6))
def test_html_entity_offsets_count_utf16_units(parts: list[tuple[bool, str]]) -> None:
    source = "".join(f"<b>{html.escape(chunk)}</b>" if bold else html.escape(chunk) for bold, chunk in parts)
    text, entities = parse_html(source)
    assert text == "".join(chunk for _, chunk in parts)
    expected, position = [], 0
    for bold, chunk in parts:
        if bold:
            expected.append((position, utf16_len(chunk)))
        position += utf16_len(chunk)
    merged = [(e["offset"], e["length"]) for e in entities]
    assert sum(length for _, length in merged) == sum(length for _, length in expected)
    covered = {p for start, length in merged for p in range(start, start + length)}
    assert covered == {p for start, length in expected for p in range(start, start + length)}


def test_bot_commands_are_detected_as_telegram_does() -> None:
    assert find_bot_commands("/start payload") == [{"type": "bot_command", "offset": 0, "length": 6}]
    assert find_bot_commands("try /help@livecart_test_bot now") == [{"type": "bot_command", "offset": 4, "length": 23}]
    assert find_bot_commands("a/b and http://x/y") == []
    assert utf16_len("😀/x") == 4


# ------------------------------------------------------------- PTB end to end


async def test_get_me_returns_the_bot_identity(bot: Bot, tg: FakeTelegram) -> None:
    me = await bot.get_me()
    assert (me.id, me.is_bot, me.first_name, me.username) == (7000000001, True, "Livecart", "livecart_test_bot")
    assert tg.tokens_seen == {TOKEN}


async def test_send_message_html_keeps_display_text_and_entities(bot: Bot, tg: FakeTelegram) -> None:
    ann = tg.user("Ann")
    product = '<b>&"x</b>'
    escaped = product.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    sent = await bot.send_message(ann.id, f"<b>Product:</b> {escaped}", parse_mode="HTML")

    assert sent.text == f"Product: {product}"
    assert [(e.type, e.offset, e.length) for e in sent.entities] == [("bold", 0, 8)]
    message = ann.last
    assert message is not None and message.text == f"Product: {product}"
    assert message.entities_of("bold") == ["Product:"]  # the product name is not bold
    assert message.html == f"<b>Product:</b> {escaped}"
    assert message.message_id == 1 and message.from_bot


async def test_plain_text_is_kept_verbatim_and_explicit_entities_too(bot: Bot, tg: FakeTelegram) -> None:
    ann = tg.user("Ann")
    await bot.send_message(ann.id, "<b>not bold</b> & co")
    assert ann.last is not None and ann.last.text == "<b>not bold</b> & co" and ann.last.entities == []
    sent = await bot.send_message(ann.id, "hello", entities=[{"type": "italic", "offset": 0, "length": 5}])
    assert [e.type for e in sent.entities] == ["italic"]


async def test_bad_html_is_refused_with_bad_request(bot: Bot, tg: FakeTelegram) -> None:
    ann = tg.user("Ann")
    with pytest.raises(BadRequest, match=r"Can't parse entities: unsupported start tag \"\" at byte offset 2"):
        await bot.send_message(ann.id, "1 < 2", parse_mode="HTML")
    assert ann.chat.messages == []
    assert tg.calls[-1].description == "Bad Request: can't parse entities: Unsupported start tag \"\" at byte offset 2"


@pytest.mark.parametrize(
    ("text", "error"),
    [("", "Message text is empty"), ("  \n ", "Message text is empty"), ("x" * 4097, "Message is too long")],
)
async def test_text_length_limits(bot: Bot, tg: FakeTelegram, text: str, error: str) -> None:
    ann = tg.user("Ann")
    with pytest.raises(BadRequest, match=error):
        await bot.send_message(ann.id, text)
    await bot.send_message(ann.id, "😀" * 4096)  # the limit counts characters


async def test_caption_limit(bot: Bot, tg: FakeTelegram) -> None:
    ann = tg.user("Ann")
    with pytest.raises(BadRequest, match="Message caption is too long"):
        await bot.send_photo(ann.id, make_png(), caption="x" * 1025)
    assert tg.files.by_id == {}  # refused before anything was stored


async def test_edit_that_changes_nothing_is_refused(bot: Bot, tg: FakeTelegram) -> None:
    ann = tg.user("Ann")
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Buy", callback_data="buy")]])
    sent = await bot.send_message(ann.id, "<b>Cart</b>", parse_mode="HTML", reply_markup=keyboard)

    with pytest.raises(BadRequest, match="Message is not modified: specified new message content"):
        await bot.edit_message_text(
            "<strong>Cart</strong>", ann.id, sent.message_id, parse_mode="HTML", reply_markup=keyboard
        )

    edited = await bot.edit_message_text("<b>Cart</b> (2)", ann.id, sent.message_id, parse_mode="HTML")
    assert edited.edit_date is not None and edited.text == "Cart (2)"
    message = ann.chat.get(sent.message_id)
    assert message is not None and message.edited
    assert message.buttons == []  # leaving out reply_markup removed the keyboard
    assert message.history[0]["body"] == "Cart"


async def test_edit_errors_match_telegram(bot: Bot, tg: FakeTelegram) -> None:
    ann = tg.user("Ann")
    text = await bot.send_message(ann.id, "hello")
    photo = await bot.send_photo(ann.id, make_png(), caption="pic")
    mine = await ann.send("user text")

    with pytest.raises(BadRequest, match="There is no text in the message to edit"):
        await bot.edit_message_text("x", ann.id, photo.message_id)
    with pytest.raises(BadRequest, match="There is no caption in the message to edit"):
        await bot.edit_message_caption(ann.id, text.message_id, caption="x")
    with pytest.raises(BadRequest, match="Message to edit not found"):
        await bot.edit_message_text("x", ann.id, 999)
    with pytest.raises(BadRequest, match="Message can't be edited"):
        await bot.edit_message_text("x", ann.id, mine.message_id)
    await bot.delete_message(ann.id, text.message_id)
    with pytest.raises(BadRequest, match="Message to edit not found"):
        await bot.edit_message_text("x", ann.id, text.message_id)
    with pytest.raises(BadRequest, match="Message to delete not found"):
        await bot.delete_message(ann.id, text.message_id)
    assert [m.message_id for m in ann.chat.messages] == [2, 3]
    assert [m.message_id for m in tg.sent_to(ann.id)] == [1, 2]


async def test_edit_caption_and_media(bot: Bot, tg: FakeTelegram) -> None:
    ann = tg.user("Ann")
    sent = await bot.send_photo(ann.id, make_png(), caption="<i>one</i>", parse_mode="HTML")
    edited = await bot.edit_message_caption(ann.id, sent.message_id, caption="two")
    assert edited.caption == "two" and not edited.caption_entities

    new_picture = make_png(300, 600, (0, 0, 255))
    edited = await bot.edit_message_media(InputMediaPhoto(new_picture, caption="three"), ann.id, sent.message_id)
    assert edited.photo[-1].width == 300 and edited.photo[-1].height == 600
    message = ann.last
    assert message is not None and message.text == "three" and message.photo is not None
    assert message.photo.data == new_picture

    text = await bot.send_message(ann.id, "becomes a picture")
    edited = await bot.edit_message_media(InputMediaPhoto(sent.photo[-1].file_id), ann.id, text.message_id)
    assert edited.text is None and edited.photo


async def test_callback_data_over_64_bytes_is_refused(bot: Bot, tg: FakeTelegram) -> None:
    ann = tg.user("Ann")
    too_long = InlineKeyboardMarkup([[InlineKeyboardButton("x", callback_data="é" * 33)]])  # 66 bytes
    with pytest.raises(BadRequest, match="Button_data_invalid"):
        await bot.send_message(ann.id, "pick", reply_markup=too_long)
    fits = InlineKeyboardMarkup([[InlineKeyboardButton("x", callback_data="é" * 32)]])
    await bot.send_message(ann.id, "pick", reply_markup=fits)


async def test_keyboard_buttons_are_validated(bot: Bot, tg: FakeTelegram, raw: httpx.AsyncClient) -> None:
    ann = tg.user("Ann")
    with pytest.raises(BadRequest, match=r"(?i)unsupported URL protocol"):
        await bot.send_message(ann.id, "x", reply_markup=InlineKeyboardMarkup([[InlineKeyboardButton("a", url="ftp://x.y")]]))
    with pytest.raises(BadRequest, match="Button_url_invalid"):
        await bot.send_message(ann.id, "x", reply_markup=InlineKeyboardMarkup([[InlineKeyboardButton("a", url="http://localhost/")]]))
    markup = {"inline_keyboard": [[{"text": "just text"}]]}
    reply = await raw.post(f"/bot{TOKEN}/sendMessage", json={"chat_id": ann.id, "text": "x", "reply_markup": markup})
    assert reply.status_code == 400
    assert reply.json()["description"] == (
        "Bad Request: can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
    )


async def test_photo_resent_by_file_id_is_uploaded_once(bot: Bot, tg: FakeTelegram) -> None:
    ann, bob = tg.user("Ann"), tg.user("Bob")
    first = await bot.send_photo(ann.id, make_png(1600, 1200), caption="Mug")
    sizes = [(p.width, p.height) for p in first.photo]
    assert sizes == [(90, 68), (320, 240), (800, 600), (1280, 960), (1600, 1200)]  # smallest first, real size last

    again = await bot.send_photo(bob.id, first.photo[-1].file_id, caption="Mug")
    assert again.photo[-1].file_id == first.photo[-1].file_id
    assert tg.uploads == 1 and tg.file_id_sends == 1
    assert bob.last is not None and bob.last.photo is not None and bob.last.photo.width == 1600
    assert [size.width for size in bob.last.photo_sizes or []] == [90, 320, 800, 1280, 1600]

    with pytest.raises(BadRequest, match="Wrong file identifier/http url specified"):
        await bot.send_photo(ann.id, "AgACnot-a-real-id")
    with pytest.raises(BadRequest, match="Image_process_failed"):
        await bot.send_photo(ann.id, b"not a picture")


async def test_document_upload_keeps_name_and_bytes(bot: Bot, tg: FakeTelegram) -> None:
    ann = tg.user("Ann")
    data = bytes(range(256)) + b"\r\n--tricky\r\n"
    sent = await bot.send_document(ann.id, data, filename="orders 2024 «x».csv", caption="export")

    assert sent.document.file_name == "orders 2024 «x».csv"
    assert sent.document.mime_type == "text/csv"
    message = ann.last
    assert message is not None and message.document is not None
    assert message.document.data == data and message.text == "export"
    assert tg.calls[-1].files == {"document": len(data)}

    file = await bot.get_file(sent.document.file_id)
    assert bytes(await file.download_as_bytearray()) == data

    await bot.send_document(ann.id, sent.document.file_id)
    assert tg.uploads == 1


async def test_user_photo_can_be_resent_by_the_bot(bot: Bot, tg: FakeTelegram) -> None:
    ann, merchant = tg.user("Ann"), tg.user("Mia")
    photo = await ann.send_photo(caption="my receipt")
    assert photo.photo is not None and photo.text == "my receipt"
    await bot.send_photo(merchant.id, photo.photo.file_id)
    assert tg.uploads == 0
    assert merchant.last is not None and merchant.last.photo_sizes == photo.photo_sizes


# PTB 22 warns that RetryAfter.retry_after will become a timedelta; either form is fine here.
@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
async def test_flood_wait_raises_retry_after(bot: Bot, tg: FakeTelegram) -> None:
    ann = tg.user("Ann")
    tg.fail_next("sendMessage", 429, retry_after=7)
    with pytest.raises(RetryAfter) as caught:
        await bot.send_message(ann.id, "hi")
    assert caught.value.retry_after in (7, dtm.timedelta(seconds=7))
    assert ann.chat.messages == []  # a flood-wait changes nothing

    await bot.send_message(ann.id, "hi")  # the fault was used up
    assert tg.count("sendMessage", ann.id, ok=True) == 1 and tg.count("sendmessage") == 2


async def test_fault_can_target_a_chat_and_repeat(bot: Bot, tg: FakeTelegram) -> None:
    ann, bob = tg.user("Ann"), tg.user("Bob")
    tg.fail_next(None, 502, times=2, chat_id=bob.id)
    await bot.send_message(ann.id, "fine")
    for _ in range(2):
        with pytest.raises(Exception, match="Bad Gateway"):
            await bot.send_message(bob.id, "x")
    await bot.send_message(bob.id, "now fine")


async def test_blocked_and_unknown_recipients(bot: Bot, tg: FakeTelegram) -> None:
    ann = tg.user("Ann")
    ann.block_bot()
    with pytest.raises(Forbidden, match="bot was blocked by the user"):
        await bot.send_message(ann.id, "hi")
    ann.unblock_bot()
    await bot.send_message(ann.id, "hi again")

    with pytest.raises(BadRequest, match="Chat not found"):
        await bot.send_message(424242, "hi")
    never_started = tg.user("Neo", started=False)
    with pytest.raises(Forbidden, match="bot can't initiate conversation with a user"):
        await bot.send_message(never_started.id, "hi")
    await never_started.send("/start")
    await bot.send_message(never_started.id, "welcome")


async def test_long_poll_delivers_a_command_as_a_ptb_update(bot: Bot, tg: FakeTelegram) -> None:
    ann = tg.user("Ann", username="ann")
    poll = asyncio.create_task(bot.get_updates(timeout=5))
    await asyncio.sleep(0.05)
    assert not poll.done()  # nothing pending: the call waits

    await ann.send("/start ref_42")
    updates = await asyncio.wait_for(poll, 1)
    assert len(updates) == 1 and isinstance(updates[0], Update)
    message = updates[0].message
    assert message is not None and message.text == "/start ref_42"
    assert message.from_user is not None and message.from_user.id == ann.id and message.chat.id == ann.id
    entity = message.entities[0]
    assert (entity.type, entity.offset, entity.length) == ("bot_command", 0, 6)
    assert message.parse_entities() == {entity: "/start"}

    assert tg.pending_updates() == 1  # not confirmed yet
    assert await bot.get_updates(offset=updates[0].update_id + 1) == ()
    assert tg.pending_updates() == 0


async def test_long_poll_times_out_empty(bot: Bot) -> None:
    started = asyncio.get_running_loop().time()
    assert await bot.get_updates(timeout=1) == ()
    assert asyncio.get_running_loop().time() - started >= 0.9


async def test_second_poll_terminates_the_first_with_conflict(tg: FakeTelegram, bot: Bot) -> None:
    first = asyncio.create_task(bot.get_updates(timeout=5))
    await asyncio.sleep(0.05)
    second = asyncio.create_task(bot.get_updates(timeout=0))
    with pytest.raises(Conflict, match="terminated by other getUpdates request"):
        await first
    assert await second == ()


async def test_allowed_updates_filter_and_limit(bot: Bot, tg: FakeTelegram) -> None:
    ann = tg.user("Ann")
    sent = await bot.send_message(ann.id, "pick", reply_markup=one_button("A", "a"))
    await ann.send("one")
    await ann.tap("A")
    await ann.send("two")
    updates = await bot.get_updates(allowed_updates=["callback_query"])
    assert [u.callback_query.data for u in updates] == ["a"]
    assert sent.message_id == 1


async def test_tap_records_the_callback_answer(bot: Bot, tg: FakeTelegram) -> None:
    ann = tg.user("Ann")
    keyboard = InlineKeyboardMarkup(
        [[InlineKeyboardButton("🛒 Add to cart", callback_data="add:7")], [InlineKeyboardButton("Site", url="https://example.com")]]
    )
    await bot.send_message(ann.id, "Mug — ¥30", reply_markup=keyboard)
    await bot.send_message(ann.id, "Something later without buttons")

    query = await ann.tap("Add to cart")  # a unique partial match is enough
    assert (query.data, query.answered) == ("add:7", False)
    update = (await bot.get_updates())[-1]
    callback = update.callback_query
    assert callback is not None and callback.data == "add:7" and callback.message is not None
    assert callback.message.message_id == 1 and callback.from_user.id == ann.id

    await bot.answer_callback_query(callback.id, text="Added!", show_alert=True)
    assert (query.answered, query.answer_text, query.show_alert) == (True, "Added!", True)
    with pytest.raises(BadRequest, match="Query is too old"):
        await bot.answer_callback_query(callback.id)

    with pytest.raises(AssertionError, match="is a URL button"):
        await ann.tap("Site")
    with pytest.raises(AssertionError, match=r"no button 'Checkout'[\s\S]*\[🛒 Add to cart\]"):
        await ann.tap("Checkout")


async def test_forged_callback_and_raw_update(bot: Bot, tg: FakeTelegram) -> None:
    ann, eve = tg.user("Ann"), tg.user("Eve")
    sent = await bot.send_message(ann.id, "Ann's order")
    await eve.send_callback("order:cancel:1", ann.chat.get(sent.message_id))  # type: ignore[arg-type]
    raw_message = {
        "message_id": 99, "date": 0, "chat": {"id": eve.id, "type": "private"}, "dice": {"emoji": "🎲", "value": 6}
    }
    update = await eve.send_update({"update_id": 999, "message": raw_message})
    assert update["update_id"] == 2  # the fake assigns ids
    updates = await bot.get_updates()
    assert updates[0].callback_query.from_user.id == eve.id
    assert updates[1].update_id == 2 and updates[1].message.dice.value == 6


async def test_reply_keyboard_press_shares_contact(bot: Bot, tg: FakeTelegram) -> None:
    ann = tg.user("Ann", phone="+8613912345678")
    keyboard = ReplyKeyboardMarkup(
        [[KeyboardButton("📱 Share phone", request_contact=True)], [KeyboardButton("Cancel")]], one_time_keyboard=True
    )
    await bot.send_message(ann.id, "Your phone?", reply_markup=keyboard)
    assert ann.chat.reply_keyboard_buttons == [["📱 Share phone"], ["Cancel"]]
    assert ann.last is not None and ann.last.buttons == []  # reply keyboards are not part of the message

    shared = await ann.press("Share phone")
    assert shared.contact == {"phone_number": "+8613912345678", "first_name": "Ann", "user_id": ann.id}
    assert ann.chat.reply_keyboard is None  # one-time keyboards hide after use
    update = (await bot.get_updates())[0]
    assert update.message is not None and update.message.contact.user_id == ann.id

    await bot.send_message(ann.id, "menu", reply_markup=ReplyKeyboardMarkup([["Shop"]]))
    await bot.send_message(ann.id, "bye", reply_markup=ReplyKeyboardRemove())
    with pytest.raises(AssertionError, match="no reply keyboard"):
        await ann.press("Shop")


async def test_payments_flow_with_a_settle_hook(bot: Bot, tg: FakeTelegram) -> None:
    ann = tg.user("Ann")
    offset = 0

    async def bot_reacts() -> None:
        # A tiny stand-in for the real bot: approve every pre-checkout.
        nonlocal offset
        for update in await bot.get_updates(offset=offset):
            offset = update.update_id + 1
            if update.pre_checkout_query:
                await update.pre_checkout_query.answer(ok=True)

    tg.set_settle_hook(bot_reacts)
    await bot.send_invoice(
        ann.id, "Mug", "A nice mug", "order:17", "CNY", [LabeledPrice("Mug", 3000), LabeledPrice("Ship", 500)],
        provider_token="fake-provider",
    )
    invoice = ann.last
    assert invoice is not None and invoice.invoice == {
        "title": "Mug", "description": "A nice mug", "start_parameter": "", "currency": "CNY", "total_amount": 3500,
    }
    paid = await ann.pay(charge_id="ch_1")
    assert paid.successful_payment == {
        "currency": "CNY", "total_amount": 3500, "invoice_payload": "order:17",
        "telegram_payment_charge_id": "ch_1", "provider_payment_charge_id": "fake_provider_charge_1",
    }
    record = next(iter(tg.pre_checkouts.values()))
    assert (record.answered, record.ok, record.invoice_payload) == (True, True, "order:17")

    with pytest.raises(BadRequest, match="Payment_provider_invalid"):
        await bot.send_invoice(ann.id, "Mug", "d", "p", "CNY", [LabeledPrice("Mug", 1)])
    await bot.send_invoice(ann.id, "Stars", "d", "p", "XTR", [LabeledPrice("Mug", 50)])


async def test_declined_pre_checkout_is_recorded(bot: Bot, tg: FakeTelegram) -> None:
    ann = tg.user("Ann")
    await bot.send_invoice(ann.id, "Mug", "d", "order:1", "XTR", [LabeledPrice("Mug", 5)])
    record = await ann.pre_checkout()
    update = (await bot.get_updates())[0]
    assert update.pre_checkout_query is not None and update.pre_checkout_query.invoice_payload == "order:1"
    await update.pre_checkout_query.answer(ok=False, error_message="Sold out")
    assert (record.ok, record.error_message) == (False, "Sold out")
    with pytest.raises(AssertionError, match="did not answer"):
        await ann.pay()  # no settle hook: nobody answers the second pre-checkout


async def test_commands_webhook_and_chat_action(bot: Bot, tg: FakeTelegram) -> None:
    ann = tg.user("Ann")
    await bot.set_my_commands([("start", "Start"), ("cart", "Cart")])
    await bot.set_my_commands([("start", "开始")], language_code="zh")
    assert [c.command for c in await bot.get_my_commands()] == ["start", "cart"]
    assert tg.get_commands(language_code="zh") == [{"command": "start", "description": "开始"}]
    await bot.delete_my_commands()
    assert await bot.get_my_commands() == ()
    with pytest.raises(BadRequest, match="Bot_command_invalid"):
        await bot.set_my_commands([("Bad-Command", "x")])

    assert await bot.set_webhook("https://shop.example.com/hook", secret_token="s3cret")
    info = await bot.get_webhook_info()
    assert info.url == "https://shop.example.com/hook" and info.pending_update_count == 0
    with pytest.raises(Conflict, match="webhook is active"):
        await bot.get_updates()
    assert await bot.delete_webhook()
    await bot.send_chat_action(ann.id, "typing")
    assert ann.chat.actions == ["typing"]


async def test_media_group(bot: Bot, tg: FakeTelegram) -> None:
    ann = tg.user("Ann")
    messages = await bot.send_media_group(
        ann.id, [InputMediaPhoto(make_png(), caption="front"), InputMediaPhoto(make_png(200, 100))]
    )
    assert len(messages) == 2 and messages[0].media_group_id == messages[1].media_group_id
    assert [m.text for m in ann.chat.messages] == ["front", None]
    assert tg.uploads == 2


async def test_slow_answer_times_out_but_may_have_been_sent(tg: FakeTelegram) -> None:
    ann = tg.user("Ann")
    async with make_bot(tg, tg.transport(), read_timeout=0.2) as bot:
        tg.delay_next("sendMessage", 1, after=True)
        with pytest.raises(TimedOut):
            await bot.send_message(ann.id, "did it arrive?")
        assert ann.last is not None and ann.last.text == "did it arrive?"

        tg.delay_next("sendMessage", 1)
        with pytest.raises(TimedOut):
            await bot.send_message(ann.id, "lost")
        assert ann.last.text == "did it arrive?"


async def test_application_polling_against_the_fake(tg: FakeTelegram) -> None:
    """The way bot tests use the fake: a real Application, polling."""

    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_chat is not None
        await context.bot.send_message(update.effective_chat.id, f"Welcome! args={context.args}")

    application = Application.builder().bot(make_bot(tg)).build()
    application.add_handler(CommandHandler("start", start))
    ann = tg.user("Ann")
    async with application:
        await application.start()
        assert application.updater is not None
        await application.updater.start_polling(poll_interval=0, timeout=1)
        try:
            await ann.send("/start abc")
            await eventually(lambda: ann.last is not None)
            assert ann.last is not None and ann.last.text == "Welcome! args=['abc']"
        finally:
            await application.updater.stop()
            await application.stop()
    assert tg.count("deleteWebhook") == 1


# --------------------------------------------------------------- HTTP surface


async def test_method_names_are_case_insensitive_and_json_works(raw: httpx.AsyncClient, tg: FakeTelegram) -> None:
    ann = tg.user("Ann")
    body = {"chat_id": ann.id, "text": "hi", "disable_notification": True}
    reply = await raw.post(f"/bot{TOKEN}/SENDMESSAGE", json=body)
    assert reply.status_code == 200 and reply.json()["result"]["text"] == "hi"
    assert tg.calls[-1].method == "sendMessage"
    reply = await raw.get(f"/bot{TOKEN}/getme")
    assert reply.json()["result"]["username"] == "livecart_test_bot"


async def test_unknown_method_and_path(raw: httpx.AsyncClient, bot: Bot) -> None:
    reply = await raw.post(f"/bot{TOKEN}/sendTelepathy")
    assert (reply.status_code, reply.json()) == (404, {"ok": False, "error_code": 404, "description": "Not Found"})
    assert (await raw.get("/")).status_code == 404
    with pytest.raises(EndPointNotFound):  # PTB's reading of Telegram's 404 for a method
        await bot.do_api_request("sendTelepathy")


async def test_required_token() -> None:
    tg = FakeTelegram(token="999:XYZ")
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=tg), base_url="http://faketg")
    reply = await client.post(f"/bot{TOKEN}/getMe")
    assert (reply.status_code, reply.json()["description"]) == (401, "Unauthorized")
    assert (await client.post("/bot999:XYZ/getMe")).status_code == 200


async def test_lifespan_is_acknowledged(tg: FakeTelegram) -> None:
    sent: list[dict[str, str]] = []
    messages = iter([{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}])

    async def receive() -> dict[str, str]:
        return next(messages)

    async def send(message: dict[str, str]) -> None:
        sent.append(message)

    await tg({"type": "lifespan"}, receive, send)
    assert [m["type"] for m in sent] == ["lifespan.startup.complete", "lifespan.shutdown.complete"]


async def test_call_log_keeps_params(bot: Bot, tg: FakeTelegram) -> None:
    ann = tg.user("Ann")
    await bot.send_message(ann.id, "hi", reply_markup=one_button("A", "a"))
    call = tg.calls_of("sendMessage")[0]
    assert call.ok and call.chat_id == ann.id
    assert json.loads(call.params["reply_markup"])["inline_keyboard"][0][0]["callback_data"] == "a"
    assert str(ann.last) == "#1 bot: hi\n    [A]"



async def test_group_privacy_mode_and_user_edits(bot: Bot, tg: FakeTelegram) -> None:
    ann, bob = tg.user("Ann"), tg.user("Bob")
    group = tg.group("Live sale", ann, bob)
    await ann.send("chatter the bot never sees", chat=group)
    await bob.send("/order@livecart_test_bot 2", chat=group)
    note = await ann.send("typo")
    await ann.edit(note, "fixed")
    updates = await bot.get_updates()
    assert [u.effective_message.text for u in updates] == ["/order@livecart_test_bot 2", "typo", "fixed"]
    assert updates[2].edited_message is not None and group.type == "supergroup"
    await bot.send_message(group.id, "Sold!")
    assert [m.text for m in group.messages][-1] == "Sold!" and len(group.messages) == 3


async def test_misc_refusals(bot: Bot, tg: FakeTelegram) -> None:
    ann = tg.user("Ann")
    with pytest.raises(BadRequest, match=r"(?i)parse_mode MarkdownV2"):
        await bot.send_message(ann.id, "*hi*", parse_mode="MarkdownV2")
    with pytest.raises(BadRequest, match=r"(?i)invalid file_id"):
        await bot.get_file("nope")
    with pytest.raises(BadRequest, match=r"(?i)an https url must be provided"):
        await bot.set_webhook("http://shop.example.com/hook")
    with pytest.raises(BadRequest, match=r"(?i)message to be replied not found"):
        await bot.send_message(ann.id, "re", reply_to_message_id=77)
    reply = await bot.send_message(ann.id, "re", reply_to_message_id=77, allow_sending_without_reply=True)
    assert reply.reply_to_message is None
    first = await bot.send_message(ann.id, "first")
    reply = await bot.send_message(ann.id, "re", reply_to_message_id=first.message_id)
    assert reply.reply_to_message is not None and reply.reply_to_message.text == "first"
