"""Routes a user's plain messages (text, photo, contact, location) to the conversation they are in.

Conversation state is stored (storage/flows.py), not kept in memory, so a merchant half-way
through adding a product, or a buyer half-way through checkout, continues after a restart.
Each journey module registers the flows it owns with `register_flow`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from telegram import Update

from handlers.common import Actor, Context, actor, reply, services
from storage.models import Flow

FlowStep = Callable[[Update, Context, Actor, Flow], Awaitable[None]]
_FLOWS: dict[str, FlowStep] = {}
_PHOTO_OUTSIDE_FLOW: list[Callable[[Update, Context], Awaitable[None]]] = []


def register_flow(name: str, step: FlowStep) -> None:
    if name in _FLOWS and _FLOWS[name] is not step:
        raise ValueError(f"flow {name!r} registered twice")
    _FLOWS[name] = step


def register_photo_outside_flow(handler: Callable[[Update, Context], Awaitable[None]]) -> None:
    """Who handles a photo sent outside any conversation (the catalog's quick add)."""
    _PHOTO_OUTSIDE_FLOW[:] = [handler]


async def on_plain_message(update: Update, context: Context) -> None:
    """A message that is not a command: continue the user's conversation, or say what to do."""
    who = await actor(update, context)
    flow = await services(context).store.flows.get(who.id)
    step = _FLOWS.get(flow.name) if flow else None
    if flow is None or step is None:
        message = update.effective_message
        if message is not None and message.photo and _PHOTO_OUTSIDE_FLOW:
            await _PHOTO_OUTSIDE_FLOW[0](update, context)
            return
        await reply(update, who.t("common.not_understood"))
        return
    await step(update, context, who, flow)
