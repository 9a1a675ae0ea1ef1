"""How a shop's damaged-goods promise reads to a buyer (card, receipt), apart from the claim flow
(handlers/claims.py) so that the buyer's views can show it without importing that flow."""

from __future__ import annotations

from core.claims import Policy
from core.i18n import Translator


def claim_promise(t: Translator, policy: Policy) -> str:
    """The shop's own words ("坏果包赔：签收48小时内拍照"), or the policy in ours."""
    if policy.text:
        return t("claim.promise_text", text=policy.text)
    return t("claim.promise", hours=policy.hours_after_delivery)
