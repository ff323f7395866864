"""Which outbox rows are published, as which type, and the data consumers get."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from app.domain.ids import global_id
from app.domain.published import EventType as T
from app.domain.published import event_type, published

AT = datetime(2026, 12, 4, tzinfo=UTC)


@pytest.mark.parametrize(
    ("topic", "payload", "expected"),
    [
        ("balance.changed", {"kind": "EARN", "delta": 5, "pendingDelta": 0}, T.POINTS_EARNED),
        ("balance.changed", {"kind": "EARN", "delta": 0, "pendingDelta": 5}, T.POINTS_PENDING),
        ("balance.changed", {"kind": "RELEASE", "delta": 5}, T.POINTS_RELEASED),
        ("balance.changed", {"kind": "RETURN", "delta": -5}, T.POINTS_REVERSED),
        ("balance.changed", {"kind": "ADJUST", "delta": -5}, T.POINTS_ADJUSTED),
        ("balance.changed", {"kind": "EXPIRE", "delta": -5}, T.POINTS_EXPIRED),
        ("balance.changed", {"kind": "HOLD", "delta": -5}, None),
        ("balance.changed", {"kind": "POST", "delta": 0}, None),
        ("balance.changed", {"kind": "VOID", "delta": 5}, None),
        ("redemption.updated", {"status": "HELD"}, T.REDEMPTION_CREATED),
        ("redemption.updated", {"status": "SHIPPED"}, T.REDEMPTION_UPDATED),
        ("tier.changed", {}, T.TIER_CHANGED),
        ("points.expiring", {}, T.POINTS_EXPIRING),
        ("member.enrolled", {}, T.MEMBER_ENROLLED),
        ("member.updated", {}, T.MEMBER_UPDATED),
        ("reward.out_of_stock", {}, T.REWARD_OUT_OF_STOCK),
    ],
)
def test_each_outbox_row_has_its_public_type(
    topic: str, payload: dict[str, object], expected: T | None
) -> None:
    assert event_type(topic, payload) == expected


def test_the_data_names_members_redemptions_and_rewards_by_their_global_ids() -> None:
    event = published(
        outbox_id=9,
        sequence=4,
        type_=T.REDEMPTION_UPDATED,
        created_at=AT,
        member_id=3,
        external_id="cust-3",
        version=2,
        payload={"redemptionId": 11, "version": 2, "status": "FULFILLED"},
    )
    assert event.id == "evt_9"
    assert event.version is None  # the row's version is the redemption's, not the balance's
    assert event.data == {
        "redemptionId": global_id("Redemption", 11),
        "redemptionVersion": 2,
        "status": "FULFILLED",
        "memberId": global_id("Member", 3),
        "externalId": "cust-3",
    }
    stock = published(
        outbox_id=10,
        sequence=5,
        type_=T.REWARD_OUT_OF_STOCK,
        created_at=AT,
        member_id=None,
        external_id=None,
        version=None,
        payload={"rewardId": 2, "rewardKey": "tote", "at": AT.isoformat()},
    )
    assert stock.data["rewardId"] == global_id("Reward", 2)
    assert "memberId" not in stock.data
    assert stock.as_message()["type"] == "reward.out_of_stock"
