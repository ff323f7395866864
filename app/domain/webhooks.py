"""Webhook endpoints and deliveries: what an endpoint hears, when a failed delivery is
tried again (Standard Webhooks' schedule), and when an endpoint that keeps failing is
disabled. Pure rules; the ledger stores them and app/services/webhooks.py runs them."""

from __future__ import annotations

import random
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from app.domain.errors import DomainError, ErrorCode
from app.domain.published import EventType

#: After the first attempt fails: about 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h, 20 h, 24 h.
RETRY_SCHEDULE: tuple[timedelta, ...] = (
    timedelta(seconds=5),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=5),
    timedelta(hours=10),
    timedelta(hours=14),
    timedelta(hours=20),
    timedelta(hours=24),
)
JITTER = 0.1  # each wait is the schedule's, give or take 10%
DISABLE_AFTER = timedelta(days=5)  # an endpoint failing this long is disabled
ROTATION_OVERLAP = timedelta(hours=24)  # the old secret still signs this long
MAX_IN_FLIGHT = 4  # deliveries being sent to one endpoint at once
MAX_DESCRIPTION = 500
MAX_ENDPOINTS = 50


class EndpointStatus(StrEnum):
    ENABLED = "ENABLED"
    DISABLED = "DISABLED"


class DeliveryStatus(StrEnum):
    PENDING = "PENDING"  # due at next_attempt_at
    SUCCEEDED = "SUCCEEDED"  # a 2xx answer
    FAILED = "FAILED"  # the schedule ran out, or the endpoint is gone (410, deleted)


@dataclass(frozen=True, slots=True)
class WebhookEndpoint:
    id: int
    url: str
    description: str
    event_types: tuple[EventType, ...]  # empty: every type
    status: EndpointStatus
    disabled_reason: str | None
    secret: str
    previous_secret: str | None
    previous_until: datetime | None
    failing_since: datetime | None
    created_at: datetime
    updated_at: datetime
    last_failed_at: datetime | None = None

    def hears(self, event_type: EventType) -> bool:
        return not self.event_types or event_type in self.event_types

    def signing_secrets(self, now: datetime) -> tuple[str, ...]:
        """The current secret, and the previous one while its overlap lasts."""
        if self.previous_secret and self.previous_until and now < self.previous_until:
            return (self.secret, self.previous_secret)
        return (self.secret,)


@dataclass(frozen=True, slots=True)
class WebhookDelivery:
    id: int
    endpoint_id: int
    outbox_id: int
    sequence: int
    status: DeliveryStatus
    attempts: int
    next_attempt_at: datetime | None
    last_status: int | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class WebhookAttempt:
    id: int
    delivery_id: int
    at: datetime
    status: int | None
    latency_ms: int
    error: str | None
    excerpt: str


def next_attempt_at(
    attempts: int,
    now: datetime,
    *,
    retry_after: float | None = None,
    rng: random.Random | None = None,
    scale: float = 1.0,
) -> datetime | None:
    """When to try again after `attempts` failed attempts; None when the schedule is over.
    A receiver's Retry-After is honoured when it asks for longer. `scale` shrinks the
    schedule (tests and demos: TALLY_WEBHOOK_RETRY_SCALE)."""
    if attempts < 1 or attempts > len(RETRY_SCHEDULE):
        return None
    wait = RETRY_SCHEDULE[attempts - 1].total_seconds() * scale
    wait *= 1 + (rng or random).uniform(-JITTER, JITTER)
    if retry_after is not None and retry_after > wait:
        wait = min(retry_after, RETRY_SCHEDULE[-1].total_seconds())
    return now + timedelta(seconds=wait)


#: A failure this long after the last one starts a new failing spell (a quiet endpoint's
#: one bad answer is not five days of failing).
SPELL_GAP = timedelta(days=1)


def failing_spell_start(
    failing_since: datetime | None, last_failed_at: datetime | None, now: datetime
) -> datetime:
    """When the endpoint's current spell of failures began, counting this failure."""
    if failing_since is None or last_failed_at is None or now - last_failed_at > SPELL_GAP:
        return now
    return failing_since


def should_disable(failing_since: datetime | None, now: datetime) -> bool:
    return failing_since is not None and now - failing_since >= DISABLE_AFTER


def parse_event_types(names: Iterable[str]) -> tuple[EventType, ...]:
    """Event types by their dotted names (points.earned) or enum names (POINTS_EARNED)."""
    found: list[EventType] = []
    for name in names:
        key = name.strip()
        try:
            kind = EventType(key) if "." in key else EventType[key.upper()]
        except (KeyError, ValueError):
            known = ", ".join(t.value for t in EventType)
            raise DomainError(
                ErrorCode.INVALID_INPUT,
                f"eventTypes: {key[:60]!r} is not an event type ({known})",
                "eventTypes",
            ) from None
        if kind not in found:
            found.append(kind)
    return tuple(sorted(found))
