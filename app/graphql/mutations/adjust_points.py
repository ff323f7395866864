"""adjustPoints: staff correct a balance with a reason (points:adjust)."""

from __future__ import annotations

from typing import Annotated

import strawberry

from app.auth.scopes import Scope
from app.graphql.context import Context
from app.graphql.mutations.base import (
    IDEMPOTENCY_HELP,
    balance_of,
    errors_of,
    member_not_found,
    member_of,
    target_member,
    writer_key,
)
from app.graphql.permissions import needs
from app.graphql.types.common import UserError
from app.graphql.types.member import Balance, Member
from app.services.adjust import AdjustPoints, adjust_points


@strawberry.input
class AdjustPointsInput:
    member_id: strawberry.ID | None = None
    external_id: str | None = None
    points: int = strawberry.field(description="Signed: positive credits, negative debits.")
    reason: str


@strawberry.type
class AdjustPointsPayload:
    member: Member | None
    balance: Balance | None
    user_errors: list[UserError]


@strawberry.mutation(description="Adjust a member's points.", extensions=needs(Scope.POINTS_ADJUST))
async def adjust_points_mutation(
    info: strawberry.Info[Context, None],
    input: AdjustPointsInput,
    idempotency_key: Annotated[str, strawberry.argument(description=IDEMPOTENCY_HELP)],
) -> AdjustPointsPayload:
    ref = await target_member(
        info, input.member_id, input.external_id, partner_scope=Scope.POINTS_ADJUST
    )
    if ref is None:
        return AdjustPointsPayload(member=None, balance=None, user_errors=member_not_found())
    services = info.context.services
    outcome = await adjust_points(
        services.uow,
        services.clock,
        principal=writer_key(info),
        idempotency_key=idempotency_key,
        cmd=AdjustPoints(member=ref, points=input.points, reason=input.reason),
    )
    return AdjustPointsPayload(
        member=await member_of(info, outcome),
        balance=balance_of(outcome),
        user_errors=errors_of(outcome),
    )
