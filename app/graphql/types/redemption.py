"""Redemptions: a reward taken, its points held until fulfilled or cancelled."""

from __future__ import annotations

from datetime import datetime

import strawberry

from app.domain.records import Redemption as RedemptionRecord
from app.domain.rewards import RedemptionStatus as DomainRedemptionStatus
from app.graphql.context import Context
from app.graphql.ids import to_global_id
from app.graphql.types.common import Node
from app.graphql.types.reward import Reward

RedemptionStatus = DomainRedemptionStatus
strawberry.enum(
    RedemptionStatus,
    name="RedemptionStatus",
    description="HELD: points reserved, code issued. Then FULFILLED or CANCELLED, once.",
)  # the domain enum, published as is


@strawberry.type
class Redemption(Node):
    quantity: int
    points: int
    status: RedemptionStatus
    codes: list[str] = strawberry.field(description="The discount codes to show the member.")
    created_at: datetime
    resolved_at: datetime | None
    reward_pk: strawberry.Private[int]
    member_pk: strawberry.Private[int]

    @strawberry.field
    async def reward(self, info: strawberry.Info[Context, None]) -> Reward | None:
        found = await info.context.loaders.reward.load(self.reward_pk)
        return Reward.of(found) if found else None

    @classmethod
    def of(cls, r: RedemptionRecord) -> Redemption:
        return cls(
            id=strawberry.ID(to_global_id("Redemption", r.id)),
            quantity=r.quantity,
            points=r.points,
            status=RedemptionStatus(r.status),
            codes=list(r.codes),
            created_at=r.created_at,
            resolved_at=r.resolved_at,
            reward_pk=r.reward_id,
            member_pk=r.member_id,
        )
