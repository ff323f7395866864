"""adjustPoints: staff correct a balance with a reason (points:adjust)."""

from __future__ import annotations

from typing import Annotated

import strawberry

from app.auth.scopes import Scope
from app.graphql.context import Context
from app.graphql.mutations.write import (
    BALANCE_AFTER_HELP,
    EXTERNAL_ID_HELP,
    IDEMPOTENCY_HELP,
    MEMBER_ID_HELP,
    MEMBER_VIEW_HELP,
    USER_ERRORS_HELP,
    WritePayload,
    Writer,
)
from app.graphql.permissions import needs
from app.graphql.types.common import UserError
from app.graphql.types.member import Balance, Member
from app.services.adjust import AdjustPoints, PointsAdjusted, adjust_points


@strawberry.input(description="A manual correction of one member's available points.")
class AdjustPointsInput:
    member_id: strawberry.ID | None = strawberry.field(default=None, description=MEMBER_ID_HELP)
    external_id: str | None = strawberry.field(default=None, description=EXTERNAL_ID_HELP)
    points: int = strawberry.field(
        description="Signed: positive credits, negative debits; not 0, at most 10000000 either way."
    )
    reason: str = strawberry.field(
        description="Why, kept on the ledger entry (LedgerEntry.reason); 1 to 500 characters, "
        "line breaks allowed."
    )


@strawberry.type(description="What adjustPoints did.")
class AdjustPointsPayload(WritePayload):
    member: Member | None = strawberry.field(description=MEMBER_VIEW_HELP)
    balance: Balance | None = strawberry.field(description=BALANCE_AFTER_HELP)
    user_errors: list[UserError] = strawberry.field(description=USER_ERRORS_HELP)


@strawberry.mutation(
    description="Adjust a member's available points by hand (points:adjust), with a reason; a "
    "debit cannot take more than is available (INSUFFICIENT_POINTS).",
    extensions=needs(Scope.POINTS_ADJUST),
)
async def adjust_points_mutation(
    info: strawberry.Info[Context, None],
    input: Annotated[AdjustPointsInput, strawberry.argument(description="The correction.")],
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
