"""Button data: one small frozen dataclass per action, packed as `action:arg:arg` (at most 64 bytes).

Every inline button the bot sends carries one of the `Tap` classes below, packed by `Tap.pack()`.
A tap comes back as text that anybody can forge, so `read()` unpacks it into the class its action
names, checking every field against its range. Handlers get the typed object (the router decodes
once per update) and never parse the text themselves; they still check that the user may act on
the shop or order it names.

Every number is bounded where it is read: ids to 1..2^63-1 (SQLite's integer), slots to the live
links a shop can have, quantities to what one order line may hold, pages to a sane count. A value
outside its field's range makes the whole tap unreadable, so the user is told the button is no
longer valid: never a traceback from SQLite ("Python int too large"), never a stored "link
700000000000000000".

tests/test_callbacks.py packs every action with the largest values its fields take and checks
Telegram's 64-byte limit and the round trip.
"""

from __future__ import annotations

import re
import typing
from dataclasses import MISSING, dataclass, fields
from typing import Annotated, Any, ClassVar

from core.links import MAX_QUANTITY, MAX_SLOT  # MAX_SLOT: live links per shop; 0 on a buyer's button: none

MAX_BYTES = 64
INT64_MAX = 2**63 - 1  # what SQLite stores as an integer: an id past MAX_ID, forged, never reaches it
MAX_PAGE = 10_000  # pages of a list; more than any shop has, small enough for OFFSET arithmetic
MAX_INDEX = 999  # a position in a short list the button was made from (a price choice, a time zone)
# Row ids and amounts stop at 10^12 - 1 (not SQLite's 2^63): with twelve digits the longest button,
# Buy now with its product, price and variant, keeps under Telegram's 64 bytes (tests/test_callbacks.py).
MAX_ID = 10**12 - 1
MAX_USER_ID = 2**53  # Telegram's user ids fit in 52 bits
# Used with fullmatch, and ASCII digits only: `$` would accept a trailing newline, `\d` any script's digits.
_ACTION_RE = re.compile(r"[a-z][a-z0-9_.]{0,31}")
_INT_RE = re.compile(r"-?[0-9]{1,19}")
_WORD_RE = re.compile(r"[A-Za-z0-9_-]+")


class CallbackDataError(ValueError):
    """The callback data is not something this bot produced."""


# ---------------------------------------------------------------- field kinds

@dataclass(frozen=True)
class Range:
    """An integer field's accepted values."""

    low: int
    high: int

    def read(self, text: str) -> int:
        if not _INT_RE.fullmatch(text):
            raise CallbackDataError(f"{text!r} is not a number")
        value = int(text)
        if not self.low <= value <= self.high:
            raise CallbackDataError(f"{value} is out of {self.low}..{self.high}")
        return value


@dataclass(frozen=True)
class Text:
    """A word field: letters, digits, '_' and '-' (a token, a field name, a list's code)."""

    max_length: int

    def read(self, text: str) -> str:
        if len(text) > self.max_length or not _WORD_RE.fullmatch(text):
            raise CallbackDataError(f"{text!r} is not a word of up to {self.max_length} characters")
        return text


Id = Annotated[int, Range(1, MAX_ID)]  # a row id: shop, product, variant, order, claim
OptId = Annotated[int | None, Range(1, MAX_ID)]
IdOrZero = Annotated[int, Range(0, MAX_ID)]  # 0: none (a product's own pre-sale, not a variant's)
UserId = Annotated[int, Range(1, MAX_USER_ID)]
Slot = Annotated[int, Range(0, MAX_SLOT)]  # a live link on a buyer's button; 0: not from a link
LinkSlot = Annotated[int, Range(1, MAX_SLOT)]  # a live link the merchant arranges
Units = Annotated[int, Range(1, MAX_QUANTITY)]
UnitsOrZero = Annotated[int, Range(0, MAX_QUANTITY)]  # 0 removes a cart line
Page = Annotated[int, Range(0, MAX_PAGE)]
Index = Annotated[int, Range(0, MAX_INDEX)]
Flag = Annotated[int, Range(0, 1)]
Amount = Annotated[int, Range(0, MAX_ID)]  # money in minor units, or minutes
ChatId = Annotated[int, Range(-(10**16), -1)]  # a group's or channel's id (negative)
Word = Annotated[str, Text(12)]  # a field name ("description"), a list's code, a period
Token = Annotated[str | None, Text(24)]  # a checkout's token (16 characters, or "q" and a query id)


