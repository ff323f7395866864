"""The events Tally publishes (the event feed, webhooks): their types, which outbox rows
they come from, and the data each carries.

An outbox row is written with the change it describes; the ones the rest of the stack
hears of get a public type (`event_type`, stored with the row, so a feed filters by type
in SQL). Their data is the stored payload with the member named as the API names it (a
global id and the retailer's externalId, read at delivery: an erased member's events carry
no personal data). Balance moves of a redemption (its HOLD, POST and VOID) are told by the
redemption's own events, not twice.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from app.domain.accounts import TransferKind
from app.domain.events import Topic
from app.domain.ids import global_id
from app.domain.rewards import RedemptionStatus


class EventType(StrEnum):
    MEMBER_ENROLLED = "member.enrolled"
    MEMBER_UPDATED = "member.updated"
    POINTS_EARNED = "points.earned"
    POINTS_PENDING = "points.pending"
    POINTS_RELEASED = "points.released"
    POINTS_REVERSED = "points.reversed"
    POINTS_ADJUSTED = "points.adjusted"
    POINTS_EXPIRING = "points.expiring"
    POINTS_EXPIRED = "points.expired"
    TIER_CHANGED = "tier.changed"
    REDEMPTION_CREATED = "redemption.created"
    REDEMPTION_UPDATED = "redemption.updated"
    REWARD_OUT_OF_STOCK = "reward.out_of_stock"


_BY_KIND: dict[TransferKind, EventType] = {
    TransferKind.RELEASE: EventType.POINTS_RELEASED,
    TransferKind.RETURN: EventType.POINTS_REVERSED,
    TransferKind.ADJUST: EventType.POINTS_ADJUSTED,
    TransferKind.EXPIRE: EventType.POINTS_EXPIRED,
}
_BY_TOPIC: dict[Topic, EventType] = {
    Topic.TIER_CHANGED: EventType.TIER_CHANGED,
    Topic.POINTS_EXPIRING: EventType.POINTS_EXPIRING,
    Topic.MEMBER_ENROLLED: EventType.MEMBER_ENROLLED,
    Topic.MEMBER_UPDATED: EventType.MEMBER_UPDATED,
    Topic.REWARD_OUT_OF_STOCK: EventType.REWARD_OUT_OF_STOCK,
}


def event_type(topic: str, payload: Mapping[str, Any]) -> EventType | None:
    """The public type of an outbox row, or None for one that is not published."""
    if topic == Topic.BALANCE_CHANGED:
        kind = TransferKind(payload["kind"])
        if kind is TransferKind.EARN:
            if int(payload.get("delta", 0)) == 0 and int(payload.get("pendingDelta", 0)) > 0:
                return EventType.POINTS_PENDING
            return EventType.POINTS_EARNED
        return _BY_KIND.get(kind)  # HOLD, POST, VOID: the redemption's events tell them
    if topic == Topic.REDEMPTION_UPDATED:
        created = payload.get("status") == RedemptionStatus.HELD
        return EventType.REDEMPTION_CREATED if created else EventType.REDEMPTION_UPDATED
    return _BY_TOPIC.get(Topic(topic))


@dataclass(frozen=True, slots=True)
class PublishedEvent:
    """One event as consumers get it. `id` is stable (a webhook's `webhook-id`); `sequence`
    orders all events in commit order; `version` is the member's balance version, for the
    events that changed the balance."""

    id: str
    sequence: int
    type: EventType
    occurred_at: datetime
    member_id: int | None
    version: int | None
    data: dict[str, Any]

    def as_message(self) -> dict[str, Any]:
        """The JSON body a webhook delivers and an NDJSON export writes."""
        return {
            "id": self.id,
            "type": self.type.value,
            "timestamp": self.occurred_at.isoformat(),
            "sequence": self.sequence,
            "version": self.version,
            "data": self.data,
        }


def event_id(outbox_id: int) -> str:
    return f"evt_{outbox_id}"


def published(
    *,
    outbox_id: int,
    sequence: int,
    type_: EventType,
    created_at: datetime,
    member_id: int | None,
    external_id: str | None,
    version: int | None,
    payload: Mapping[str, Any],
) -> PublishedEvent:
    data: dict[str, Any] = dict(payload)
    if member_id is not None:
        data["memberId"] = global_id("Member", member_id)
        data["externalId"] = external_id
    if "redemptionId" in data:
        data["redemptionId"] = global_id("Redemption", int(data["redemptionId"]))
    if "rewardId" in data:
        data["rewardId"] = global_id("Reward", int(data["rewardId"]))
    if type_ in (EventType.REDEMPTION_CREATED, EventType.REDEMPTION_UPDATED):
        data["redemptionVersion"] = data.pop("version", None)
    data.pop("version", None)  # a balance's version is the event's own `version`
    return PublishedEvent(
        id=event_id(outbox_id),
        sequence=sequence,
        type=type_,
        occurred_at=created_at,
        member_id=member_id,
        version=version if type_ not in _NO_BALANCE_VERSION else None,
        data=data,
    )


#: Events whose outbox row carries another version than the balance's (or none).
_NO_BALANCE_VERSION = frozenset({EventType.REDEMPTION_CREATED, EventType.REDEMPTION_UPDATED})
