"""A member: balance, tier progress, rewards they can redeem, activity, redemptions."""

from __future__ import annotations

from datetime import datetime

import strawberry

from app.domain.records import Balance as BalanceRecord
from app.domain.records import Member as MemberRecord
from app.graphql.context import Context
from app.graphql.ids import decode_cursor, page_size, to_global_id
from app.graphql.types.activity import LedgerEntry
from app.graphql.types.common import Connection, Node
from app.graphql.types.program import Tier
from app.graphql.types.redemption import Redemption
from app.graphql.types.reward import (
    AvailableReward,
)


@strawberry.type
class ExpiringPoints:
    points: int
    expires_at: datetime


@strawberry.type(description="A member's points. Only `available` can be spent.")
class Balance:
    available: int = strawberry.field(
        description="Points that can be spent. Below zero when a return took back points "
        "already spent (program.returnPolicy NEGATIVE_BALANCE); later credits repay it first."
    )
    pending: int = strawberry.field(description="Earned, inside the return window.")
    held: int = strawberry.field(description="Reserved for redemptions not yet fulfilled.")
    lifetime_earned: int
    version: int = strawberry.field(description="Grows by one with every change.")
    member_pk: strawberry.Private[int]

    @strawberry.field(
        description="Available points that expire in the next 30 days, soonest first."
    )
    async def expiring_soon(self, info: strawberry.Info[Context, None]) -> list[ExpiringPoints]:
        found = await info.context.loaders.expiring.load(self.member_pk) or []
        return [ExpiringPoints(points=e.points, expires_at=e.expires_at) for e in found]

    @classmethod
    def of(cls, b: BalanceRecord) -> Balance:
        return cls(
            available=b.available,
            pending=b.pending,
            held=b.held,
            lifetime_earned=b.lifetime_earned,
            version=b.version,
            member_pk=b.member_id,
        )


@strawberry.type
class TierProgress:
    current: Tier
    next: Tier | None
    qualifying_points: int = strawberry.field(
        description="The tier measure so far: points earned, or whole currency units spent "
        "(program.tierMeasure), over the program's window (program.tierWindow)."
    )
    points_to_next: int
    progress: float = strawberry.field(description="0 to 1, from the current tier to the next.")
    period_ends_at: datetime | None = strawberry.field(
        description="When the measure next resets or drops: the calendar year's end, or "
        "when the oldest counted earn or order leaves the rolling 12 months."
    )
    since: datetime | None = strawberry.field(
        description="When the member reached (or moved to) the current tier."
    )
    review_at: datetime | None = strawberry.field(
        description="When the current tier period ends and the tier is reviewed against the "
        "measure over the period; null for a tier that is never reviewed (the first tier, "
        "or one marked neverDowngrade)."
    )
    grace_ends_at: datetime | None = strawberry.field(
        description="Set when a review fell short: the member keeps the tier until then, and "
        "for a new period if the measure reaches the threshold by then."
    )
    points_to_keep: int = strawberry.field(
        description="What the measure over the tier period still needs by reviewAt (or "
        "graceEndsAt) to keep the current tier; 0 when it is safe or never reviewed."
    )


async def tier_progress_of(
    info: strawberry.Info[Context, None], member_id: int
) -> TierProgress | None:
    p = await info.context.loaders.tier.load(member_id)
    if p is None:
        return None
    return TierProgress(
        current=Tier.of(p.current),
        next=Tier.of(p.next) if p.next else None,
        qualifying_points=p.qualifying_points,
        points_to_next=p.points_to_next,
        progress=p.progress,
        period_ends_at=p.period_ends_at,
        since=p.since,
        review_at=p.review_at,
        grace_ends_at=p.grace_ends_at,
        points_to_keep=p.points_to_keep,
    )


@strawberry.type
class Member(Node):
    external_id: str
    email: str | None
    display_name: str | None
    enrolled_at: datetime
    referral_code: str | None = strawberry.field(
        description="The code this member shares; a newcomer enrolled with it is linked."
    )
    pk: strawberry.Private[int]

    @classmethod
    def of(cls, m: MemberRecord) -> Member:
        return cls(
            id=strawberry.ID(to_global_id("Member", m.id)),
            external_id=m.external_id,
            email=m.email,
            display_name=m.display_name,
            enrolled_at=m.enrolled_at,
            referral_code=m.referral_code,
            pk=m.id,
        )

    @strawberry.field
    async def balance(self, info: strawberry.Info[Context, None]) -> Balance:
        found = await info.context.loaders.balance.load(self.pk)
        assert found is not None
        return Balance.of(found)

    @strawberry.field
    async def tier(self, info: strawberry.Info[Context, None]) -> TierProgress | None:
        return await tier_progress_of(info, self.pk)

    @strawberry.field(
        description="Active rewards, each saying whether this member can redeem it now."
    )
    async def available_rewards(
        self, info: strawberry.Info[Context, None], first: int | None = 20, after: str | None = None
    ) -> Connection[AvailableReward]:
        page = await info.context.services.queries.available_rewards(
            self.pk, after=decode_cursor(after) or 0, limit=page_size(first)
        )
        return Connection.of(page, AvailableReward.of, key=lambda a: a.reward.id)

    @strawberry.field(description="Ledger entries on this member's accounts, newest first.")
    async def activity(
        self, info: strawberry.Info[Context, None], first: int | None = 20, after: str | None = None
    ) -> Connection[LedgerEntry]:
        page = await info.context.services.queries.activity(
            self.pk, before=decode_cursor(after), limit=page_size(first)
        )
        return Connection.of(page, LedgerEntry.of, key=lambda e: e.id)

    @strawberry.field(description="This member's redemptions, newest first.")
    async def redemptions(
        self, info: strawberry.Info[Context, None], first: int | None = 20, after: str | None = None
    ) -> Connection[Redemption]:
        page = await info.context.services.queries.redemption_page(
            self.pk, before=decode_cursor(after), limit=page_size(first)
        )
        return Connection.of(page, Redemption.of, key=lambda r: r.id)
