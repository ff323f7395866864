"""A member: balance, tier progress, rewards they can redeem, activity, redemptions."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

from app.domain.members import MemberStatus as DomainMemberStatus
from app.domain.records import Balance as BalanceRecord
from app.domain.records import Member as MemberRecord
from app.graphql.context import Context
from app.graphql.errors import within_int
from app.graphql.ids import decode_cursor, page_size, to_global_id
from app.graphql.types.activity import LedgerEntry
from app.graphql.types.common import AFTER_HELP, FIRST_HELP, Connection, Node, publish_enum
from app.graphql.types.program import CheckoutOffer, Tier
from app.graphql.types.redemption import Redemption
from app.graphql.types.reward import (
    AvailableReward,
)


@strawberry.type(description="Available points that expire at the same moment.")
class ExpiringPoints:
    points: int = strawberry.field(description="How many points expire then.")
    expires_at: datetime = strawberry.field(
        description="When they expire, unless spent before (spending takes the soonest first)."
    )


BACK_IN_RANGE = " A staff adjustment (adjustPoints) can bring it back in range."


@strawberry.type(description="A member's points. Only `available` can be spent.")
class Balance:
    """Each count is shown as stored. One past what a GraphQL Int holds (a database
    written before Tally refused such writes) shows as the limit, and the answer's errors
    say so, naming the field and the limit, while the rest of the member still answers."""

    record: strawberry.Private[BalanceRecord]
    member_pk: strawberry.Private[int]

    @strawberry.field(
        description="Points that can be spent. Below zero when a return took back points "
        "already spent (program.returnPolicy NEGATIVE_BALANCE); later credits repay it first."
    )
    def available(self, info: strawberry.Info[Context, None]) -> int:
        return within_int(info, self.record.available, BACK_IN_RANGE)

    @strawberry.field(description="Earned, inside the return window.")
    def pending(self, info: strawberry.Info[Context, None]) -> int:
        return within_int(info, self.record.pending)

    @strawberry.field(description="Reserved for redemptions not yet fulfilled.")
    def held(self, info: strawberry.Info[Context, None]) -> int:
        return within_int(info, self.record.held)

    @strawberry.field(
        description="Every point earned (purchases, activities, referrals), less what returns "
        "took back; spending, expiry and adjustments do not change it."
    )
    def lifetime_earned(self, info: strawberry.Info[Context, None]) -> int:
        return within_int(info, self.record.lifetime_earned)

    @strawberry.field(description="Grows by one with every change.")
    def version(self) -> int:
        return self.record.version

    @strawberry.field(
        description="Available points that expire in the next 30 days, soonest first."
    )
    async def expiring_soon(self, info: strawberry.Info[Context, None]) -> list[ExpiringPoints]:
        found = await info.context.loaders.expiring.load(self.member_pk) or []
        return [ExpiringPoints(points=e.points, expires_at=e.expires_at) for e in found]

    @classmethod
    def of(cls, b: BalanceRecord) -> Balance:
        return cls(record=b, member_pk=b.member_id)


@strawberry.type(description="Where a member stands in the program's tiers.")
class TierProgress:
    current: Tier = strawberry.field(description="The tier the member holds now.")
    next: Tier | None = strawberry.field(description="The next tier up; null at the top tier.")
    qualifying_points: int = strawberry.field(
        description="The tier measure so far: points earned, or whole currency units spent "
        "(program.tierMeasure), over the program's window (program.tierWindow)."
    )
    points_to_next: int = strawberry.field(
        description="How much more of the tier measure reaches the next tier; 0 at the top tier."
    )
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


MemberStatus = DomainMemberStatus
publish_enum(  # the domain enum, published as is
    MemberStatus,
    "MemberStatus",
    "A member's standing with the program.",
    {
        DomainMemberStatus.ACTIVE: "Earns and redeems.",
        DomainMemberStatus.SUSPENDED: "On hold (suspendMember): keeps earning, cannot redeem "
        "until reactivateMember.",
        DomainMemberStatus.ERASED: "Personal data erased (eraseMember): the ledger stays, the "
        "member takes no more writes.",
    },
)


@strawberry.type(
    description="A member of the loyalty program: points, tier, rewards and history. A partner "
    "reads any member with members:read; a member token reads only its own."
)
class Member(Node):
    external_id: str = strawberry.field(
        description="Your id for this customer, as given to enrollMember; unique."
    )
    email: str | None = strawberry.field(
        description="E-mail address as stored (its domain in lower case); null if not given."
    )
    display_name: str | None = strawberry.field(
        description="The name to greet the member by; null if not given."
    )
    enrolled_at: datetime = strawberry.field(description="When the member was enrolled.")
    referral_code: str | None = strawberry.field(
        description="The code this member shares; a newcomer enrolled with it is linked."
    )
    status: MemberStatus = strawberry.field(
        description="ACTIVE, SUSPENDED (a hold: earns, cannot redeem) or ERASED."
    )
    status_reason: str | None = strawberry.field(
        description="Why the member was suspended or reactivated, as staff gave it; null "
        "for a member never suspended."
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
            status=m.status,
            status_reason=m.status_reason,
            pk=m.id,
        )

    @strawberry.field(description="The member's points now.")
    async def balance(self, info: strawberry.Info[Context, None]) -> Balance:
        found = await info.context.loaders.balance.load(self.pk)
        assert found is not None
        return Balance.of(found)

    @strawberry.field(
        description="Where the member stands in the program's tiers; null when no program is "
        "active."
    )
    async def tier(self, info: strawberry.Info[Context, None]) -> TierProgress | None:
        return await tier_progress_of(info, self.pk)

    @strawberry.field(
        description="Active rewards, each saying whether this member can redeem it now."
    )
    async def available_rewards(
        self,
        info: strawberry.Info[Context, None],
        first: Annotated[int | None, strawberry.argument(description=FIRST_HELP)] = 20,
        after: Annotated[str | None, strawberry.argument(description=AFTER_HELP)] = None,
    ) -> Connection[AvailableReward]:
        page = await info.context.services.queries.available_rewards(
            self.pk, after=decode_cursor(after) or 0, limit=page_size(first)
        )
        return Connection.of(page, AvailableReward.of, key=lambda a: a.reward.id)

    @strawberry.field(
        description="What a checkout can take off with this member's points now (the points "
        "value of their balance); null when the program takes no points at checkout."
    )
    async def checkout(self, info: strawberry.Info[Context, None]) -> CheckoutOffer | None:
        found = await info.context.services.queries.checkout_offer(self.pk)
        return CheckoutOffer.of(found) if found else None

    @strawberry.field(description="Ledger entries on this member's accounts, newest first.")
    async def activity(
        self,
        info: strawberry.Info[Context, None],
        first: Annotated[int | None, strawberry.argument(description=FIRST_HELP)] = 20,
        after: Annotated[str | None, strawberry.argument(description=AFTER_HELP)] = None,
    ) -> Connection[LedgerEntry]:
        page = await info.context.services.queries.activity(
            self.pk, before=decode_cursor(after), limit=page_size(first)
        )
        return Connection.of(page, LedgerEntry.of, key=lambda e: e.id)

    @strawberry.field(description="This member's redemptions, newest first.")
    async def redemptions(
        self,
        info: strawberry.Info[Context, None],
        first: Annotated[int | None, strawberry.argument(description=FIRST_HELP)] = 20,
        after: Annotated[str | None, strawberry.argument(description=AFTER_HELP)] = None,
    ) -> Connection[Redemption]:
        page = await info.context.services.queries.redemption_page(
            self.pk, before=decode_cursor(after), limit=page_size(first)
        )
        return Connection.of(page, Redemption.of, key=lambda r: r.id)
