"""The crash drill as a test: the real bot process is SIGKILLed in the middle of a flash sale."""

from __future__ import annotations

from tests.crash_drill import run_drill


async def test_sigkill_in_the_middle_of_a_flash_sale_loses_nothing_and_doubles_nothing(tmp_path):
    result = await run_drill(tmp_path, buyers=300, stock=100)
    assert result.kills == 1
    assert result.orders == result.receipts == 100
    assert result.sold_out_answers == 200 and result.unanswered == 0
    assert result.units + result.stock_left == result.stock
    assert result.owner_notices == result.orders and result.duplicate_notices == 0
    assert result.duplicate_receipts == 0
    assert result.unprocessed_updates == 0
