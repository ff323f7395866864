"""Outbox events: every topic has a typed payload that reads back as it was written."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from app.domain.accounts import TransferKind
from app.domain.events import (
    MemberEnrolled,
    MemberUpdated,
    PointsExpiring,
    RedemptionUpdated,
    RewardOutOfStock,
    TierChanged,
    Topic,
    decode,
    topic_of,
)
from app.domain.records import Balance, BalanceChange

AT = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)

EVENTS = [
    BalanceChange(
        member_id=7,
        version=3,
        kind=TransferKind.EARN,
        delta=10,
        pending_delta=0,
        held_delta=0,
        balance=Balance(7, 10, 0, 0, 10, 3),
        occurred_at=AT,
        transfer_id=11,
        reference="o-1",
    ),
    TierChanged(
        member_id=7,
        from_tier="member",
        to_tier="gold",
        direction="UP",
        reason="EARN",
        since=AT,
        review_at=datetime(2027, 3, 1, tzinfo=UTC),
        grace_ends_at=None,
        occurred_at=AT,
    ),
    PointsExpiring(member_id=7, points=40, expires_at=datetime(2026, 3, 31, tzinfo=UTC)),
    RedemptionUpdated(
        member_id=7,
        redemption_id=5,
        version=2,
        status="SHIPPED",
        at=AT,
        actor="client:3pl",
        detail="DHL 00340434",
    ),
    MemberEnrolled(member_id=7, at=AT),
    MemberUpdated(member_id=7, fields=("email",), status=None, at=AT),
]


@pytest.mark.parametrize("event", EVENTS, ids=lambda e: type(e).__name__)
def test_each_event_reads_back_from_its_stored_payload(event: object) -> None:
    topic = topic_of(event)  # type: ignore[arg-type]
    assert decode(topic.value, 7, event.payload()) == event  # type: ignore[attr-defined]


def test_a_rewards_event_names_no_member() -> None:
    event = RewardOutOfStock(reward_id=3, reward_key="tote", at=AT)
    assert event.member_id is None
    assert decode(Topic.REWARD_OUT_OF_STOCK.value, None, event.payload()) == event


def test_every_topic_has_an_event_and_the_stored_tier_shape_is_kept() -> None:
    assert {topic_of(e) for e in EVENTS} | {Topic.REWARD_OUT_OF_STOCK} == set(Topic)
    assert EVENTS[1].payload() == {
        "memberId": 7,
        "from": "member",
        "to": "gold",
        "direction": "UP",
        "reason": "EARN",
        "since": "2026-03-01T12:00:00+00:00",
        "reviewAt": "2027-03-01T00:00:00+00:00",
        "graceEndsAt": None,
        "occurredAt": "2026-03-01T12:00:00+00:00",
    }


def test_an_unknown_topic_is_refused() -> None:
    with pytest.raises(ValueError, match="webhook.sent"):
        decode("webhook.sent", 7, {})
