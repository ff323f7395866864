"""confirmOrder: the order can no longer be returned; its pending points become available."""

from __future__ import annotations

from typing import Annotated

import strawberry

from app.auth.scopes import Scope
from app.graphql.context import Context
from app.graphql.mutations.base import (
    IDEMPOTENCY_HELP,
    balance_of,
    errors_of,
    member_of,
    writer_key,
)
from app.graphql.permissions import needs
from app.graphql.types.common import UserError
from app.graphql.types.member import Balance, Member
from app.services.confirm import ConfirmOrder, confirm_order


@strawberry.type
class ConfirmOrderPayload:
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
    services = info.context.services
    outcome = await confirm_order(
        services.uow,
        services.clock,
        principal=writer_key(info),
        idempotency_key=idempotency_key,
        cmd=ConfirmOrder(order_id=order_id),
    )
    return ConfirmOrderPayload(
        member=await member_of(info, outcome),
        points_released=outcome.data.get("points"),
        balance=balance_of(outcome),
        user_errors=errors_of(outcome),
    )
