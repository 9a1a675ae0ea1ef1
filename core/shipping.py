"""A shop's shipping rules and what a parcel costs under them.

The rules: a default fee for the shop's own country; a fee of their own, or "not served", for
some regions (a Chinese province `CN-65`, a country `JP`, or `ABROAD` for every other country);
free shipping over an amount (满99包邮) where the default fee applies; and optionally a fee per
unit beyond the first and per kilogram beyond the first (for variants that carry a weight).
Countries abroad are not served unless a rule says so: a farm that has never thought about it
does not ship oranges to Germany.

One parcel per buyer: an order joining an earlier parcel (same buyer, shop and address, not yet
shipped) pays what the parcel as a whole costs less what the parcel already paid, never below zero.

Pure: no Telegram, no database. Amounts are minor units of the shop's currency.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from core.money import PriceError, minor_digits, parse_price
from core.regions import CHINA, HK_MACAU_TAIWAN, REMOTE_PROVINCES, by_name, country_of, province_region

ABROAD = "ABROAD"


@dataclass(frozen=True)
class Parcel:
    goods: int = 0   # the items' total
    units: int = 0
    grams: int = 0   # the weight of the items whose variant has one

    def __add__(self, other: Parcel) -> Parcel:
        return Parcel(self.goods + other.goods, self.units + other.units, self.grams + other.grams)


@dataclass(frozen=True)
class Rules:
    default_fee: int = 0
    free_over: int | None = None
    per_extra_unit: int = 0
    per_kg: int = 0
    # region -> its own fee, or None for "not served"
    regions: Mapping[str, int | None] = field(default_factory=dict)
    home: str = CHINA
    # False until the shop sets shipping: no fee and every address accepted, as before shipping existed
    configured: bool = True

    @property
    def is_empty(self) -> bool:
        return not self.configured

    def with_region(self, region: str, fee: int | None) -> Rules:
        return replace(self, regions={**self.regions, region: fee})

    def without_region(self, region: str) -> Rules:
        return replace(self, regions={k: v for k, v in self.regions.items() if k != region})

    def rule_for(self, region: str | None) -> tuple[bool, int | None]:
        """(served, its own fee or None for the default) for a region; an unknown region (None)
        is taken as the home country's default."""
        if self.is_empty or region is None:
            return True, None
        for key in (region, country_of(region)):
            if key in self.regions:
                fee = self.regions[key]
                return fee is not None, fee
        if is_home(self, region):
            return True, None
        if ABROAD in self.regions:
            fee = self.regions[ABROAD]
            return fee is not None, fee
        return False, None


def is_home(rules: Rules, region: str) -> bool:
    return country_of(region) == rules.home or region == rules.home


@dataclass(frozen=True)
class Quote:
    served: bool
    fee: int = 0
    # how much more the goods must come to for free shipping, when a threshold applies and is not met
    to_free: int | None = None
    # the fee of this parcel alone, when joining an earlier one made it lower (to tell the buyer why)
    alone: int | None = None


def quote(rules: Rules, region: str | None, parcel: Parcel, *, earlier: Parcel | None = None,
          earlier_fee: int = 0) -> Quote:
    """What shipping `parcel` to `region` costs; with `earlier`, as part of that parcel."""
    served, own_fee = rules.rule_for(region)
    if not served:
        return Quote(False)
    whole = parcel + earlier if earlier is not None else parcel
    fee, to_free = _fee(rules, own_fee, whole)
    if earlier is None:
        return Quote(True, fee, to_free)
    alone, _ = _fee(rules, own_fee, parcel)
    joined = max(0, fee - earlier_fee)
    return Quote(True, joined, to_free, alone if alone != joined else None)


def _fee(rules: Rules, own_fee: int | None, parcel: Parcel) -> tuple[int, int | None]:
    base = rules.default_fee if own_fee is None else own_fee
    # Free shipping over an amount is for the regions at the default fee: "满99包邮" is
    # understood to leave out the remote regions that carry a fee of their own.
    if own_fee is None and rules.free_over is not None:
        if parcel.goods >= rules.free_over:
            return 0, None
        to_free: int | None = rules.free_over - parcel.goods
    else:
        to_free = None
    extra_units = max(0, parcel.units - 1) * rules.per_extra_unit
    extra_kg = math.ceil(max(0, parcel.grams - 1000) / 1000) * rules.per_kg
    fee = base + extra_units + extra_kg
    return fee, (to_free if fee else None)


def outcomes_differ(rules: Rules, regions: tuple[str, ...], parcel: Parcel) -> bool:
    """Whether it matters which of `regions` the parcel goes to (else the buyer need not be asked)."""
    return len({quote(rules, region, parcel) for region in regions}) > 1


def close_to_free(quote_: Quote, free_over: int | None) -> bool:
    """Whether to tell the buyer how much more makes shipping free: within a quarter of the threshold."""
    return quote_.to_free is not None and free_over is not None and 0 < quote_.to_free <= free_over / 4


# ---------------------------------------------------------------- presets

