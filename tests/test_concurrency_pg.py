"""Checks that read before they write stay right when two workers write at once (PostgreSQL).

On SQLite one writer at a time makes them safe for free. Here two stores (two workers' pools)
on one PostgreSQL database race: each check names how it is kept, and each test fails without
it (the buyer's row lock in storage/orders.py and storage/holds.py; the conditional UPDATEs for
stock, deal units and order numbers).
"""

from __future__ import annotations

import asyncio

import pytest

from storage import Store
from storage.orders import Delivery, LimitReached, SoldOut, TooManyOpenOrders
from tests import harness, pg_databases

pytestmark = pytest.mark.skipif(pg_databases.server_url() is None, reason="needs LIVECART_TEST_POSTGRES")

HOME = Delivery("13800138000", "Bob", "1 Road, Wuhan")


@pytest.fixture
async def two_workers():
    assert harness.postgres_database is not None
    first = await Store.open(harness.postgres_database)
    second = await Store.open(harness.postgres_database)
    try:
        yield first, second
    finally:
        await first.close()
        await second.close()


async def shop_with(store: Store, stock: int, *, limit: int | None = None):
    await store.users.seen(1, "Ann", None, "en")
    shop = await store.shops.create(1, "Farm", "CNY", "Asia/Shanghai")
    product = await store.products.create(shop.id, "Oranges", 3990, stock)
    if limit is not None:
        product = await store.products.update(product.id, per_buyer_limit=limit)
    return shop, product


async def buyers(store: Store, n: int, first: int = 100) -> list[int]:
    for user_id in range(first, first + n):
        await store.users.seen(user_id, f"Buyer {user_id}", None, "en")
    return list(range(first, first + n))


def place(store: Store, shop, product, buyer: int, quantity: int, token: str, **kwargs):
    return store.orders.place(token=token, shop_id=shop.id, buyer_id=buyer, items=[(product.id, quantity)],
                              delivery=HOME, note=None, slot=None, session_id=None, **kwargs)


async def outcomes(calls) -> list[object]:
    return await asyncio.gather(*calls, return_exceptions=True)


async def test_per_buyer_limit_holds_when_two_workers_place_for_one_buyer_at_once(two_workers):
    a, b = two_workers
    shop, product = await shop_with(a, 100, limit=2)
    [buyer] = await buyers(a, 1)
    for round_ in range(5):  # a race is a matter of timing: several rounds, each must hold
        results = await outcomes([place(a, shop, product, buyer, 2, f"a{round_}"),
                                  place(b, shop, product, buyer, 2, f"b{round_}")])
        if round_ == 0:
            assert sum(not isinstance(r, Exception) for r in results) == 1, results
        assert all(isinstance(r, LimitReached) for r in results if isinstance(r, Exception)), results
    bought = await a.db.fetch_value("SELECT sum(quantity) FROM order_items")
    assert bought == 2


async def test_open_order_cap_holds_across_workers(two_workers):
    a, b = two_workers
    shop, product = await shop_with(a, 100)
    [buyer] = await buyers(a, 1)
    results = await outcomes([place(store, shop, product, buyer, 1, f"t{i}", max_open_orders=3)
                              for i, store in enumerate([a, b] * 4)])
    assert sum(not isinstance(r, Exception) for r in results) == 3, results
    assert all(isinstance(r, TooManyOpenOrders) for r in results if isinstance(r, Exception)), results


async def test_holds_never_oversell_when_buyers_on_two_workers_take_the_last_units(two_workers):
    a, b = two_workers
    shop, product = await shop_with(a, 5)
    people = await buyers(a, 12)

    def hold(store: Store, buyer: int):
        return store.holds.take(buyer_id=buyer, shop_id=shop.id, token=f"h{buyer}", items=[(product.id, 1)],
                                expires_at=9e9, flow=None)

    results = await outcomes([hold(a if i % 2 else b, buyer) for i, buyer in enumerate(people)])
    assert sum(not isinstance(r, Exception) for r in results) == 5, results
    assert all(isinstance(r, SoldOut) for r in results if isinstance(r, Exception)), results
    assert await a.db.fetch_value("SELECT stock FROM products WHERE id = ?", (product.id,)) == 0
    assert await a.db.fetch_value("SELECT sum(quantity) FROM holds") == 5


async def test_deal_cap_and_per_buyer_share_hold_across_workers(two_workers):
    a, b = two_workers
    shop, product = await shop_with(a, 100)
    await a.deals.start(shop.id, product.id, 1990, units=4, minutes=None, per_buyer=1)
    people = await buyers(a, 6)

    def hold(store: Store, buyer: int, token: str):
        return store.holds.take(buyer_id=buyer, shop_id=shop.id, token=token, items=[(product.id, 1)],
                                expires_at=9e9, flow=None)

    # Everyone on both workers at once, and the first buyer twice at once (the per-buyer share).
    calls = [hold(a if i % 2 else b, buyer, f"d{buyer}") for i, buyer in enumerate(people)]
    calls.append(hold(b, people[0], "again"))
    results = await outcomes(calls)
    assert not [r for r in results if isinstance(r, Exception)], results
    taken = await a.db.fetch_value("SELECT taken FROM deals")
    at_deal_price = await a.db.fetch_value("SELECT count(*) FROM holds WHERE unit_price = 1990")
    assert taken == at_deal_price == 4
    first_buyers = await a.db.fetch_value("SELECT units FROM deal_takes WHERE buyer_id = ?", (people[0],))
    assert (first_buyers or 0) <= 1  # None: the deal's units went to the others first


async def test_order_numbers_stay_unique_and_gapless_across_workers(two_workers):
    a, b = two_workers
    shop, product = await shop_with(a, 1000)
    people = await buyers(a, 30)
    results = await outcomes([place(a if i % 2 else b, shop, product, buyer, 1, f"n{buyer}")
                              for i, buyer in enumerate(people)])
    assert not [r for r in results if isinstance(r, Exception)], results
    numbers = sorted(r[0] for r in await a.db.fetch_all("SELECT number FROM orders"))
    assert numbers == list(range(1001, 1031))


async def test_what_one_worker_changes_the_other_reads_at_once_no_stale_cache(two_workers):
    a, b = two_workers
    shop, _ = await shop_with(a, 10)
    [pat] = await buyers(a, 1)
    assert await b.shops.members(shop.id) == [(1, "owner")] and (await b.shops.get(shop.id)).timezone == "Asia/Shanghai"
    assert (await b.users.get(pat)).language is None and await b.operator.user_suspension(pat) is None
    await a.staff.accept(await a.staff.invite(shop.id, 1), pat)
    await a.shops.set_timezone(shop.id, "Europe/Berlin")
    await a.users.set_language(pat, "zh")
    await a.operator.suspend_user(pat, 1, "spam")
    await a.operator.suspend_shop(shop.id, 1, "fraud")
    assert await b.shops.members(shop.id) == [(1, "owner"), (pat, "staff")]
    assert (await b.shops.get(shop.id)).timezone == "Europe/Berlin"
    assert (await b.users.get(pat)).language == "zh"
    assert await b.operator.user_suspension(pat) == "spam" and await b.operator.shop_suspension(shop.id) == "fraud"
