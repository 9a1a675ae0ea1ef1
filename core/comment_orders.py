"""Orders typed as comments in the shop's group during a live ("1", "1 x2", "+1", "链接1 2份",
"link 2 ×3"): which link and how many. Anything else is not an order and is left alone, so a
viewer's "hello" or "is 2 still there?" never gets a reply. Pure."""

from __future__ import annotations

import re
import unicodedata

from core.links import MAX_QUANTITY, MAX_SLOT

# link 2, 链接2, L2, #2, +2, or the number alone; then optionally x3, ×3, *3, 3份/个/件/箱/盒/斤, "3 pcs".
_ORDER = re.compile(
    r"""^(?:(?:link|链接|lnk|l|\#)\s*|\+)?(?P<slot>\d{1,2})
        (?:\s*(?:[x×*]\s*(?P<times>\d{1,2})|\s+(?P<count>\d{1,2})\s*(?:份|个|件|箱|盒|斤|pcs?|units?)?
           |\s*(?P<unit>\d{1,2})\s*(?:份|个|件|箱|盒|pcs?|units?)))?$""",
    re.IGNORECASE | re.VERBOSE)


def parse_comment(text: str) -> tuple[int, int] | None:
    """(link, units) a comment orders, or None when it is not an order."""
    cleaned = unicodedata.normalize("NFKC", text or "").strip().rstrip("!！。.")
    match = _ORDER.match(cleaned)
    if match is None:
        return None
    slot = int(match["slot"])
    quantity = int(match["times"] or match["count"] or match["unit"] or 1)
    if not 1 <= slot <= MAX_SLOT or not 1 <= quantity <= MAX_QUANTITY:
        return None
    return slot, quantity
