"""A catalog reward as the API gives it (RewardSpec) and an update's changes
(RewardChanges): the table they stand for, and the idempotency request they are claimed
with, which must not change for the same input (an old key's hash would no longer match)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from app.domain.reward_definitions import KEEP, RewardChanges, RewardSpec
from app.services.idempotent import request_hash

AT = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)
GIFT = RewardSpec(
    key="gift-25",
    name="Gift 25",
    kind="GIFT_CARD",
    cost=100,
    provider="cards",
    product_id="CVS",
    face_value=Decimal("25.00"),
    face_currency="EUR",
    active_from=AT,
    visible_tiers=("gold",),
)


def test_a_spec_is_the_table_a_program_file_would_hold() -> None:
    assert GIFT.as_table() == {
        "key": "gift-25",
        "name": "Gift 25",
        "kind": "GIFT_CARD",
        "cost": 100,
        "description": "",
        "discount": "",
        "active_from": AT,
        "provider": "cards",
        "product_id": "CVS",
        "face_value": "25.00",
        "face_currency": "EUR",
        "visible_tiers": ["gold"],
        "limit_period": "LIFETIME",
    }


def test_the_create_request_keeps_its_shape_and_hash() -> None:
    request = GIFT.as_request()
    assert request == {
        "key": "gift-25",
        "name": "Gift 25",
        "kind": "GIFT_CARD",
        "cost": 100,
        "description": "",
        "discount": "",
        "stock": None,
        "min_tier": None,
        "per_member_limit": None,
        "active_from": "2026-05-01T09:00:00+00:00",
        "active_until": None,
        "provider": "cards",
        "product_id": "CVS",
        "face_value": "25.00",
        "face_currency": "EUR",
        "delivery": None,
        "deadline_hours": None,
        "visible_tiers": ["gold"],
        "limit_period": "LIFETIME",
    }
    digest = request_hash("createReward", {"reward": request, "codeSource": "GENERATED"})
    # the digest the dict-based catalog of 0013 claimed keys with, for the same input
    assert digest == "4ce3fe261c60195c7d05496c562409e8cf8ac5c2c5de9263675fb54245473ad0"


def test_changes_name_only_what_is_given_and_none_clears() -> None:
    changes = RewardChanges(cost=120, min_tier=None, active_until=AT)
    assert changes.as_request() == {
        "cost": 120,
        "min_tier": None,
        "active_until": "2026-05-01T09:00:00+00:00",
    }
    assert RewardChanges().as_request() == {}
    digest = request_hash("updateReward", {"rewardId": 3, "changes": changes.as_request()})
    assert digest == "60c5bed32e2fcd6159c88d723bb2c7dd462fa355ea05ef3971e6065737ee07b5"
    changed = changes.applied_to(GIFT)
    assert (changed.cost, changed.min_tier, changed.active_until) == (120, None, AT)
    assert changed.active_from == AT  # left as it was


def test_clearing_a_text_empties_it_and_clearing_the_period_means_lifetime() -> None:
    start = RewardSpec(
        key="k", name="N", kind="DISCOUNT_CODE", cost=1, discount="10%", limit_period="DAY"
    )
    cleared = RewardChanges(discount=None, limit_period=None, name=KEEP).applied_to(start)
    assert (cleared.discount, cleared.limit_period, cleared.name) == ("", "LIFETIME", "N")
