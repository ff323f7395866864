"""adjustPoints: staff correct a balance with a reason (points:adjust)."""

from __future__ import annotations

from typing import Annotated

import strawberry

from app.auth.scopes import Scope
from app.graphql.context import Context
from app.graphql.mutations.write import IDEMPOTENCY_HELP, WritePayload, Writer
from app.graphql.permissions import needs
from app.graphql.types.common import UserError
from app.graphql.types.member import Balance, Member
from app.services.adjust import AdjustPoints, PointsAdjusted, adjust_points


@strawberry.input
class AdjustPointsInput:
    member_id: strawberry.ID | None = None
    external_id: str | None = None
    points: int = strawberry.field(description="Signed: positive credits, negative debits.")
    reason: str


@strawberry.type
class AdjustPointsPayload(WritePayload):
    member: Member | None
    balance: Balance | None
    user_errors: list[UserError]


@strawberry.mutation(description="Adjust a member's points.", extensions=needs(Scope.POINTS_ADJUST))
async def adjust_points_mutation(
    info: strawberry.Info[Context, None],
    input: AdjustPointsInput,
    idempotency_key: Annotated[str, strawberry.argument(description=IDEMPOTENCY_HELP)],
) -> AdjustPointsPayload:
    async def command(w: Writer) -> AdjustPoints:
        member = await w.member(
            input.member_id, input.external_id, partner_scope=Scope.POINTS_ADJUST
        )
        return AdjustPoints(member=member, points=input.points, reason=input.reason)

    async def shown(w: Writer, done: PointsAdjusted) -> AdjustPointsPayload:
        return AdjustPointsPayload(
            member=await w.member_view(done.member_id),
            balance=w.balance(done.balance),
            user_errors=[],
        )

    return await Writer(info).run(
        adjust_points,
        command,
        idempotency_key=idempotency_key,
        shown=shown,
        failed=AdjustPointsPayload.failed,
    )
