"""recordPurchase: a POS or e-commerce backend posts a purchase (points:write)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated

import strawberry

from app.auth.scopes import Scope
from app.graphql.context import Context
from app.graphql.mutations.base import (
    IDEMPOTENCY_HELP,
    balance_of,
    errors_of,
    member_not_found,
    member_of,
    target_member,
    upgrade_of,
    writer_key,
)
from app.graphql.permissions import needs
from app.graphql.types.common import UserError
from app.graphql.types.member import Balance, Member
from app.graphql.types.order import Channel, OrderLineInput
from app.graphql.types.program import Tier
from app.services.earn import RecordPurchase, record_purchase


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
class RecordPurchasePayload:
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
    ref = await target_member(
        info, input.member_id, input.external_id, partner_scope=Scope.POINTS_WRITE
    )
    if ref is None:
        return RecordPurchasePayload(
            member=None,
            points_earned=None,
            pending=None,
            balance=None,
            user_errors=member_not_found(),
        )
    services = info.context.services
    outcome = await record_purchase(
        services.uow,
        services.clock,
        principal=writer_key(info),
        idempotency_key=idempotency_key,
        cmd=RecordPurchase(
            member=ref,
            order_id=input.order_id,
            amount=str(input.amount),
            currency=input.currency,
            channel=input.channel.value,
            occurred_at=input.occurred_at,
            lines=tuple(line.to_domain() for line in input.lines or ()),
            shipping=str(input.shipping or 0),
        ),
    )
    return RecordPurchasePayload(
        member=await member_of(info, outcome),
        points_earned=outcome.data.get("points"),
        pending=outcome.data.get("pending"),
        balance=balance_of(outcome),
        upgraded_to=await upgrade_of(info, outcome),
        referral_points=outcome.data.get("referralPoints"),
        user_errors=errors_of(outcome),
    )
