"""A variant's weight, read from its name: farms name weights as they sell them ("5斤", "10 jin",
"2.5kg", "500g", "2公斤"), so a fee per kg (core/shipping.py) needs nothing more from the merchant."""

from __future__ import annotations

import re
import unicodedata

# grams per unit; 斤 is the market jin (500 g), 两 a tenth of it
_UNITS = {"kg": 1000, "公斤": 1000, "千克": 1000, "g": 1, "克": 1, "斤": 500, "jin": 500, "两": 50, "lb": 454,
          "lbs": 454}
_WEIGHT = re.compile(r"(\d+(?:\.\d+)?)\s*(kg|公斤|千克|jin|lbs|lb|g|克|斤|两)(?![a-z])", re.IGNORECASE)
MAX_GRAMS = 1_000_000  # a tonne: anything heavier is not a parcel, and not a weight we read


def weight_in_name(name: str) -> int | None:
    """The weight a name states, in grams ("5斤" -> 2500, "2.5kg" -> 2500), else None."""
    match = _WEIGHT.search(unicodedata.normalize("NFKC", name or ""))
    if match is None:
        return None
    grams = round(float(match.group(1)) * _UNITS[match.group(2).lower()])
    return grams if 0 < grams <= MAX_GRAMS else None
