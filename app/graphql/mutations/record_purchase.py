"""recordPurchase: a POS or e-commerce backend posts a purchase (points:write)."""

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
    MEMBER_VIEW_HELP,
    USER_ERRORS_HELP,
    WritePayload,
    Writer,
)
from app.graphql.permissions import needs
from app.graphql.types.common import UserError
from app.graphql.types.member import Balance, Member
from app.graphql.types.order import Channel, OrderLineInput
from app.graphql.types.program import Tier
from app.services.purchase import PurchaseRecorded, RecordPurchase, record_purchase


@strawberry.input(description="A purchase to record: who, which order, how much, when.")
class RecordPurchaseInput:
    member_id: strawberry.ID | None = strawberry.field(default=None, description=MEMBER_ID_HELP)
    external_id: str | None = strawberry.field(default=None, description=EXTERNAL_ID_HELP)
    order_id: str = strawberry.field(
        description="Your order id; an order is recorded once (ORDER_EXISTS after that). 1 to "
        "200 characters."
    )
    amount: Decimal = strawberry.field(
        description="What the member paid, before tax/shipping, with at most the currency's "
        "decimals (2 for EUR). With cartId: the amount before the points discount."
    )
    currency: str = strawberry.field(
        description="ISO 4217 code; must be the program's currency (Program.currency)."
    )
    channel: Channel = strawberry.field(
        default=Channel.POS, description="Where it happened; rules may apply to some channels only."
    )
    occurred_at: datetime = strawberry.field(
        description="When the sale happened, with a UTC offset; not in the future, nor more "
        "than the program's max_backdate_days (default 90) ago. Day and time rules use it."
    )
    lines: list[OrderLineInput] | None = strawberry.field(
        default=None,
        description="The order's lines; their amounts after discounts must add up to amount.",
    )
    shipping: Decimal | None = strawberry.field(
        default=None, description="Shipping charged; earns only where a rule says so."
    )
    cart_id: str | None = strawberry.field(
        default=None,
        description="The cart this order pays, when points were applied to it "
        "(applyPointsAtCheckout): its hold is spent, and the order earns on amount less the "
        "points discount (shared over the lines). Give amount and lines as before the "
        "points discount. CART_NOT_FOUND for a cart without points; INVALID_STATE when its "
        "points were released or it is already paid.",
    )


@strawberry.type(description="What recordPurchase did.")
class RecordPurchasePayload(WritePayload):
    member: Member | None = strawberry.field(description=MEMBER_VIEW_HELP)
    points_earned: int | None = strawberry.field(
        description="Points the purchase earned (0 when no rule applied); the EARN entry's "
        "LedgerEntry.explanation says which rule gave what. Null when the write failed."
    )
    upgraded_to: Tier | None = strawberry.field(
        default=None, description="The tier this lifted the member to; null when it did not."
    )
    pending: bool | None = strawberry.field(
        description="True when the points wait out the return window (Program.pendingDays) as "
        "Balance.pending; confirmOrder releases them early."
    )
    balance: Balance | None = strawberry.field(description=BALANCE_AFTER_HELP)
    referral_points: int | None = strawberry.field(
        default=None,
        description="The member's welcome points when this purchase completed their referral; "
        "null when it did not.",
    )
    points_discount: Decimal | None = strawberry.field(
        default=None,
        description="With cartId: what the cart's points took off the amount (the order "
        "earned on the rest); null otherwise.",
    )
    user_errors: list[UserError] = strawberry.field(description=USER_ERRORS_HELP)


async def purchase_command(w: Writer, input: RecordPurchaseInput) -> RecordPurchase:
    """The command a recordPurchase input asks for (recordPurchases builds each item so)."""
    return RecordPurchase(
        member=await w.member(input.member_id, input.external_id, partner_scope=Scope.POINTS_WRITE),
        order_id=input.order_id,
        amount=str(input.amount),
        currency=input.currency,
        channel=input.channel.value,
        occurred_at=input.occurred_at,
        lines=tuple(line.to_domain() for line in input.lines or ()),
        shipping=str(input.shipping or 0),
        cart_id=input.cart_id,
    )


@strawberry.mutation(
    description="Record a purchase (points:write): the member earns points by the program's "
    "rules at their tier's multiplier, and may move up a tier.",
    extensions=needs(Scope.POINTS_WRITE),
)
async def record_purchase_mutation(
    info: strawberry.Info[Context, None],
    input: Annotated[
        RecordPurchaseInput, strawberry.argument(description="The purchase to record.")
    ],
    idempotency_key: Annotated[str, strawberry.argument(description=IDEMPOTENCY_HELP)],
) -> RecordPurchasePayload:
    async def command(w: Writer) -> RecordPurchase:
        return await purchase_command(w, input)

    async def shown(w: Writer, done: PurchaseRecorded) -> RecordPurchasePayload:
        return RecordPurchasePayload(
            member=await w.member_view(done.member_id),
            points_earned=done.points,
            pending=done.pending,
            balance=w.balance(done.balance),
            upgraded_to=await w.tier(done.upgraded_to),
            referral_points=done.referral_points or None,
            points_discount=done.points_discount,
            user_errors=[],
        )

    return await Writer(info).run(
        record_purchase,
        command,
        idempotency_key=idempotency_key,
        shown=shown,
        failed=RecordPurchasePayload.failed,
    )
