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
