"""cancelRedemption (points come back) and fulfillRedemption (the code was used)."""

from __future__ import annotations

from typing import Annotated

import strawberry

from app.auth.scopes import Scope
from app.graphql.context import Context
from app.graphql.errors import Forbidden
from app.graphql.ids import from_global_id
from app.graphql.mutations.write import IDEMPOTENCY_HELP, WritePayload, Writer
from app.graphql.permissions import needs, own_member_id, principal_of
from app.graphql.types.common import UserError
from app.graphql.types.member import Balance
from app.graphql.types.redemption import Redemption
from app.services.resolve import (
    RedemptionResolved,
    ResolveRedemption,
    cancel_redemption,
    fulfill_redemption,
)


@strawberry.type
class ResolveRedemptionPayload(WritePayload):
    @staticmethod
    async def shown(w: Writer, done: RedemptionResolved) -> ResolveRedemptionPayload:
        return ResolveRedemptionPayload(
            redemption=await w.redemption(done.redemption_id),
            balance=w.balance(done.balance),
            user_errors=[],
        )

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

    async def command(w: Writer) -> ResolveRedemption:
        return ResolveRedemption(redemption_id=pk, owner_id=owner)

    return await Writer(info).run(
        cancel_redemption,
        command,
        idempotency_key=idempotency_key,
        shown=ResolveRedemptionPayload.shown,
        failed=ResolveRedemptionPayload.failed,
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

    async def command(w: Writer) -> ResolveRedemption:
        return ResolveRedemption(redemption_id=pk)

    return await Writer(info).run(
        fulfill_redemption,
        command,
        idempotency_key=idempotency_key,
        shown=ResolveRedemptionPayload.shown,
        failed=ResolveRedemptionPayload.failed,
    )
