"""Rewards in the catalog, and a member's view of them."""

from __future__ import annotations

from datetime import datetime

import strawberry

from app.domain.records import Reward as RewardRecord
from app.domain.rewards import RewardKind as DomainRewardKind
from app.graphql.ids import to_global_id
from app.graphql.types.common import Node, UserErrorCode
from app.services.queries import RewardAvailability as AvailabilityRecord

RewardKind = DomainRewardKind
strawberry.enum(RewardKind, name="RewardKind", description="What a reward gives the member.")


@strawberry.type(description="Something a member can spend points on.")
class Reward(Node):
    key: str
    name: str
    description: str
    kind: RewardKind
    discount: str = strawberry.field(description="What the discount code is worth, as shown.")
    cost: int = strawberry.field(description="Points per unit.")
    stock: int | None = strawberry.field(description="Total stock; null means unlimited.")
    remaining_stock: int | None
    min_tier: str | None = strawberry.field(description="Key of the lowest tier that may redeem.")
    per_member_limit: int | None
    active: bool
    active_from: datetime | None
    active_until: datetime | None

    @classmethod
    def of(cls, r: RewardRecord) -> Reward:
        return cls(
            id=strawberry.ID(to_global_id("Reward", r.id)),
            key=r.key,
            name=r.name,
            description=r.description,
            kind=RewardKind(r.kind),
            discount=r.discount,
            cost=r.cost,
            stock=r.stock,
            remaining_stock=r.remaining_stock,
            min_tier=r.min_tier,
            per_member_limit=r.per_member_limit,
            active=r.active,
            active_from=r.active_from,
            active_until=r.active_until,
        )


@strawberry.type(
    description="A reward as one member sees it: can they redeem it now, and if not, why."
)
class AvailableReward:
    reward: Reward
    can_redeem: bool
    reason: UserErrorCode | None  # type: ignore[valid-type]

    @classmethod
    def of(cls, a: AvailabilityRecord) -> AvailableReward:
        return cls(reward=Reward.of(a.reward), can_redeem=a.can_redeem, reason=a.reason)
