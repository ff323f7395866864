"""What the outbox records: every topic, and the typed payload of each.

See docs/ARCHITECTURE.md, "Work after commit", for who writes and who reads them.

Each committed change writes one event in its own transaction (the ledger's `Outbox`
store). Consumers (live subscriptions today; webhooks and fulfilment jobs next) read typed
events back through `decode`, never a payload dict. The JSON of each payload is the shape
already stored: `payload()` writes it and `from_payload` reads it, one pair per event.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, ClassVar

from app.domain.records import BalanceChange


class Topic(StrEnum):
    BALANCE_CHANGED = "balance.changed"
    TIER_CHANGED = "tier.changed"
    POINTS_EXPIRING = "points.expiring"
    REDEMPTION_UPDATED = "redemption.updated"
    MEMBER_ENROLLED = "member.enrolled"
    MEMBER_UPDATED = "member.updated"
    REWARD_OUT_OF_STOCK = "reward.out_of_stock"


def _at(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _read_at(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


@dataclass(frozen=True, slots=True)
class TierChanged:
    """A member's tier went up or down (an earn, a review, a return, a program change)."""

    topic: ClassVar[Topic] = Topic.TIER_CHANGED

    member_id: int
    from_tier: str | None
    to_tier: str | None
    direction: str  # UP | DOWN
    reason: str
    since: datetime
    review_at: datetime | None  # as Member.tier shows it: the period's end
    grace_ends_at: datetime | None
    occurred_at: datetime

    def payload(self) -> dict[str, Any]:
        return {
            "memberId": self.member_id,
            "from": self.from_tier,
            "to": self.to_tier,
            "direction": self.direction,
            "reason": self.reason,
            "since": self.since.isoformat(),
            "reviewAt": _at(self.review_at),
            "graceEndsAt": _at(self.grace_ends_at),
            "occurredAt": self.occurred_at.isoformat(),
        }

    @classmethod
    def from_payload(cls, member_id: int, data: Mapping[str, Any]) -> TierChanged:
        return cls(
            member_id=member_id,
            from_tier=data.get("from"),
            to_tier=data.get("to"),
            direction=str(data["direction"]),
            reason=str(data["reason"]),
            since=datetime.fromisoformat(data["since"]),
            review_at=_read_at(data.get("reviewAt")),
            grace_ends_at=_read_at(data.get("graceEndsAt")),
            occurred_at=datetime.fromisoformat(data["occurredAt"]),
        )


@dataclass(frozen=True, slots=True)
class PointsExpiring:
    """Available points will expire soon (written once per lot, before it expires)."""

    topic: ClassVar[Topic] = Topic.POINTS_EXPIRING

    member_id: int
    points: int
    expires_at: datetime

    def payload(self) -> dict[str, Any]:
        return {"points": self.points, "expiresAt": self.expires_at.isoformat()}

    @classmethod
    def from_payload(cls, member_id: int, data: Mapping[str, Any]) -> PointsExpiring:
        return cls(
            member_id=member_id,
            points=int(data["points"]),
            expires_at=datetime.fromisoformat(data["expiresAt"]),
        )


@dataclass(frozen=True, slots=True)
class RedemptionUpdated:
    """A member's redemption changed status (created HELD included): one per change, with
    the member's redemption `version`, so a subscriber resumes with no gap."""

    topic: ClassVar[Topic] = Topic.REDEMPTION_UPDATED

    member_id: int
    redemption_id: int
    version: int
    status: str
    at: datetime
    actor: str
    detail: str

    def payload(self) -> dict[str, Any]:
        return {
            "redemptionId": self.redemption_id,
            "version": self.version,
            "status": self.status,
            "at": self.at.isoformat(),
            "actor": self.actor,
            "detail": self.detail,
        }

    @classmethod
    def from_payload(cls, member_id: int, data: Mapping[str, Any]) -> RedemptionUpdated:
        return cls(
            member_id=member_id,
            redemption_id=int(data["redemptionId"]),
            version=int(data["version"]),
            status=str(data["status"]),
            at=datetime.fromisoformat(data["at"]),
            actor=str(data["actor"]),
            detail=str(data["detail"]),
        )


