"""Properties of the deep-link payload codec (core/links.py)."""

from __future__ import annotations

import re

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from core.links import MAX_SLOT, LinkTarget, PayloadError, decode, encode, product_link, shop_link, slot_link, url

TELEGRAM_PAYLOAD = re.compile(r"[A-Za-z0-9_-]{1,64}")  # what Telegram accepts after ?start=
MAX_PRODUCT_ID = 10**18 - 1  # the largest id decode() reads (18 digits)
SQLITE_MAX_ID = 2**63 - 1

slugs = st.from_regex(r"[a-z0-9]{4,16}", fullmatch=True)
targets = st.one_of(
    st.builds(LinkTarget, st.just("shop"), slugs),
    st.builds(LinkTarget, st.just("slot"), slugs, st.integers(1, MAX_SLOT)),
    st.builds(LinkTarget, st.just("product"), slugs, st.integers(1, MAX_PRODUCT_ID)),
    st.builds(LinkTarget, st.just("order"), slugs, st.integers(1, MAX_PRODUCT_ID)),
)

# Strings built from the payload's own pieces, so that decode's every branch is exercised (random text
# alone almost never looks like a payload): valid kinds and slugs mixed with near misses.
_number = st.one_of(st.none(), st.integers(-3, 10**19).map(str),
                    st.sampled_from(["0", "007", "", "1_2", "x", "٣", "1 "]))
_slugish = st.one_of(slugs, st.text(alphabet="abcdxyz0129ABZ-_é", max_size=20))
near_payloads = st.builds(
    lambda kind, slug, number: f"{kind}_{slug}" + ("" if number is None else f"_{number}"),
    st.sampled_from(["s", "l", "p", "o", "q", "S", "", "ll"]), _slugish, _number)
any_text = st.one_of(st.text(), st.text(alphabet="sSlLpP_-0123456789abcxyz", max_size=70), near_payloads)


def is_valid_target(target: LinkTarget) -> bool:
    if not re.fullmatch(r"[a-z0-9]{4,16}", target.slug):
        return False
    if target.kind == "shop":
        return target.number is None
    if target.kind == "slot":
        return target.number is not None and 1 <= target.number <= MAX_SLOT
    return target.kind in ("product", "order") and target.number is not None and target.number >= 1


@given(targets)
def test_every_valid_target_round_trips(target):
    payload = encode(target)
    assert decode(payload) == target
    assert target.payload() == payload


@given(targets)
def test_every_payload_is_at_most_64_characters_telegram_accepts(target):
    assert TELEGRAM_PAYLOAD.fullmatch(encode(target))


@given(targets, st.from_regex(r"[A-Za-z0-9_]{5,32}", fullmatch=True))
def test_urls_are_t_me_start_links_of_the_payload(target, bot):
    assert url(bot, target) == f"https://t.me/{bot}?start={encode(target)}"


@given(slugs, st.integers(1, MAX_SLOT), st.integers(1, MAX_PRODUCT_ID))
def test_link_helpers_build_the_three_kinds(slug, slot, product_id):
    assert shop_link("b", slug) == f"https://t.me/b?start=s_{slug}"
    assert slot_link("b", slug, slot) == f"https://t.me/b?start=l_{slug}_{slot}"
    assert product_link("b", slug, product_id) == f"https://t.me/b?start=p_{slug}_{product_id}"


@given(any_text)
@example("")
@example("l_zz")
@example("x" * 65)
@example("s_abcd_1")
@example("l_abcd_0")
@example("l_abcd_51")
@example("l_abcd_007")
@example("p_abcd_1000000000000000000")
@example("s_ABCD")
@example(None)
@settings(max_examples=400)
def test_arbitrary_text_decodes_to_a_valid_target_or_raises_payload_error(text):
    try:
        target = decode(text)
    except PayloadError:
        return
    assert is_valid_target(target)
    assert encode(target) == text  # only the one canonical spelling of a target is accepted


@given(any_text.map(lambda t: t + "\n") | st.text())
def test_decode_raises_nothing_but_payload_error(text):
    try:
        decode(text)
    except PayloadError:
        pass


@pytest.mark.parametrize("bad", [
    LinkTarget("shop", "abc"), LinkTarget("shop", "ABCD"), LinkTarget("shop", "a" * 17), LinkTarget("shop", "ab_cd"),
    LinkTarget("shop", "abcd", 1), LinkTarget("slot", "abcd"), LinkTarget("slot", "abcd", 0),
    LinkTarget("slot", "abcd", MAX_SLOT + 1), LinkTarget("product", "abcd"), LinkTarget("product", "abcd", -3),
])
def test_encode_refuses_invalid_targets(bad):
    with pytest.raises(ValueError):
        encode(bad)


@given(slugs)
def test_a_trailing_newline_is_never_a_valid_payload_or_slug(slug):
    with pytest.raises(PayloadError):
        decode(f"s_{slug}\n")
    with pytest.raises(ValueError):
        encode(LinkTarget("shop", slug + "\n"))


@given(slugs, st.integers(1, 10**60))
@example("abcd", 10**18)
@example("abcd", SQLITE_MAX_ID)
@example("abcdefghijklmnop", 10**60)
def test_encode_accepts_exactly_the_product_ids_decode_reads(slug, product_id):
    target = LinkTarget("product", slug, product_id)
    try:
        payload = encode(target)
    except ValueError:
        return
    assert decode(payload) == target
