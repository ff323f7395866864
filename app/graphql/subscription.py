"""balanceChanged and redemptionUpdated: every committed change of a member's balance, or
of its redemptions, in order, with no gap."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from datetime import datetime
from typing import Annotated

import strawberry

from app.auth.scopes import Scope
from app.graphql.context import Context
from app.graphql.errors import BadInput, Forbidden
from app.graphql.ids import from_global_id
from app.graphql.permissions import may_read_member, needs, own_member_id, principal_of
from app.graphql.types.activity import EntryKind
from app.graphql.types.member import Balance, TierProgress, tier_progress_of
from app.graphql.types.redemption import Redemption, RedemptionStatus
from app.services.balance_stream import balance_changes, redemption_changes


@strawberry.type(description="One committed change of a member's balance.")
class BalanceChange:
    version: int = strawberry.field(description="The balance version this change produced.")
    kind: EntryKind = strawberry.field(description="What moved the points.")
    delta: int = strawberry.field(description="Change of available points.")
    pending_delta: int = strawberry.field(description="Change of pending points.")
    held_delta: int = strawberry.field(description="Change of held points.")
    balance: Balance = strawberry.field(description="The balance right after this change.")
    occurred_at: datetime = strawberry.field(
        description="When it happened, as LedgerEntry.occurredAt: a purchase's or activity's "
        "occurredAt for their earns, otherwise when Tally recorded it."
    )
    reference: str | None = strawberry.field(
        description="What it refers to, as LedgerEntry.reference (order id, reward key, ...)."
    )
    member_pk: strawberry.Private[int]

    @strawberry.field(description="The member's tier as this change is delivered.")
    async def tier(self, info: strawberry.Info[Context, None]) -> TierProgress | None:
        return await tier_progress_of(info, self.member_pk)


async def _followed(
    info: strawberry.Info[Context, None], member_id: strawberry.ID | None, since: int | None
) -> int:
    """The member a subscription follows: the token's own, or one a partner may read."""
    if since is not None and since < 0:
        raise BadInput("sinceVersion must be zero or more", "sinceVersion")
    if member_id is not None:
        pk: int | None = from_global_id(str(member_id), expect="Member", field="memberId")[1]
    elif principal_of(info).is_member:
        pk = await own_member_id(info)
    else:
        raise BadInput("memberId is required for a partner token", "memberId")
    if pk is None or not await may_read_member(info, pk):
        raise Forbidden("This token cannot follow that member.")
    members = await info.context.services.queries.members([pk])
    if pk not in members:
        raise Forbidden("This token cannot follow that member.")
    return pk


MemberToFollow = Annotated[
    strawberry.ID | None,
    strawberry.argument(
        description="Whose balance to follow; required for a partner token; a member token "
        "may omit it to follow itself."
    ),
]


@strawberry.type(description="One change of one of a member's redemptions.")
class RedemptionUpdate:
    version: int = strawberry.field(
        description="The member's redemption-change number: resume with sinceVersion."
    )
    status: RedemptionStatus = strawberry.field(description="The status it moved to.")
    at: datetime = strawberry.field(description="When.")
    actor: str = strawberry.field(description="Who or what made the change.")
    detail: str = strawberry.field(description="Why, or what came with it.")
    redemption_pk: strawberry.Private[int]

    @strawberry.field(description="The redemption as it is now (it may have moved on since).")
    async def redemption(self, info: strawberry.Info[Context, None]) -> Redemption | None:
        found = await info.context.loaders.redemption.load(self.redemption_pk)
        return Redemption.of(found) if found else None


@strawberry.type(
    description="Live updates over graphql-transport-ws on the GraphQL URL; the bearer token "
    "goes in the connection_init payload."
)
class Subscription:
    @strawberry.subscription(
        description="Changes of a member's balance. With sinceVersion, the changes after that "
        "version come first, then live ones, with no gap and no duplicate. A member token "
        "(loyalty:read) follows itself; a partner needs members:read.",
        extensions=needs(Scope.LOYALTY_READ, Scope.MEMBERS_READ),
    )
    async def balance_changed(
        self,
        info: strawberry.Info[Context, None],
        member_id: MemberToFollow = None,
        since_version: Annotated[
            int | None,
            strawberry.argument(
                description="The last Balance.version you saw (0 or more): the changes after it "
                "come first. Omit for live changes only."
            ),
        ] = None,
    ) -> AsyncGenerator[BalanceChange, None]:
        pk = await _followed(info, member_id, since_version)
        services = info.context.services
        async for change in balance_changes(
            services.queries, services.feed, pk, since_version=since_version
        ):
            yield BalanceChange(
                version=change.version,
                kind=change.kind,
                delta=change.delta,
                pending_delta=change.pending_delta,
                held_delta=change.held_delta,
                balance=Balance.of(change.balance),
                occurred_at=change.occurred_at,
                reference=change.reference,
                member_pk=pk,
            )

    @strawberry.subscription(
        description="Every change of a member's redemptions (created HELD, FULFILLING, "
        "FULFILLED, SHIPPED, ...), in order. With sinceVersion, the changes after it come "
        "first, then live ones, with no gap and no duplicate. A member token (loyalty:read) "
        "follows itself; a partner needs members:read.",
        extensions=needs(Scope.LOYALTY_READ, Scope.MEMBERS_READ),
    )
    async def redemption_updated(
        self,
        info: strawberry.Info[Context, None],
        member_id: Annotated[
            strawberry.ID | None,
            strawberry.argument(
                description="Whose redemptions to follow; required for a partner token; a "
                "member token may omit it to follow itself."
            ),
        ] = None,
        since_version: Annotated[
            int | None,
            strawberry.argument(
                description="The last RedemptionUpdate.version (or RedemptionChange.version) "
                "you saw, 0 or more. Omit for live changes only."
            ),
        ] = None,
    ) -> AsyncGenerator[RedemptionUpdate, None]:
        pk = await _followed(info, member_id, since_version)
        services = info.context.services
        async for change in redemption_changes(
            services.queries, services.feed, pk, since_version=since_version
        ):
            info.context.loaders.redemption.forget(change.redemption_id)
            info.context.loaders.redemption_history.forget(change.redemption_id)
            yield RedemptionUpdate(
                version=change.version,
                status=RedemptionStatus(change.status),
                at=change.at,
                actor=change.actor,
                detail=change.detail,
                redemption_pk=change.redemption_id,
            )
