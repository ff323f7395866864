"""updateRedemption: goods and experiences moved along by staff or a 3PL."""

from __future__ import annotations

from typing import Annotated

import strawberry

from app.auth.scopes import Scope
from app.graphql.context import Context
from app.graphql.ids import from_global_id
from app.graphql.mutations.write import (
    BALANCE_AFTER_HELP,
    IDEMPOTENCY_HELP,
    USER_ERRORS_HELP,
    WritePayload,
    Writer,
)
from app.graphql.permissions import needs
from app.graphql.types.common import UserError
from app.graphql.types.member import Balance
from app.graphql.types.redemption import Redemption, RedemptionStatus
from app.services.redemption_updates import RedemptionUpdated, UpdateRedemption, update_redemption


@strawberry.type(description="What updateRedemption did.")
class UpdateRedemptionPayload(WritePayload):
    @staticmethod
    async def shown(w: Writer, done: RedemptionUpdated) -> UpdateRedemptionPayload:
        return UpdateRedemptionPayload(
            redemption=await w.redemption(done.redemption_id),
            balance=w.balance(done.balance),
            user_errors=[],
        )

    redemption: Redemption | None = strawberry.field(
        description="The redemption in its new status; null when the write failed."
    )
    balance: Balance | None = strawberry.field(description=BALANCE_AFTER_HELP)
    user_errors: list[UserError] = strawberry.field(description=USER_ERRORS_HELP)


@strawberry.mutation(
    description="Move a PHYSICAL or EXPERIENCE redemption along: FULFILLING (picked or being "
    "booked), SHIPPED (needs carrier and trackingNumber; the held points are spent), "
    "DELIVERED, FULFILLED (an experience booked: the points are spent), FAILED or CANCELLED "
    "(the points come back). A move its status does not allow is a user error with code "
    "INVALID_TRANSITION (redemptions:write).",
    extensions=needs(Scope.REDEMPTIONS_WRITE),
)
async def update_redemption_mutation(
    info: strawberry.Info[Context, None],
    redemption_id: Annotated[
        strawberry.ID,
        strawberry.argument(description="The redemption's global id (Redemption.id)."),
    ],
    status: Annotated[RedemptionStatus, strawberry.argument(description="Where it goes now.")],
    idempotency_key: Annotated[str, strawberry.argument(description=IDEMPOTENCY_HELP)],
    carrier: Annotated[
        str | None, strawberry.argument(description="The carrier, for SHIPPED.")
    ] = None,
    tracking_number: Annotated[
        str | None, strawberry.argument(description="The parcel's tracking number, for SHIPPED.")
    ] = None,
    tracking_url: Annotated[
        str | None, strawberry.argument(description="Where the member can follow the parcel.")
    ] = None,
    booking_reference: Annotated[
        str | None, strawberry.argument(description="An experience's booking reference.")
    ] = None,
    note: Annotated[
        str | None,
        strawberry.argument(description="A note shown in the history and the delivery."),
    ] = None,
) -> UpdateRedemptionPayload:
    pk = from_global_id(str(redemption_id), expect="Redemption", field="redemptionId")[1]

    async def command(w: Writer) -> UpdateRedemption:
        return UpdateRedemption(
            redemption_id=pk,
            status=status,
            carrier=carrier,
            tracking_number=tracking_number,
            tracking_url=tracking_url,
            booking_reference=booking_reference,
            note=note,
        )

    return await Writer(info).run(
        update_redemption,
        command,
        idempotency_key=idempotency_key,
        shown=UpdateRedemptionPayload.shown,
        failed=UpdateRedemptionPayload.failed,
    )
