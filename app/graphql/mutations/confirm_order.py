"""confirmOrder: the order can no longer be returned; its pending points become available."""

from __future__ import annotations

from typing import Annotated

import strawberry

from app.auth.scopes import Scope
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
from app.services.confirm import ConfirmOrder, OrderConfirmed, confirm_order


@strawberry.type(description="What confirmOrder did.")
class ConfirmOrderPayload(WritePayload):
    member: Member | None = strawberry.field(description=MEMBER_VIEW_HELP)
    points_released: int | None = strawberry.field(
        description="The order's pending points made available now; 0 when none were pending "
        "(already released, or the program has no return window). Null when the write failed."
    )
    balance: Balance | None = strawberry.field(description=BALANCE_AFTER_HELP)
    user_errors: list[UserError] = strawberry.field(description=USER_ERRORS_HELP)


@strawberry.mutation(
    description="Confirm an order (shipped, return window waived): its pending points become "
    "available now (points:write). Confirming it again releases nothing more.",
    extensions=needs(Scope.POINTS_WRITE),
)
async def confirm_order_mutation(
    info: strawberry.Info[Context, None],
    order_id: Annotated[
        str, strawberry.argument(description="The orderId the purchase was recorded with.")
    ],
    idempotency_key: Annotated[str, strawberry.argument(description=IDEMPOTENCY_HELP)],
) -> ConfirmOrderPayload:
    async def command(w: Writer) -> ConfirmOrder:
        return ConfirmOrder(order_id=order_id)

    async def shown(w: Writer, done: OrderConfirmed) -> ConfirmOrderPayload:
        return ConfirmOrderPayload(
            member=await w.member_view(done.member_id),
            points_released=done.points,
            balance=w.balance(done.balance),
            user_errors=[],
        )

    return await Writer(info).run(
        confirm_order,
        command,
        idempotency_key=idempotency_key,
        shown=shown,
        failed=ConfirmOrderPayload.failed,
    )
