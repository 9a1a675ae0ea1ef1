"""The crash drill as a test: the real bot process is SIGKILLed several times while buyers add to
their carts and check out and the owner edits the catalog and works the order desk."""

from __future__ import annotations

import pytest

from tests.crash_drill import run_drill


async def test_sigkill_at_random_moments_of_a_busy_sale_loses_nothing_and_doubles_nothing(tmp_path):
    result = await run_drill(tmp_path, buyers=300, stock=100, kills=3)
    print("\n".join(result.unfinished_at_kills))
    assert result.problems == [], f"crash drill seed {result.seed}: " + "; ".join(result.problems[:20])
    assert result.kills == 3 + 2  # among the buyers' taps, at the desk, at a stock edit
    assert result.orders == result.receipts == 100
    assert result.units + result.stock_left == result.stock
    assert result.confirmed_by_owner > 0 and result.items_published > 0


def test_the_drill_reads_which_orders_a_notice_names_from_the_html_the_bot_sends():
    """A digest repeated across a kill must be recognised as such (it was read as no notice at all,
    so the repeat counted as a double: the drill's own bug, seeds 8493, 550168, 22, 394464)."""
    from core.i18n import translator
    from tests.crash_drill import covered_by

    t = translator("en")
    digest = t.plural("notice.digest", 8, shop="Drill &amp; Co", first=1019, last=1026, units=8, total="CN¥79.20")
    assert covered_by(digest) == set(range(1019, 1027))
    assert covered_by("🛒 <b>New order #1001</b> at Drill") == {1001}
