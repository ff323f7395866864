"""cancelRedemption (points come back) and fulfillRedemption (the code was used)."""

from __future__ import annotations

from typing import Annotated

import strawberry

from app.auth.scopes import Scope
from app.graphql.context import Context
from app.graphql.errors import Forbidden
from app.graphql.ids import from_global_id
from app.graphql.mutations.base import (
    IDEMPOTENCY_HELP,
    balance_of,
    errors_of,
    redemption_of,
    writer_key,
)
from app.graphql.permissions import needs, own_member_id, principal_of
from app.graphql.types.common import UserError
from app.graphql.types.member import Balance
from app.graphql.types.redemption import Redemption
from app.services.resolve import ResolveRedemption, cancel_redemption, fulfill_redemption


@strawberry.type
class ResolveRedemptionPayload:
    redemption: Redemption | None
    balance: Balance | None
    user_errors: list[UserError]


@strawberry.mutation(
    description="Cancel a held redemption: its points return to available, its codes lapse.",
    extensions=needs(Scope.LOYALTY_REDEEM, Scope.REDEMPTIONS_WRITE),
)
async def cancel_redemption_mutation(
    info: strawberry.Info[Context, None],
    redemption_id: strawberry.ID,
    idempotency_key: Annotated[str, strawberry.argument(description=IDEMPOTENCY_HELP)],
) -> ResolveRedemptionPayload:
    pk = from_global_id(str(redemption_id), expect="Redemption", field="redemptionId")[1]
    principal = principal_of(info)
    if not principal.is_member and not principal.has(Scope.REDEMPTIONS_WRITE):
        raise Forbidden("Partners need redemptions:write to cancel a member's redemption.")
    # A member token may cancel only its own; -1 matches no member, so others' are "not found".
    owner = (await own_member_id(info) or -1) if principal.is_member else None
    services = info.context.services
    outcome = await cancel_redemption(
        services.uow,
        services.clock,
        principal=writer_key(info),
        idempotency_key=idempotency_key,
        cmd=ResolveRedemption(redemption_id=pk, owner_id=owner),
    )
    return ResolveRedemptionPayload(
        redemption=await redemption_of(info, outcome),
        balance=balance_of(outcome),
        user_errors=errors_of(outcome),
    )


@strawberry.mutation(
    description="Mark a held redemption fulfilled (its code was used): the hold is posted.",
    extensions=needs(Scope.REDEMPTIONS_WRITE),
)
async def fulfill_redemption_mutation(
    info: strawberry.Info[Context, None],
    redemption_id: strawberry.ID,
    idempotency_key: Annotated[str, strawberry.argument(description=IDEMPOTENCY_HELP)],
) -> ResolveRedemptionPayload:
    pk = from_global_id(str(redemption_id), expect="Redemption", field="redemptionId")[1]
    services = info.context.services
    outcome = await fulfill_redemption(
        services.uow,
        services.clock,
        principal=writer_key(info),
        idempotency_key=idempotency_key,
        cmd=ResolveRedemption(redemption_id=pk),
    )
    return ResolveRedemptionPayload(
        redemption=await redemption_of(info, outcome),
        balance=balance_of(outcome),
        user_errors=errors_of(outcome),
    )
