"""recordPurchase: a POS or e-commerce backend posts a purchase (points:write)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated

import strawberry

from app.auth.scopes import Scope
from app.graphql.context import Context
from app.graphql.mutations.write import IDEMPOTENCY_HELP, WritePayload, Writer
from app.graphql.permissions import needs
from app.graphql.types.common import UserError
from app.graphql.types.member import Balance, Member
from app.graphql.types.order import Channel, OrderLineInput
from app.graphql.types.program import Tier
from app.services.purchase import PurchaseRecorded, RecordPurchase, record_purchase


@strawberry.input
class RecordPurchaseInput:
    member_id: strawberry.ID | None = None
    external_id: str | None = None
    order_id: str = strawberry.field(description="Your order id; an order is recorded once.")
    amount: Decimal = strawberry.field(description="What the member paid, before tax/shipping.")
    currency: str
    channel: Channel = Channel.POS
    occurred_at: datetime
    lines: list[OrderLineInput] | None = strawberry.field(
        default=None,
        description="The order's lines; their amounts after discounts must add up to amount.",
    )
    shipping: Decimal | None = strawberry.field(
        default=None, description="Shipping charged; earns only where a rule says so."
    )


@strawberry.type
class RecordPurchasePayload(WritePayload):
    member: Member | None
    points_earned: int | None
    upgraded_to: Tier | None = strawberry.field(
        default=None, description="The tier this lifted the member to, when it did."
    )
    pending: bool | None = strawberry.field(
        description="True when the points wait out the return window."
    )
    balance: Balance | None
    referral_points: int | None = strawberry.field(
        default=None, description="Welcome points when this purchase completed a referral."
    )
    user_errors: list[UserError]


@strawberry.mutation(
    description="Record a purchase; the member earns points.", extensions=needs(Scope.POINTS_WRITE)
)
async def record_purchase_mutation(
    info: strawberry.Info[Context, None],
    input: RecordPurchaseInput,
    idempotency_key: Annotated[str, strawberry.argument(description=IDEMPOTENCY_HELP)],
) -> RecordPurchasePayload:
    async def command(w: Writer) -> RecordPurchase:
        return RecordPurchase(
            member=await w.member(
                input.member_id, input.external_id, partner_scope=Scope.POINTS_WRITE
            ),
            order_id=input.order_id,
            amount=str(input.amount),
            currency=input.currency,
            channel=input.channel.value,
            occurred_at=input.occurred_at,
            lines=tuple(line.to_domain() for line in input.lines or ()),
            shipping=str(input.shipping or 0),
        )

    async def shown(w: Writer, done: PurchaseRecorded) -> RecordPurchasePayload:
        return RecordPurchasePayload(
            member=await w.member_view(done.member_id),
            points_earned=done.points,
            pending=done.pending,
            balance=w.balance(done.balance),
            upgraded_to=await w.tier(done.upgraded_to),
            referral_points=done.referral_points or None,
            user_errors=[],
        )

    return await Writer(info).run(
        record_purchase,
        command,
        idempotency_key=idempotency_key,
        shown=shown,
        failed=RecordPurchasePayload.failed,
    )