@dataclass(frozen=True, slots=True)
class MemberEnrolled:
    """A member joined. No personal data is kept in the event: readers join the member's
    current row, so an erasure leaves none behind in the outbox."""

    topic: ClassVar[Topic] = Topic.MEMBER_ENROLLED

    member_id: int
    at: datetime

    def payload(self) -> dict[str, Any]:
        return {"at": self.at.isoformat()}

    @classmethod
    def from_payload(cls, member_id: int | None, data: Mapping[str, Any]) -> MemberEnrolled:
        assert member_id is not None
        return cls(member_id=member_id, at=datetime.fromisoformat(data["at"]))


@dataclass(frozen=True, slots=True)
class MemberUpdated:
    """A member's profile or status changed: which fields (names only, no values), and the
    new status when it changed (SUSPENDED, ACTIVE, ERASED)."""

    topic: ClassVar[Topic] = Topic.MEMBER_UPDATED

    member_id: int
    fields: tuple[str, ...]
    status: str | None
    at: datetime

    def payload(self) -> dict[str, Any]:
        return {"fields": list(self.fields), "status": self.status, "at": self.at.isoformat()}

    @classmethod
    def from_payload(cls, member_id: int | None, data: Mapping[str, Any]) -> MemberUpdated:
        assert member_id is not None
        return cls(
            member_id=member_id,
            fields=tuple(data.get("fields") or ()),
            status=data.get("status"),
            at=datetime.fromisoformat(data["at"]),
        )


@dataclass(frozen=True, slots=True)
class RewardOutOfStock:
    """A redemption took a reward's last unit (or a pool's last code)."""

    topic: ClassVar[Topic] = Topic.REWARD_OUT_OF_STOCK

    reward_id: int
    reward_key: str
    at: datetime
    member_id: None = None  # a reward's event, no member's

    def payload(self) -> dict[str, Any]:
        return {"rewardId": self.reward_id, "rewardKey": self.reward_key, "at": self.at.isoformat()}

    @classmethod
    def from_payload(cls, member_id: int | None, data: Mapping[str, Any]) -> RewardOutOfStock:
        return cls(
            reward_id=int(data["rewardId"]),
            reward_key=str(data["rewardKey"]),
            at=datetime.fromisoformat(data["at"]),
        )


OutboxEvent = (
    BalanceChange
    | TierChanged
    | PointsExpiring
    | RedemptionUpdated
    | MemberEnrolled
    | MemberUpdated
    | RewardOutOfStock
)


def _member(reader: Callable[[int, Mapping[str, Any]], OutboxEvent]) -> _Reader:
    def read(member_id: int | None, data: Mapping[str, Any]) -> OutboxEvent:
        assert member_id is not None, "a member's event names its member"
        return reader(member_id, data)

    return read


_Reader = Callable[[int | None, Mapping[str, Any]], OutboxEvent]
_READERS: dict[Topic, _Reader] = {
    Topic.BALANCE_CHANGED: _member(BalanceChange.from_payload),
    Topic.TIER_CHANGED: _member(TierChanged.from_payload),
    Topic.POINTS_EXPIRING: _member(PointsExpiring.from_payload),
    Topic.REDEMPTION_UPDATED: _member(RedemptionUpdated.from_payload),
    Topic.MEMBER_ENROLLED: MemberEnrolled.from_payload,
    Topic.MEMBER_UPDATED: MemberUpdated.from_payload,
    Topic.REWARD_OUT_OF_STOCK: RewardOutOfStock.from_payload,
}


def topic_of(event: OutboxEvent) -> Topic:
    return Topic(event.topic)


def decode(topic: str, member_id: int | None, payload: Mapping[str, Any]) -> OutboxEvent:
    """A stored outbox row as its typed event."""
    return _READERS[Topic(topic)](member_id, payload)
