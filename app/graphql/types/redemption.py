"""Redemptions: a reward taken, its points held until fulfilled or cancelled."""

from __future__ import annotations

from datetime import datetime

import strawberry

from app.domain.records import Redemption as RedemptionRecord
from app.domain.rewards import RedemptionStatus as DomainRedemptionStatus
from app.graphql.context import Context
from app.graphql.ids import to_global_id
from app.graphql.types.common import Node, publish_enum
from app.graphql.types.reward import Reward

RedemptionStatus = DomainRedemptionStatus
publish_enum(  # the domain enum, published as is
    RedemptionStatus,
    "RedemptionStatus",
    "HELD: points reserved, code issued. Then FULFILLED or CANCELLED, once.",
    {
        RedemptionStatus.HELD: "Points reserved and codes issued; waiting to be fulfilled or "
        "cancelled.",
        RedemptionStatus.FULFILLED: "The code was used and the held points are spent. Final.",
        RedemptionStatus.CANCELLED: "The held points went back to available and the codes "
        "lapsed. Final.",
    },
)


@strawberry.type(
    description="A reward a member took: its points are held until it is fulfilled or cancelled."
)
class Redemption(Node):
    quantity: int = strawberry.field(description="Units of the reward redeemed.")
    points: int = strawberry.field(description="Points it takes: the reward's cost times quantity.")
    status: RedemptionStatus = strawberry.field(
        description="HELD until fulfilled or cancelled, which happens once."
    )
    codes: list[str] = strawberry.field(
        description="The discount codes to show the member, one per unit."
    )
    created_at: datetime = strawberry.field(description="When it was redeemed.")
    resolved_at: datetime | None = strawberry.field(
        description="When it was fulfilled or cancelled; null while HELD."
    )
    reward_pk: strawberry.Private[int]
    member_pk: strawberry.Private[int]

    @strawberry.field(
        description="The reward redeemed. A reward dropped from the program is closed, not "
        "deleted, so it still shows."
    )
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
