"""Conversations: each declares its steps once, and what the user may type or tap at each.

A conversation (adding a product, a checkout, a claim…) is a name and a step, stored per user
(storage/flows.py), not kept in memory, so a merchant half-way through adding a product, or a
buyer half-way through checkout, continues after a restart. Its steps are an enum in the module
that runs it; handlers/registry.py declares, for every step, the handler of what the user types or
sends there and the buttons that act there, in the spirit of PTB's ConversationHandler `states=`:

    Conversation(checkout.FLOW, {
        CheckoutStep.PHONE: Step(typed=checkout.on_phone),
        CheckoutStep.CONFIRM: Step(buttons=(taps.Confirm, taps.AddNote)),
        ...
    }, buttons=(taps.CancelCheckout,))  # at any step

The table routes typed input by step, and the button router asks it before calling a button's
handler: a button declared for a step runs only while the user is at that step (its handler finds
the conversation in `context.flow`); tapped at any other time it is answered as stale.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from telegram import Update

from core.callbacks import Tap
from core.i18n import N_
from handlers.common import Actor, Context, actor, query_of, reply, services
from storage.models import Flow

TypedInput = Callable[[Update, Context, Actor, Flow], Awaitable[None]]
HandlerCallback = Callable[[Update, Context], Awaitable[None]]

# Reply keyboards (share phone, share location) stay on the user's screen until a message
# removes them; every path that ends the step they belong to sends this.
REMOVE_KEYBOARD = {"remove_keyboard": True}
# Commands that do not end the conversation they interrupt: /cancel ends it itself (and says
# so), /start with a link lands on a card, which replaces a quiet flow on its own.
_COMMANDS_KEEPING_FLOW = frozenset({"/cancel"})


@dataclass(frozen=True)
class Step:
    """What one step takes: `typed` handles what the user types or sends there (None: the step
    waits for a tap, and typing gets the conversation's `use_buttons` hint); `buttons` act only
    at this step."""

    typed: TypedInput | None = None
    buttons: tuple[type[Tap], ...] = ()


@dataclass(frozen=True)
class Conversation:
    """One conversation's steps, declared once (every member of its step enum, no other)."""

    name: str
    steps: Mapping[StrEnum, Step]
    # Buttons that act at any step of this conversation (Cancel, Change address).
    buttons: tuple[type[Tap], ...] = ()
    # Not started on purpose (the card a buyer looks at): a command ends it without a word.
    quiet: bool = False
    # What a command that ends it says, where the general notice would puzzle (a buyer who
    # leaves a checkout for another link should read that nothing was ordered, not about "steps").
    interrupted: str = N_("flow.interrupted")
    # What typing at a step that waits for a tap gets.
    use_buttons: str = N_("flow.use_buttons")
    # How one of its buttons tapped outside its step is answered: an alert with this catalog key,
    # or a handler that says more (a checkout's "already placed as #12").
    stale: str | HandlerCallback = N_("common.stale_button")
    enum: type[StrEnum] = field(init=False)

    def __post_init__(self) -> None:
        if not self.steps:
            raise ValueError(f"conversation {self.name!r} has no steps")
        enum = type(next(iter(self.steps)))
        if set(self.steps) != set(enum):
            missing = sorted(str(s) for s in set(enum) - set(self.steps))
            raise ValueError(f"conversation {self.name!r} does not declare every step of {enum.__name__}: "
                             f"missing {missing}, or steps of another enum")
        object.__setattr__(self, "enum", enum)

    def step(self, value: str) -> Step | None:
        """The declaration of a stored step (None for a step this version no longer has)."""
        try:
            return self.steps[self.enum(value)]
        except ValueError:
            return None


class Conversations:
    """Every conversation of the bot, by name, and the conversation each bound button belongs to.

    Built by handlers/registry.py (one per Application, in bot_data), never by imports."""

    def __init__(self) -> None:
        self._by_name: dict[str, Conversation] = {}
        # A bound button's conversation and the steps it acts at (None: any step).
        self._bound: dict[type[Tap], tuple[Conversation, frozenset[str] | None]] = {}
        self._photo_outside: HandlerCallback | None = None
        self._contact_outside: HandlerCallback | None = None

    def add(self, conversation: Conversation) -> None:
        if conversation.name in self._by_name:
            raise ValueError(f"conversation {conversation.name!r} declared twice")
        self._by_name[conversation.name] = conversation
        for kind in conversation.buttons:
            self._bind(kind, conversation, None)
        at: dict[type[Tap], set[str]] = {}
        for value, step in conversation.steps.items():
            for kind in step.buttons:
                at.setdefault(kind, set()).add(str(value))
        for kind, steps in at.items():
            self._bind(kind, conversation, frozenset(steps))

    def _bind(self, kind: type[Tap], conversation: Conversation, steps: frozenset[str] | None) -> None:
        if kind in self._bound:
            raise ValueError(f"button {kind.__name__} bound twice")
        self._bound[kind] = (conversation, steps)

    def set_photo_outside(self, handler: HandlerCallback) -> None:
        """Who handles a photo sent outside any conversation (the catalog's quick add)."""
        self._photo_outside = handler

    def set_contact_outside(self, handler: HandlerCallback) -> None:
        """Who handles a contact shared outside any conversation (the Mini App's contact request
        posts the buyer's own into the chat)."""
        self._contact_outside = handler

    def is_quiet(self, name: str) -> bool:
        """A conversation the user did not start on purpose (nothing to cancel, nothing to announce)."""
        conversation = self._by_name.get(name)
        return conversation is not None and conversation.quiet

    def all(self) -> list[Conversation]:
        return list(self._by_name.values())

    def binding(self, kind: type[Tap]) -> tuple[Conversation, frozenset[str] | None] | None:
        """The conversation (and steps) a button acts in; None for a button free of conversations."""
        return self._bound.get(kind)

    async def read_for_tap(self, update: Update, context: Context, kind: type[Tap]) -> None:
        """Before a button's handler: for a button declared for some steps, the user's
        conversation goes into `context.flow` when it is at one of them. The handler asks for it
        with `flow_of_tap` once it knows the user may act (who may comes before what is current)."""
        bound = self._bound.get(kind)
        if bound is None:
            return
        conversation, steps = bound
        who = await actor(update, context)
        flow = await services(context).store.flows.get(who.id)
        if flow is not None and flow.name == conversation.name and (steps is None or flow.step in steps):
            context.flow = flow

    async def answer_stale(self, update: Update, context: Context) -> None:
        """A declared button tapped outside its steps: the conversation's own words for it."""
        tap = context.button
        bound = self._bound.get(type(tap)) if tap is not None else None
        stale = bound[0].stale if bound is not None else N_("common.stale_button")
        if isinstance(stale, str):
            who = await actor(update, context)
            await query_of(update).answer(who.t.plain(stale), show_alert=True)
        else:
            await stale(update, context)

    async def on_plain_message(self, update: Update, context: Context) -> None:
        """A message that is not a command: the step the user is at takes it, or say what to do."""
        who = await actor(update, context)
        flow = await services(context).store.flows.get(who.id)
        conversation = self._by_name.get(flow.name) if flow else None
        step = conversation.step(flow.step) if conversation and flow else None
        if flow is None or conversation is None or step is None:
            await self.outside(update, context, who)
            return
        if step.typed is None:
            await reply(update, who.t(conversation.use_buttons))
            return
        context.flow = flow
        await step.typed(update, context, who, flow)

    async def outside(self, update: Update, context: Context, who: Actor) -> None:
        """A message no conversation takes: a captioned photo may add a product; else say what to do."""
        message = update.effective_message
        if message is not None and message.photo and self._photo_outside is not None:
            await self._photo_outside(update, context)
            return
        if message is not None and message.contact and self._contact_outside is not None:
            await self._contact_outside(update, context)
            return
        await reply(update, who.t("common.not_understood"))

    async def on_command(self, update: Update, context: Context) -> None:
        """Any command ends the conversation it interrupts, and says so, so that what the user types
        next (after /addproduct then /orders, say) is never taken as an answer to the old question.

        Runs before the command's own handler (an earlier handler group); the reply keyboard of the
        interrupted step goes with the notice.
        """
        message = update.effective_message
        text = (message.text or "") if message is not None else ""
        command = text.split(maxsplit=1)[0].split("@", 1)[0].lower() if text else ""
        if command in _COMMANDS_KEEPING_FLOW or update.effective_user is None:
            return
        who = await actor(update, context)
        store = services(context).store
        flow = await store.flows.get(who.id)
        if flow is None:
            return
        conversation = self._by_name.get(flow.name)
        if conversation is not None and conversation.quiet:
            if command != "/start":  # a link replaces the card flow by itself: spare the write
                await store.flows.clear(who.id)
            return
        await store.holds.release(who.id, end_conversation=True)  # a checkout's held units go back
        said = conversation.interrupted if conversation is not None else N_("flow.interrupted")
        await reply(update, who.t(said), REMOVE_KEYBOARD)


async def flow_of_tap(update: Update, context: Context) -> Flow | None:
    """The conversation a step's button acts in (handlers/registry.py declares at which steps);
    None when the user is not at one of them, after answering the tap as stale."""
    if context.has_flow:
        return context.flow
    await conversations_of(context).answer_stale(update, context)
    return None


def conversations_of(context: Context) -> Conversations:
    """The bot's table of conversations (handlers/registry.py puts it in bot_data)."""
    return context.bot_data["conversations"]


async def outside_flow(update: Update, context: Context, who: Actor) -> None:
    """What a message gets when the conversation it came in cannot take it after all."""
    await conversations_of(context).outside(update, context, who)
