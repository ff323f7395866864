"""The retry schedule, the five-day rule and event types of webhook endpoints."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from app.domain.errors import DomainError
from app.domain.published import EventType as T
from app.domain.webhooks import (
    RETRY_SCHEDULE,
    next_attempt_at,
    parse_event_types,
    should_disable,
)

NOW = datetime(2026, 12, 4, 12, tzinfo=UTC)


def test_failures_are_retried_on_the_standard_schedule_then_given_up() -> None:
    rng = random.Random(1)
    waits = []
    for attempts in range(1, len(RETRY_SCHEDULE) + 1):
        at = next_attempt_at(attempts, NOW, rng=rng)
        assert at is not None
        waits.append((at - NOW).total_seconds())
    expected = [5, 300, 1800, 7200, 18000, 36000, 50400, 72000, 86400]
    assert all(0.9 * e <= w <= 1.1 * e for w, e in zip(waits, expected, strict=True)), waits
    assert next_attempt_at(len(RETRY_SCHEDULE) + 1, NOW) is None
    assert next_attempt_at(0, NOW) is None


def test_a_receivers_retry_after_is_honoured_when_longer() -> None:
    at = next_attempt_at(1, NOW, retry_after=120, rng=random.Random(2))
    assert at == NOW + timedelta(seconds=120)
    shorter = next_attempt_at(2, NOW, retry_after=1, rng=random.Random(2))
    assert shorter is not None
    assert shorter - NOW > timedelta(minutes=4)


def test_a_scaled_schedule_is_shorter() -> None:
    at = next_attempt_at(2, NOW, rng=random.Random(3), scale=0.01)
    assert at is not None
    assert timedelta(seconds=2) < at - NOW < timedelta(seconds=4)


def test_an_endpoint_failing_for_five_days_is_disabled() -> None:
    assert not should_disable(None, NOW)
    assert not should_disable(NOW - timedelta(days=4, hours=23), NOW)
    assert should_disable(NOW - timedelta(days=5), NOW)


def test_event_types_are_read_by_either_name_and_unknown_ones_refused() -> None:
    assert parse_event_types(["points.earned", "TIER_CHANGED", "points.earned"]) == (
        T.POINTS_EARNED,
        T.TIER_CHANGED,
    )
    with pytest.raises(DomainError) as refused:
        parse_event_types(["points.spent"])
    assert refused.value.field == "eventTypes"


def test_a_failing_spell_starts_again_after_a_quiet_day() -> None:
    from app.domain.webhooks import failing_spell_start

    week_ago = NOW - timedelta(days=7)
    assert failing_spell_start(None, None, NOW) == NOW
    assert failing_spell_start(week_ago, NOW - timedelta(hours=2), NOW) == week_ago
    assert failing_spell_start(week_ago, week_ago, NOW) == NOW  # one failure after quiet
    assert not should_disable(failing_spell_start(week_ago, week_ago, NOW), NOW)