PRESETS = ("remote_not_served", "flat_remote_more", "free_home")


def preset(name: str, currency: str, home: str = CHINA) -> Rules:
    """A farm's usual rules to start from (amounts in the shop's currency):
    - remote_not_served (包邮，偏远地区不发货): free everywhere; Xinjiang, Tibet, Qinghai, Ningxia,
      Inner Mongolia, Gansu, Hainan, Hong Kong, Macau, Taiwan and abroad not served;
    - flat_remote_more: 8 a parcel, free over 99; the remote provinces 20; HK, Macau, Taiwan
      and abroad not served;
    - free_home: free everywhere at home; abroad not served."""
    unit = 10 ** minor_digits(currency)
    if name == "remote_not_served":
        regions: dict[str, int | None] = {province_region(p): None for p in REMOTE_PROVINCES + HK_MACAU_TAIWAN}
        return Rules(0, None, 0, 0, regions if home == CHINA else {}, home)
    if name == "flat_remote_more":
        regions = {province_region(p): 20 * unit for p in REMOTE_PROVINCES}
        regions.update({province_region(p): None for p in HK_MACAU_TAIWAN})
        return Rules(8 * unit, 99 * unit, 0, 0, regions if home == CHINA else {}, home)
    if name == "free_home":
        return Rules(0, None, 0, 0, {}, home)
    raise ValueError(f"no preset {name!r}")


# ---------------------------------------------------------------- what a merchant types

class ShippingInputError(ValueError):
    """`reason`: fee (not an amount), regions (a name we do not know: `name`), rule (no amount
    or "not served" at the end), empty."""

    def __init__(self, reason: str, name: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.name = name


FREE_WORDS = {"0", "free", "包邮", "免运费", "免邮", "免费"}
OFF_WORDS = {"off", "no", "none", "0", "关", "关闭", "不包邮", "无", "取消"}
NOT_SERVED_WORDS = ("不发货", "不配送", "不送", "不发", "not served", "no shipping", "refuse", "off", "no")
DEFAULT_WORDS = ("默认", "default", "reset", "恢复默认")
ABROAD_WORDS = {"abroad", "海外", "境外", "国外", "other countries", "其他国家", "international"}
_SEPARATORS = re.compile(r"[,，、;；/]+")


def parse_fee(text: str, currency: str) -> int:
    """A fee typed by a merchant: an amount, or 0 / free / 包邮 for none."""
    cleaned = " ".join((text or "").split())
    if cleaned.lower() in FREE_WORDS:
        return 0
    try:
        return parse_price(cleaned, currency)
    except PriceError:
        raise ShippingInputError("fee") from None


def parse_threshold(text: str, currency: str) -> int | None:
    """The free-shipping threshold: an amount, or off / 0 / 关 for none."""
    cleaned = " ".join((text or "").split())
    if cleaned.lower() in OFF_WORDS:
        return None
    return parse_fee(cleaned, currency) or None


@dataclass(frozen=True)
class RegionChange:
    regions: tuple[str, ...]
    fee: int | None = None      # the regions' own fee
    not_served: bool = False
    reset: bool = False         # back to the default fee


def parse_region_change(text: str, currency: str) -> RegionChange:
    """"新疆 西藏 20", "Xinjiang, Tibet 20", "港澳台 不发货", "海南 默认", "abroad 80", "日本 off"."""
    cleaned = " ".join((text or "").split())
    if not cleaned:
        raise ShippingInputError("empty")
    lowered = cleaned.lower()
    change: RegionChange | None = None
    for words, made in ((NOT_SERVED_WORDS, RegionChange((), not_served=True)),
                        (DEFAULT_WORDS, RegionChange((), reset=True))):
        word = next((w for w in words if lowered.endswith(w)), None)
        if word is not None:
            change, names = made, cleaned[: len(cleaned) - len(word)]
            break
    if change is None:
        head, _, last = cleaned.rpartition(" ")
        if not head:  # "新疆20": the amount stuck to the name
            match = re.fullmatch(r"(.*?[^\d.,¥$€£\s])\s*([¥$€£]?\d[\d.,]*)", cleaned)
            if match is None:
                raise ShippingInputError("rule")
            head, last = match.group(1), match.group(2)
        change, names = RegionChange((), fee=parse_fee(last, currency)), head
    regions = _region_names(names)
    return replace(change, regions=regions)


def _region_names(text: str) -> tuple[str, ...]:
    found: list[str] = []
    for piece in _SEPARATORS.split(text):
        tokens = piece.split()
        i = 0
        while i < len(tokens):
            for j in range(min(len(tokens), i + 3), i, -1):  # "Inner Mongolia", "other countries"
                name = " ".join(tokens[i:j])
                regions = (ABROAD,) if name.lower() in ABROAD_WORDS else by_name(name)
                if regions is not None:
                    found += [r for r in regions if r not in found]
                    i = j
                    break
            else:
                raise ShippingInputError("regions", tokens[i])
    if not found:
        raise ShippingInputError("rule")
    return tuple(found)
