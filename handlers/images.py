"""Sending generated images: rendered off the event loop, uploaded once, then re-sent by file_id.

An image is identified by a content key (a hash of everything it shows). While the key is
unchanged the stored file_id is sent, so Telegram never receives the same bytes twice.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from telegram import InputFile, Message
from telegram.error import BadRequest

from storage import Store

log = logging.getLogger(__name__)


async def send_image(bot, chat_id: int, store: Store, key: str, render: Callable[[], bytes], *,
                     filename: str, as_document: bool = False, caption: str | None = None,
                     markup=None) -> Message:
    """Send the image named by `key`, by file_id if it was uploaded before, else render and upload."""
    kind_key = ("doc:" if as_document else "photo:") + key
    send = bot.send_document if as_document else bot.send_photo
    file_id = await store.live.image_file_id(kind_key)
    if file_id is not None:
        try:
            return await send(chat_id, file_id, caption=caption, reply_markup=markup)
        except BadRequest as exc:  # e.g. the bot's token changed: file_ids are per bot
            log.warning("stored file_id for %s was refused (%s); uploading again", kind_key, exc)
    data = await asyncio.to_thread(render)  # QR rendering is CPU work: keep the loop free
    message = await send(chat_id, InputFile(data, filename=filename), caption=caption, reply_markup=markup)
    sent_id = message.document.file_id if as_document else max(
        message.photo, key=lambda size: size.width * size.height).file_id
    await store.live.remember_image(kind_key, sent_id)
    return message
