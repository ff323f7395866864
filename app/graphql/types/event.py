"""Published events as GraphQL shows them: the event feed (`events`), and the body of
every webhook delivery."""

from __future__ import annotations

from datetime import datetime
from typing import cast

import strawberry
from strawberry.scalars import JSON

from app.domain.published import EventType as DomainEventType
from app.domain.published import PublishedEvent
from app.graphql.types.common import publish_enum

EventType = DomainEventType
publish_enum(
    EventType,
    "EventType",
    "What happened. The event's data holds the stored change, with the member named as "
    "memberId (global id) and externalId.",
    {
        EventType.MEMBER_ENROLLED: "A member joined (data: at).",
        EventType.MEMBER_UPDATED: "A member's profile or status changed (data: fields, the "
        "names of what changed, and status when it changed: SUSPENDED, ACTIVE or ERASED).",
        EventType.POINTS_EARNED: "Points became available from a purchase, an activity, a "
        "referral (data: delta, balance, reference, kind).",
        EventType.POINTS_PENDING: "Points were earned into pending, waiting out the return "
        "window (data: pendingDelta).",
        EventType.POINTS_RELEASED: "Pending points became available.",
        EventType.POINTS_REVERSED: "A return took earned points back.",
        EventType.POINTS_ADJUSTED: "Staff adjusted the balance (adjustPoints).",
        EventType.POINTS_EXPIRING: "Available points will expire soon (data: points, expiresAt).",
        EventType.POINTS_EXPIRED: "Points expired.",
        EventType.TIER_CHANGED: "The member's tier went up or down (data: from, to, "
        "direction, reason).",
        EventType.REDEMPTION_CREATED: "A redemption was made, its points held (data: "
        "redemptionId, status HELD, actor, detail).",
        EventType.REDEMPTION_UPDATED: "A redemption moved on (data: redemptionId, status, "
        "actor, detail, redemptionVersion).",
        EventType.REWARD_OUT_OF_STOCK: "A redemption took a reward's last unit (data: "
        "rewardId, rewardKey).",
    },
)


@strawberry.type(
    description="One published event: what the event feed lists and a webhook delivers, "
    "with the same id and body."
)
class WebhookEvent:
    id: str = strawberry.field(
        description="Stable across retries and replays: the webhook-id header; de-duplicate on it."
    )
    type: EventType = strawberry.field(description="What happened.")
    occurred_at: datetime = strawberry.field(description="When Tally recorded it.")
    sequence: int = strawberry.field(
        description="Its place among all events, in commit order (the feed's order)."
    )
    version: int | None = strawberry.field(
        description="The member's balance version after it, for events that changed the "
        "balance: sort a member's events by it. Null for the others."
    )
    member_id: strawberry.ID | None = strawberry.field(
        description="The member it is about (Member.id); null for a reward's event."
    )
    data: JSON = strawberry.field(description="What happened, as the webhook body's `data`.")

    @classmethod
    def of(cls, e: PublishedEvent) -> WebhookEvent:
        return cls(
            id=e.id,
            type=e.type,
            occurred_at=e.occurred_at,
            sequence=e.sequence,
            version=e.version,
            member_id=strawberry.ID(str(e.data["memberId"])) if e.member_id else None,
            data=cast(JSON, e.data),
        )