# ---------------------------------------------------------------- the base

TAPS: dict[str, type[Tap]] = {}  # action -> its class, filled as the classes below are defined


class Tap:
    """Base of every button's data. A subclass names its action: `class X(Tap, action="x.y")`,
    and is a frozen dataclass whose fields are the arguments, in order. Optional fields (None by
    default) come last and are left off the packed text when None."""

    ACTION: ClassVar[str]
    _fields: ClassVar[tuple[tuple[str, Range | Text, bool], ...] | None] = None

    def __init_subclass__(cls, action: str = "", **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if not action:
            return  # a base naming the first field of several actions (OnOrder, OnShop, …)
        if not _ACTION_RE.fullmatch(action):
            raise TypeError(f"{cls.__name__}: bad action {action!r}")
        if action in TAPS:
            raise TypeError(f"action {action!r} belongs to {TAPS[action].__name__} already")
        cls.ACTION = action
        TAPS[action] = cls

    @classmethod
    def _specs(cls) -> tuple[tuple[str, Range | Text, bool], ...]:
        """(name, kind, required) per field, read once from the annotations."""
        specs = cls.__dict__.get("_fields")
        if specs is None:
            hints = typing.get_type_hints(cls, include_extras=True)
            specs = tuple((f.name, _kind_of(hints[f.name]), _required(f)) for f in fields(cls))  # type: ignore[arg-type]
            cls._fields = specs
        return specs

    def pack(self) -> str:
        """`action:arg:arg`; ValueError when a value would not read back (a bug, not a user's doing)."""
        parts = [self.ACTION]
        missing = False
        for name, kind, _ in self._specs():
            value = getattr(self, name)
            if value is None:
                missing = True
                continue
            if missing:
                raise ValueError(f"{self!r}: {name} given after an absent field")
            text = str(value)
            kind.read(text)  # refuses what the tap could not read back
            parts.append(text)
        data = ":".join(parts)
        if len(data.encode()) > MAX_BYTES:
            raise ValueError(f"callback data over {MAX_BYTES} bytes: {data!r}")
        return data

    @classmethod
    def unpack(cls, args: tuple[str, ...]) -> Tap:
        specs = cls._specs()
        if len(args) > len(specs):
            raise CallbackDataError(f"{cls.ACTION}: {len(args)} arguments, at most {len(specs)}")
        values: list[Any] = []
        for index, (name, kind, required) in enumerate(specs):
            if index >= len(args):
                if required:
                    raise CallbackDataError(f"{cls.ACTION}: {name} is missing")
                break
            values.append(kind.read(args[index]))
        return cls(*values)


def _kind_of(hint: Any) -> Range | Text:
    for meta in getattr(hint, "__metadata__", ()):
        if isinstance(meta, (Range, Text)):
            return meta
    raise TypeError(f"a Tap field needs a kind from core.callbacks (Id, Word, …), not {hint!r}")


def _required(field: Any) -> bool:
    return field.default is MISSING


def read(data: str | None) -> Tap:
    """The tap `data` stands for; CallbackDataError when it is not something this bot made."""
    if not data or len(data.encode("utf-8", "replace")) > MAX_BYTES:
        raise CallbackDataError("empty or too long")
    action, *args = data.split(":")
    cls = TAPS.get(action)
    if cls is None:
        raise CallbackDataError(f"no action {action!r}")
    return cls.unpack(tuple(args))


# What many buttons act on, first: a handler shared by several actions takes the base
# (`context.tap(OnOrder).order`), and the guards check membership of that row's shop.

@dataclass(frozen=True)
class OnOrder(Tap):
    order: Id


@dataclass(frozen=True)
class OnShop(Tap):
    shop: Id


@dataclass(frozen=True)
class OnProduct(Tap):
    product: Id


@dataclass(frozen=True)
class OnVariant(Tap):
    variant: Id


@dataclass(frozen=True)
class OnClaim(Tap):
    claim: Id


@dataclass(frozen=True)
class OnSlot(Tap):
    slot: LinkSlot


@dataclass(frozen=True)
class OnFixRequest(Tap):
    request: Id  # a buyer's correction request


@dataclass(frozen=True)
class OnPresale(OnProduct):
    variant: IdOrZero = 0  # 0: the product's own pre-sale


@dataclass(frozen=True)
class AskStep(OnShop):
    """An owner's settings button asking for one value (handlers/guards.py, owner_step_of_tap)."""

    step: Word


# ---------------------------------------------------------------- the actions, journey by journey
# Start, language, shop setup.

@dataclass(frozen=True)
class ChooseLanguage(Tap, action="lang"):
    code: Word


@dataclass(frozen=True)
class OpenShop(Tap, action="shop.new"):
    pass


@dataclass(frozen=True)
class MyShop(Tap, action="shop.card"):
    pass


@dataclass(frozen=True)
class SwitchShop(OnShop, action="shop.use"):
    pass


# The catalog: products and their variants.

@dataclass(frozen=True)
class AddProduct(Tap, action="cat.add"):
    pass


@dataclass(frozen=True)
class SkipAddStep(Tap, action="cat.skip"):
    step: Word


@dataclass(frozen=True)
class PickPrice(Tap, action="cat.price"):
    index: Index


@dataclass(frozen=True)
class ProductList(Tap, action="cat.list"):
    page: Page = 0


@dataclass(frozen=True)
class ViewProduct(OnProduct, action="cat.view"):
    pass


@dataclass(frozen=True)
class EditProduct(OnProduct, action="cat.edit"):
    field: Word


@dataclass(frozen=True)
class RemoveDescription(OnProduct, action="cat.nodesc"):
    pass


@dataclass(frozen=True)
class SetProductHidden(OnProduct, action="cat.vis"):
    hidden: Flag


@dataclass(frozen=True)
class AskDeleteProduct(OnProduct, action="cat.del"):
    pass


@dataclass(frozen=True)
class DeleteProduct(OnProduct, action="cat.delok"):
    pass


@dataclass(frozen=True)
class ViewVariant(OnVariant, action="var.view"):
    pass


@dataclass(frozen=True)
class AddVariant(OnProduct, action="var.add"):
    pass


@dataclass(frozen=True)
class EditVariant(OnVariant, action="var.edit"):
    field: Word


@dataclass(frozen=True)
class SetVariantHidden(OnVariant, action="var.vis"):
    hidden: Flag


@dataclass(frozen=True)
class AskDeleteVariant(OnVariant, action="var.del"):
    pass


@dataclass(frozen=True)
class DeleteVariant(OnVariant, action="var.delok"):
    pass


# Pre-sale (variant 0: the product's own).

@dataclass(frozen=True)
class SetPresale(OnPresale, action="ps.set"):
    pass


@dataclass(frozen=True)
class PresaleInStock(OnPresale, action="ps.now"):
    pass


@dataclass(frozen=True)
class ClosePresale(OnPresale, action="ps.close"):
    pass


@dataclass(frozen=True)
class KeepMovedOrder(OnOrder, action="ps.keep"):
    pass


# Live links, QR codes and sessions.

@dataclass(frozen=True)
class LiveBoard(Tap, action="live.board"):
    pass


@dataclass(frozen=True)
class SlotMenu(OnSlot, action="live.slot"):
    pass


@dataclass(frozen=True)
class PickForSlot(OnSlot, action="live.pick"):
    page: Page = 0


@dataclass(frozen=True)
class PutOnSlot(OnSlot, action="live.pin"):
    product: Id


@dataclass(frozen=True)
class PutOnNextSlot(OnProduct, action="live.next"):
    pass


@dataclass(frozen=True)
class PutVariantOnNextSlot(OnVariant, action="live.nextv"):
    pass


@dataclass(frozen=True)
class ClearSlot(OnSlot, action="live.clear"):
    pass


@dataclass(frozen=True)
class SwapFrom(OnSlot, action="live.swapfrom"):
    pass


@dataclass(frozen=True)
class SwapSlots(OnSlot, action="live.swap"):
    other: LinkSlot


@dataclass(frozen=True)
class SlotQr(OnSlot, action="live.qr"):
    pass


@dataclass(frozen=True)
class ShopQr(Tap, action="live.shopqr"):
    pass


@dataclass(frozen=True)
class QrSheet(Tap, action="live.sheet"):
    pass


@dataclass(frozen=True)
class StartSession(Tap, action="live.start"):
    pass


@dataclass(frozen=True)
class EndSession(Tap, action="live.end"):
    pass


@dataclass(frozen=True)
class AlertFollowers(Tap, action="live.alert"):
    session: Id


# The shop's channel and group.

@dataclass(frozen=True)
class ConnectChat(Tap, action="ch.c"):
    chat: ChatId
    shop: Id


@dataclass(frozen=True)
class PostProduct(OnProduct, action="ch.p"):
    pass


@dataclass(frozen=True)
class PostBoard(Tap, action="ch.b"):
    pass


# Buying: the card, the cart, checkout.

@dataclass(frozen=True)
class Follow(OnShop, action="f.on"):
    pass


@dataclass(frozen=True)
class Unfollow(OnShop, action="f.off"):
    pass


@dataclass(frozen=True)
class ShopCatalog(OnShop, action="b.shop"):
    page: Page = 0


@dataclass(frozen=True)
class OpenProduct(OnProduct, action="b.p"):
    slot: Slot = 0
    variant: OptId = None


@dataclass(frozen=True)
class SetCardQuantity(OnProduct, action="b.q"):
    quantity: Units
    slot: Slot
    variant: OptId = None


@dataclass(frozen=True)
class PickVariant(OnProduct, action="b.v"):
    variant: Id
    slot: Slot = 0


@dataclass(frozen=True)
class Noop(Tap, action="b.noop"):
    pass


@dataclass(frozen=True)
class NotifyWhenBack(OnProduct, action="b.wait"):
    pass


@dataclass(frozen=True)
class BuyNow(OnProduct, action="b.now"):
    quantity: Units
    slot: Slot
    unit_price: Annotated[int | None, Range(0, MAX_ID)] = None  # the price the button showed
    variant: OptId = None


@dataclass(frozen=True)
class AddToCart(OnProduct, action="b.cart"):
    quantity: Units
    slot: Slot
    variant: OptId = None


@dataclass(frozen=True)
class ShowCart(OnShop, action="c.show"):
    page: Page = 0


@dataclass(frozen=True)
class SetCartLine(OnShop, action="c.set"):
    product: Id
    quantity: UnitsOrZero
    variant: OptId = None


@dataclass(frozen=True)
class CartCheckout(OnShop, action="c.go"):
    pass


@dataclass(frozen=True)
class UseSaved(Tap, action="b.use"):
    token: Token = None


@dataclass(frozen=True)
class ChangeAddress(Tap, action="b.chg"):
    token: Token = None


@dataclass(frozen=True)
class ChangeRecipient(Tap, action="b.rcp"):
    token: Token = None


@dataclass(frozen=True)
class ChangePhone(Tap, action="b.ph"):
    token: Token = None


@dataclass(frozen=True)
class AddNote(Tap, action="b.note"):
    token: Token = None


@dataclass(frozen=True)
class CancelCheckout(Tap, action="b.x"):
    token: Token = None


@dataclass(frozen=True)
class PickRegion(Tap, action="b.rg"):
    index: Index
    token: Token = None


@dataclass(frozen=True)
class PickMethod(Tap, action="b.m"):
    method: Word
    token: Token = None


@dataclass(frozen=True)
class Confirm(Tap, action="b.ok"):
    token: Token = None


# The buyer's orders.

@dataclass(frozen=True)
class MyOrders(Tap, action="o.mine"):
    pass


@dataclass(frozen=True)
class AskCancelOrder(OnOrder, action="o.cancel"):
    pass


@dataclass(frozen=True)
class CancelOrder(OnOrder, action="o.cancelok"):
    pass


@dataclass(frozen=True)
class Received(OnOrder, action="o.recv"):
    pass


@dataclass(frozen=True)
class BuyerFix(OnOrder, action="o.fix"):
    pass


@dataclass(frozen=True)
class BuyerFixField(OnOrder, action="o.fixf"):
    field: Index


@dataclass(frozen=True)
class AskShop(OnOrder, action="o.ask"):
    pass


@dataclass(frozen=True)
class OrderAgain(OnOrder, action="o.again"):
    pass


@dataclass(frozen=True)
class ReportDamage(OnOrder, action="o.dmg"):
    pass


@dataclass(frozen=True)
class EraseMyData(Tap, action="pv.ok"):
    pass


@dataclass(frozen=True)
class KeepMyData(Tap, action="pv.no"):
    pass


# The order desk.

@dataclass(frozen=True)
class OrderList(Tap, action="d.list"):
    code: Word
    page: Page = 0


@dataclass(frozen=True)
class OrderRange(OnShop, action="d.rng"):
    first: Id
    last: Id


@dataclass(frozen=True)
class ViewOrder(OnOrder, action="d.view"):
    back: Annotated[str | None, Text(12)] = None
    page: Annotated[int | None, Range(0, MAX_PAGE)] = None


@dataclass(frozen=True)
class ConfirmOrder(OnOrder, action="d.conf"):
    pass


@dataclass(frozen=True)
class ShipOrder(OnOrder, action="d.ship"):
    pass


@dataclass(frozen=True)
class ShipWithoutTracking(OnOrder, action="d.shipnow"):
    pass


@dataclass(frozen=True)
class CancelByShop(OnOrder, action="d.cancel"):
    pass


@dataclass(frozen=True)
class Delivered(OnOrder, action="d.done"):
    pass


@dataclass(frozen=True)
class ShopFix(OnOrder, action="d.fix"):
    pass


@dataclass(frozen=True)
class ShopFixField(OnOrder, action="d.fixf"):
    field: Index


@dataclass(frozen=True)
class ApplyFix(OnFixRequest, action="d.rqok"):
    pass


@dataclass(frozen=True)
class DeclineFix(OnFixRequest, action="d.rqno"):
    pass


@dataclass(frozen=True)
class WriteBuyer(OnOrder, action="d.ans"):
    pass


@dataclass(frozen=True)
class OrderSlip(OnOrder, action="d.slip"):
    pass


@dataclass(frozen=True)
class StartSelect(Tap, action="d.sel"):
    code: Word
    page: Page
    fresh: Annotated[int | None, Range(1, 1)] = None  # 1: "☑ Select" on the list, a new selection


@dataclass(frozen=True)
class ToggleSelected(Tap, action="d.tog"):
    code: Word
    page: Page
    order: Id


@dataclass(frozen=True)
class ApplySelected(Tap, action="d.selgo"):
    code: Word
    what: Word


@dataclass(frozen=True)
class LeaveSelect(Tap, action="d.sel0"):
    code: Word
    page: Page


@dataclass(frozen=True)
class BulkShip(OnShop, action="bs.go"):
    pass


@dataclass(frozen=True)
class CancelBulkShip(OnShop, action="bs.no"):
    pass


@dataclass(frozen=True)
class PackSlips(OnShop, action="slip.p"):
    size: Word


@dataclass(frozen=True)
class TellAudience(OnShop, action="tl.to"):
    waiting: Flag  # 0: this live session's buyers, 1: buyers waiting for their orders


@dataclass(frozen=True)
class TellSend(OnShop, action="tl.go"):
    pass


@dataclass(frozen=True)
class TellCancel(Tap, action="tl.no"):
    pass


# Staff.

@dataclass(frozen=True)
class StaffList(Tap, action="st.show"):
    page: Page = 0


@dataclass(frozen=True)
class InviteStaff(Tap, action="st.inv"):
    pass


@dataclass(frozen=True)
class RemoveStaff(Tap, action="st.rm"):
    user: UserId


@dataclass(frozen=True)
class StaffExportRule(OnShop, action="st.exp"):
    export_all: Flag  # the rule the tap sets: 1, staff export every order; 0, only those to ship


# Summaries and settings.

@dataclass(frozen=True)
class SummaryPeriod(OnShop, action="sum.p"):
    period: Word


@dataclass(frozen=True)
class AllShopsPeriod(Tap, action="adm.p"):
    period: Word


@dataclass(frozen=True)
class ShowSettings(Tap, action="set.show"):
    pass


@dataclass(frozen=True)
class AskSetting(AskStep, action="set.ask"):
    pass


@dataclass(frozen=True)
class PickTimeZone(OnShop, action="set.tz"):
    index: Index


@dataclass(frozen=True)
class SummariesOnOff(OnShop, action="set.onoff"):
    on: Flag


@dataclass(frozen=True)
class SetOpensIn(OnShop, action="set.opens"):
    """What the shop's QR codes and posted cards open: the Mini App (1) or the chat (0)."""
    app: Flag


@dataclass(frozen=True)
class ShippingPreset(OnShop, action="sh.pre"):
    index: Index


@dataclass(frozen=True)
class AskShipping(AskStep, action="sh.ask"):
    pass


@dataclass(frozen=True)
class ShippingOff(OnShop, action="sh.off"):
    pass


# Damaged-goods claims.

@dataclass(frozen=True)
class ClaimsOnOff(OnShop, action="clp.on"):
    on: Flag


@dataclass(frozen=True)
class AskClaimPolicy(AskStep, action="clp.ask"):
    pass


@dataclass(frozen=True)
class ClaimLine(OnOrder, action="cl.l"):
    line: Index


@dataclass(frozen=True)
class ClaimUnits(OnOrder, action="cl.u"):
    line: Index
    units: Units


@dataclass(frozen=True)
class SendClaim(OnOrder, action="cl.send"):
    pass


@dataclass(frozen=True)
class DropClaim(OnOrder, action="cl.x"):
    pass


@dataclass(frozen=True)
class ApproveClaim(OnClaim, action="cl.ok"):
    pass


@dataclass(frozen=True)
class ClaimOtherAmount(OnClaim, action="cl.amt"):
    pass


@dataclass(frozen=True)
class RejectClaim(OnClaim, action="cl.no"):
    pass


# Payments.

@dataclass(frozen=True)
class PaymentSettings(OnShop, action="pay.set"):
    pass


@dataclass(frozen=True)
class TogglePaymentMethod(OnShop, action="pay.tog"):
    method: Word


@dataclass(frozen=True)
class PaymentTimeout(OnShop, action="pay.tmo"):
    minutes: Amount


@dataclass(frozen=True)
class UploadPaymentCode(OnShop, action="pay.code"):
    pass


@dataclass(frozen=True)
class ClaimPaid(OnOrder, action="pay.claim"):
    pass


@dataclass(frozen=True)
class PaymentReceived(OnOrder, action="pay.ok"):
    pass


@dataclass(frozen=True)
class PaymentNotReceived(OnOrder, action="pay.no"):
    pass


@dataclass(frozen=True)
class RefundSettled(OnOrder, action="rf.ok"):
    pass


# Checkout's buttons carry their checkout's token last, so that a stale button of an earlier
# checkout never touches the current one (handlers/checkout.py, checkout_of_tap).
CheckoutTap = UseSaved | ChangeAddress | ChangeRecipient | ChangePhone | AddNote | CancelCheckout | PickRegion \
    | PickMethod | Confirm
CHECKOUT_TAPS = (UseSaved, ChangeAddress, ChangeRecipient, ChangePhone, AddNote, CancelCheckout, PickRegion,
                 PickMethod, Confirm)
