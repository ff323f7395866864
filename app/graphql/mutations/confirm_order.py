"""confirmOrder: the order can no longer be returned; its pending points become available."""

from __future__ import annotations

from typing import Annotated

import strawberry

from app.auth.scopes import Scope
from app.graphql.context import Context
from app.graphql.mutations.write import IDEMPOTENCY_HELP, WritePayload, Writer
from app.graphql.permissions import needs
from app.graphql.types.common import UserError
from app.graphql.types.member import Balance, Member
from app.services.confirm import ConfirmOrder, OrderConfirmed, confirm_order


@strawberry.type
class ConfirmOrderPayload(WritePayload):
    member: Member | None
    points_released: int | None
    balance: Balance | None
    user_errors: list[UserError]


@strawberry.mutation(
    description="Confirm an order (shipped, return window waived): pending points become available.",
    extensions=needs(Scope.POINTS_WRITE),
)
async def confirm_order_mutation(
    info: strawberry.Info[Context, None],
    order_id: str,
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
