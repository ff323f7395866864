"""cancelRedemption (points come back) and fulfillRedemption (the code was used)."""

from __future__ import annotations

from typing import Annotated

import strawberry

from app.auth.scopes import Scope
from app.graphql.context import Context
from app.graphql.errors import BadInput, Forbidden
from app.graphql.ids import from_global_id
from app.graphql.mutations.write import (
    BALANCE_AFTER_HELP,
    IDEMPOTENCY_HELP,
    USER_ERRORS_HELP,
    WritePayload,
    Writer,
)
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


@strawberry.type(description="What cancelRedemption or fulfillRedemption did.")
class ResolveRedemptionPayload(WritePayload):
    @staticmethod
    async def shown(w: Writer, done: RedemptionResolved) -> ResolveRedemptionPayload:
        return ResolveRedemptionPayload(
            redemption=await w.redemption(done.redemption_id),
            balance=w.balance(done.balance),
            user_errors=[],
        )

    redemption: Redemption | None = strawberry.field(
        description="The redemption, now CANCELLED or FULFILLED; null when the write failed."
    )
    balance: Balance | None = strawberry.field(description=BALANCE_AFTER_HELP)
    user_errors: list[UserError] = strawberry.field(description=USER_ERRORS_HELP)


@strawberry.mutation(
    description="Cancel a held redemption: its points return to available, its codes lapse and "
    "its stock comes back. A member token cancels its own (loyalty:redeem); a partner any "
    "(redemptions:write).",
    extensions=needs(Scope.LOYALTY_REDEEM, Scope.REDEMPTIONS_WRITE),
)
async def cancel_redemption_mutation(
    info: strawberry.Info[Context, None],
    redemption_id: Annotated[
        strawberry.ID,
        strawberry.argument(description="The redemption's global id (Redemption.id)."),
    ],
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
    description="Mark a redemption fulfilled (a till or checkout used its code, a gift card or "
    "an experience was delivered): the held points are spent. Name it by id or by one of its "
    "codes, exactly one (redemptions:write).",
    extensions=needs(Scope.REDEMPTIONS_WRITE),
)
async def fulfill_redemption_mutation(
    info: strawberry.Info[Context, None],
    idempotency_key: Annotated[str, strawberry.argument(description=IDEMPOTENCY_HELP)],
    redemption_id: Annotated[
        strawberry.ID | None,
        strawberry.argument(description="The redemption's global id (Redemption.id)."),
    ] = None,
    code: Annotated[
        str | None,
        strawberry.argument(description="Or one of its discount codes, as scanned at a till."),
    ] = None,
) -> ResolveRedemptionPayload:
    if (redemption_id is None) == (code is None):
        raise BadInput("Give exactly one of redemptionId and code.", "redemptionId")
    pk = (
        from_global_id(str(redemption_id), expect="Redemption", field="redemptionId")[1]
        if redemption_id is not None
        else None
    )

    async def command(w: Writer) -> ResolveRedemption:
        return ResolveRedemption(redemption_id=pk, code=code)

    return await Writer(info).run(
        fulfill_redemption,
        command,
        idempotency_key=idempotency_key,
        shown=ResolveRedemptionPayload.shown,
        failed=ResolveRedemptionPayload.failed,
    )
