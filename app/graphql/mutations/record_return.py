"""recordReturn: part or all of an order came back; its points are reversed (points:write)."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

import strawberry

from app.auth.scopes import Scope
from app.domain.line_returns import ReturnLine
from app.graphql.context import Context
from app.graphql.mutations.write import (
    BALANCE_AFTER_HELP,
    IDEMPOTENCY_HELP,
    MEMBER_VIEW_HELP,
    USER_ERRORS_HELP,
    WritePayload,
    Writer,
)
from app.graphql.permissions import needs
from app.graphql.types.common import UserError
from app.graphql.types.member import Balance, Member
from app.services.returns import RecordReturn, ReturnRecorded, record_return


@strawberry.input(description="One returned line: which SKU, how many units.")
class ReturnLineInput:
    sku: str = strawberry.field(description="The SKU of a line of the recorded order.")
    quantity: int = strawberry.field(
        default=1, description="How many of its units came back (this time)."
    )


@strawberry.input(
    description="Name the returned lines, or give an amount for an order recorded without lines."
)
class RecordReturnInput:
    order_id: str = strawberry.field(description="The orderId the purchase was recorded with.")
    amount: Decimal | None = strawberry.field(
        default=None, description="The amount refunded, for an order recorded without lines."
    )
    lines: list[ReturnLineInput] | None = strawberry.field(
        default=None, description="The returned lines: exactly what they earned is reversed."
    )


@strawberry.type(description="What recordReturn did.")
class RecordReturnPayload(WritePayload):
    member: Member | None = strawberry.field(description=MEMBER_VIEW_HELP)
    points_reversed: int | None = strawberry.field(
        description="Points taken back by this return, pending ones first, then available."
    )
    shortfall: int | None = strawberry.field(
        description="Points due back that the member had already spent, so were not taken "
        "(RECORD_SHORTFALL); 0 under NEGATIVE_BALANCE, where available went below zero instead."
    )
    balance: Balance | None = strawberry.field(description=BALANCE_AFTER_HELP)
    referral_points_reversed: int | None = strawberry.field(
        default=None, description="Referral points taken back: the referral's purchase came back."
    )
    user_errors: list[UserError] = strawberry.field(description=USER_ERRORS_HELP)


def return_command(input: RecordReturnInput) -> RecordReturn:
    """The command a recordReturn input asks for (recordReturns builds each item so)."""
    return RecordReturn(
        order_id=input.order_id,
        amount=None if input.amount is None else str(input.amount),
        lines=tuple(ReturnLine(line.sku, line.quantity) for line in input.lines or ()),
    )


@strawberry.mutation(
    description="Record a return against an order (points:write): what the returned part "
    "earned is taken back, never more than the order earned, across any number of partial "
    "returns. A whole order returned also takes back the referral awards it brought.",
    extensions=needs(Scope.POINTS_WRITE),
)
async def record_return_mutation(
    info: strawberry.Info[Context, None],
    input: Annotated[RecordReturnInput, strawberry.argument(description="What came back.")],
    idempotency_key: Annotated[str, strawberry.argument(description=IDEMPOTENCY_HELP)],
) -> RecordReturnPayload:
    async def command(w: Writer) -> RecordReturn:
        return return_command(input)

    async def shown(w: Writer, done: ReturnRecorded) -> RecordReturnPayload:
        return RecordReturnPayload(
            member=await w.member_view(done.member_id),
            points_reversed=done.points,
            shortfall=done.shortfall,
            balance=w.balance(done.balance),
            referral_points_reversed=done.referral_points_reversed or None,
            user_errors=[],
        )

    return await Writer(info).run(
        record_return,
        command,
        idempotency_key=idempotency_key,
        shown=shown,
        failed=RecordReturnPayload.failed,
    )
