"""applyPointsAtCheckout and releaseCheckoutPoints: a headless checkout or till pays part
of a cart with points (member loyalty:redeem, or a partner's redemptions:write)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated

import strawberry

from app.auth.scopes import Scope
from app.graphql.context import Context
from app.graphql.mutations.write import (
    BALANCE_AFTER_HELP,
    EXTERNAL_ID_HELP,
    IDEMPOTENCY_HELP,
    MEMBER_ID_HELP,
    USER_ERRORS_HELP,
    WritePayload,
    Writer,
)
from app.graphql.permissions import needs
from app.graphql.types.common import UserError
from app.graphql.types.member import Balance
from app.graphql.types.redemption import Redemption
from app.services.checkout import (
    ApplyPointsAtCheckout,
    CheckoutHeld,
    CheckoutReleased,
    ReleaseCheckoutPoints,
    apply_points_at_checkout,
    release_checkout_points,
)

CART_ID_HELP = (
    "Your checkout's id for the cart (1 to 200 characters); the first member to apply points "
    "to a cart id owns it."
)
CHECKOUT_SCOPES = needs(Scope.LOYALTY_REDEEM, Scope.REDEMPTIONS_WRITE)


@strawberry.input(description="Points to apply to a cart, and (for partners) whose.")
class ApplyPointsAtCheckoutInput:
    cart_id: str = strawberry.field(description=CART_ID_HELP)
    points: int = strawberry.field(
        description="Points to apply: at least Program.checkout.minPoints, in multiples of its "
        "step, and no more than the member's available points."
    )
    member_id: strawberry.ID | None = strawberry.field(default=None, description=MEMBER_ID_HELP)
    external_id: str | None = strawberry.field(default=None, description=EXTERNAL_ID_HELP)
    cart_total: Decimal | None = strawberry.field(
        default=None,
        description="The cart's total, when known: a discount above it is refused "
        "(INVALID_INPUT) rather than held.",
    )


@strawberry.input(description="The cart whose points to give back, and (for partners) whose.")
class ReleaseCheckoutPointsInput:
    cart_id: str = strawberry.field(description=CART_ID_HELP)
    member_id: strawberry.ID | None = strawberry.field(default=None, description=MEMBER_ID_HELP)
    external_id: str | None = strawberry.field(default=None, description=EXTERNAL_ID_HELP)


@strawberry.type(description="A cart's points hold: what it takes off, and the code for it.")
class CheckoutHold:
    cart_id: str = strawberry.field(description="The cart.")
    points: int = strawberry.field(description="Points held for it.")
    discount: Decimal = strawberry.field(
        description="What they take off the cart, in the program's currency (rounded down to "
        "its minor unit)."
    )
    currency: str = strawberry.field(description="The program's currency (ISO 4217).")
    code: str = strawberry.field(
        description="A one-use code for the discount: a till may scan it (redemptionByCode, "
        "fulfillRedemption), or the checkout pass cartId to recordPurchase."
    )
    expires_at: datetime = strawberry.field(
        description="When the hold lapses unless an order pays the cart (Program.checkout."
        "holdMinutes after it was made): the points come back."
    )
    redemption: Redemption | None = strawberry.field(
        description="The hold as a redemption of the system reward 'points-at-checkout': its "
        "status and history."
    )


@strawberry.type(description="What applyPointsAtCheckout did.")
class ApplyPointsAtCheckoutPayload(WritePayload):
    checkout: CheckoutHold | None = strawberry.field(
        description="The cart's new hold; null when the write failed (any earlier hold stays)."
    )
    replaced: Redemption | None = strawberry.field(
        description="The cart's earlier hold, now CANCELLED and its points back; null when "
        "there was none."
    )
    balance: Balance | None = strawberry.field(description=BALANCE_AFTER_HELP)
    user_errors: list[UserError] = strawberry.field(description=USER_ERRORS_HELP)


@strawberry.type(description="What releaseCheckoutPoints did.")
class ReleaseCheckoutPointsPayload(WritePayload):
    redemption: Redemption | None = strawberry.field(
        description="The cart's hold, now CANCELLED; null when the write failed."
    )
    points: int | None = strawberry.field(description="Points given back.")
    balance: Balance | None = strawberry.field(description=BALANCE_AFTER_HELP)
    user_errors: list[UserError] = strawberry.field(description=USER_ERRORS_HELP)


@strawberry.mutation(
    description="Pay part of a cart with points: they are held and the discount they are "
    "worth (Program.checkout.pointsValue each) comes back with a one-use code. Calling it "
    "again for the cart replaces its hold. recordPurchase with the cartId spends it; "
    "releaseCheckoutPoints or the hold's timeout gives the points back. A member token "
    "applies its own points (loyalty:redeem), a partner a member's (redemptions:write).",
    extensions=CHECKOUT_SCOPES,
)
async def apply_points_at_checkout_mutation(
    info: strawberry.Info[Context, None],
    input: Annotated[ApplyPointsAtCheckoutInput, strawberry.argument(description="The points.")],
    idempotency_key: Annotated[str, strawberry.argument(description=IDEMPOTENCY_HELP)],
) -> ApplyPointsAtCheckoutPayload:
    async def command(w: Writer) -> ApplyPointsAtCheckout:
        member = await w.member(
            input.member_id, input.external_id, partner_scope=Scope.REDEMPTIONS_WRITE
        )
        return ApplyPointsAtCheckout(
            member=member,
            cart_id=input.cart_id,
            points=input.points,
            cart_total=None if input.cart_total is None else str(input.cart_total),
        )

    async def shown(w: Writer, done: CheckoutHeld) -> ApplyPointsAtCheckoutPayload:
        replaced = done.replaced_redemption_id
        if replaced is not None:
            w.info.context.loaders.redemption.forget(replaced)
        return ApplyPointsAtCheckoutPayload(
            checkout=CheckoutHold(
                cart_id=done.cart_id,
                points=done.points,
                discount=done.discount,
                currency=done.currency,
                code=done.code,
                expires_at=done.expires_at,
                redemption=await w.redemption(done.redemption_id),
            ),
            replaced=await w.redemption(replaced) if replaced is not None else None,
            balance=w.balance(done.balance),
            user_errors=[],
        )

    return await Writer(info).run(
        apply_points_at_checkout,
        command,
        idempotency_key=idempotency_key,
        shown=shown,
        failed=ApplyPointsAtCheckoutPayload.failed,
    )


@strawberry.mutation(
    description="Give back the points held for a cart (its hold becomes CANCELLED), when the "
    "checkout is abandoned or the member pays otherwise. A member token releases its own "
    "(loyalty:redeem), a partner a member's (redemptions:write).",
    extensions=CHECKOUT_SCOPES,
)
async def release_checkout_points_mutation(
    info: strawberry.Info[Context, None],
    input: Annotated[ReleaseCheckoutPointsInput, strawberry.argument(description="The cart.")],
    idempotency_key: Annotated[str, strawberry.argument(description=IDEMPOTENCY_HELP)],
) -> ReleaseCheckoutPointsPayload:
    async def command(w: Writer) -> ReleaseCheckoutPoints:
        member = await w.member(
            input.member_id, input.external_id, partner_scope=Scope.REDEMPTIONS_WRITE
        )
        return ReleaseCheckoutPoints(member=member, cart_id=input.cart_id)

    async def shown(w: Writer, done: CheckoutReleased) -> ReleaseCheckoutPointsPayload:
        w.info.context.loaders.redemption.forget(done.redemption_id)
        return ReleaseCheckoutPointsPayload(
            redemption=await w.redemption(done.redemption_id),
            points=done.points,
            balance=w.balance(done.balance),
            user_errors=[],
        )

    return await Writer(info).run(
        release_checkout_points,
        command,
        idempotency_key=idempotency_key,
        shown=shown,
        failed=ReleaseCheckoutPointsPayload.failed,
    )
