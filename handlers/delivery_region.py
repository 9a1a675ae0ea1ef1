"""Shipping at checkout: the region of the buyer's address, the fee, and the lines that show them.

The region is read from the address (core/regions.py), or from a shared location; when neither
settles it and the answer changes the fee (or whether the shop ships there at all), the buyer
picks it from buttons: the provinces the address could be in, else all of them. Never a guess.
A region the shop does not serve is refused before Confirm, naming it, with Change address.
The same buyer's earlier order to the same address, not shipped yet, makes one parcel: the new
order pays what the parcel as a whole costs less what it already paid (often nothing).
"""

from __future__ import annotations

from dataclasses import dataclass

from telegram import Update

from core import callbacks as taps
from core.i18n import Translator
from core.regions import Found, china_regions, find, from_location
from core.shipping import ABROAD, Parcel, Quote, Rules, close_to_free, outcomes_differ, quote
from handlers.common import Context, button, keyboard
from handlers.shipping import home_of, place_name
from storage import Store
from storage.models import Shop

PICKER_COLUMNS = 3


@dataclass(frozen=True)
class Shipping:
    """What the confirmation shows about shipping, worked out from the checkout's data."""
    rules: Rules
    region: str | None = None
    quote: Quote | None = None           # None: the shop has no shipping rules
    parcel_number: int | None = None     # the earlier order this one would be packed with
    choices: tuple[str, ...] = ()        # the buyer must pick one of these first

    @property
    def refused(self) -> bool:
        return self.quote is not None and not self.quote.served

    @property
    def fee(self) -> int:
        return self.quote.fee if self.quote is not None and self.quote.served else 0


async def shipping_for(store: Store, buyer_id: int, shop: Shop, data: dict, parcel: Parcel, *,
                       ships_from: str | None = None) -> Shipping:
    """The shipping of a checkout's order (`ships_from`: its pre-sale date): its region (settled,
    or the choices to offer) and its fee. `data` holds the address (and a picked region or a
    shared location): the chat's checkout conversation, or the Mini App's checkout."""
    rules = await store.shipping.of_shop(shop.id, home_of(shop))
    if not rules.configured:
        return Shipping(rules)
    found = region_of(rules, data)
    region = found.region
    if region is None:
        choices = found.candidates or all_choices(rules)
        if outcomes_differ(rules, choices, parcel):
            return Shipping(rules, choices=choices)
    priced = pricing_region(rules, found)
    earlier = await store.orders.parcel_so_far(buyer_id, shop.id, data.get("address") or "", ships_from)
    if earlier is None:
        return Shipping(rules, region, quote(rules, priced, parcel))
    number, so_far, paid = earlier
    return Shipping(rules, region, quote(rules, priced, parcel, earlier=so_far, earlier_fee=paid), number)


def region_of(rules: Rules, data: dict) -> Found:
    """The checkout's region: the one the buyer picked, else read from the address, else from a
    shared location."""
    if data.get("region"):
        return Found(data["region"])
    found = find(data.get("address") or "", rules.home)
    if found.region is None and not found.candidates and data.get("lat") is not None:
        found = from_location(data["lat"], data["lon"], rules.home)
    return found


def pricing_region(rules: Rules, found: Found) -> str:
    """The region whose rule prices the parcel: the settled one, else any of those it could be
    (the confirmation asks the buyer whenever they would price it differently)."""
    return found.region or (found.candidates or all_choices(rules))[0]


def order_regions(rules: Rules, data: dict) -> tuple[str | None, str | None]:
    """(the region an order is placed with, None when unsettled; the region pricing it)."""
    if not rules.configured:
        return None, None
    found = region_of(rules, data)
    return found.region, pricing_region(rules, found)


def all_choices(rules: Rules) -> tuple[str, ...]:
    """Every region a buyer could pick: at home the provinces (China) or the country; abroad the
    countries the rules name, and "another country"."""
    home = tuple(china_regions()) if rules.home == "CN" else (rules.home,)
    named = tuple(r for r in sorted(rules.regions) if "-" not in r and r not in (ABROAD, rules.home))
    return home + named + (ABROAD,)


def confirmation_lines(t: Translator, shipping: Shipping, currency: str) -> list[str]:
    """The shipping line under the items (the total includes it), and why it is what it is."""
    q = shipping.quote
    if q is None or not q.served:
        return []
    where = place_name(t, shipping.region) if shipping.region else None
    fee = t.money(q.fee, currency)
    lines = [t("shipping.line_region", region=where, fee=fee) if where else t("shipping.line", fee=fee)]
    if shipping.parcel_number is not None:
        lines.append(t("shipping.one_parcel", number=shipping.parcel_number,
                       alone=t.money(q.alone if q.alone is not None else q.fee, currency)))
    if close_to_free(q, shipping.rules.free_over):
        lines.append(t("shipping.add_for_free", amount=t.money(q.to_free or 0, currency)))
    return lines


def refusal_text(t: Translator, shipping: Shipping, shop: Shop) -> str:
    where = place_name(t, shipping.region) if shipping.region else t.plain("shipping.there")
    return t("shipping.not_served_buyer", shop=shop.name, region=where)


def picker(t: Translator, choices: tuple[str, ...], token: str):
    """The regions to pick from, three to a row, then Change address and Cancel."""
    picks = [button(place_name(t, region), taps.PickRegion(i, token)) for i, region in enumerate(choices)]
    rows = [picks[i:i + PICKER_COLUMNS] for i in range(0, len(picks), PICKER_COLUMNS)]
    rows.append([button(t.plain("checkout.button_change_address"), taps.ChangeAddress(token)),
                 button(t.plain("checkout.button_cancel"), taps.CancelCheckout(token))])
    return keyboard(rows)


def picked_region(update: Update, context: Context, data: dict) -> str | None:
    """The region a picker button names, if it is one of the choices offered."""
    index = context.tap(taps.PickRegion).index
    choices = data.get("region_choices") or []
    return choices[index] if index < len(choices) else None
