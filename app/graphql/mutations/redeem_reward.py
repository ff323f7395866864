"""redeemReward: a member redeems for themself (loyalty:redeem), or a partner for a member
(redemptions:write). Points are held; the discount codes are issued at once."""

from __future__ import annotations

from typing import Annotated

import strawberry

from app.auth.scopes import Scope
from app.graphql.context import Context
from app.graphql.ids import from_global_id
from app.graphql.mutations.base import (
    IDEMPOTENCY_HELP,
    balance_of,
    errors_of,
    member_not_found,
    redemption_of,
    target_member,
    writer_key,
)
from app.graphql.permissions import needs
from app.graphql.types.common import UserError
from app.graphql.types.member import Balance
from app.graphql.types.redemption import Redemption
from app.services.redeem import RedeemReward, redeem_reward


@strawberry.input
class RedeemRewardInput:
    reward_id: strawberry.ID
    quantity: int = 1
    member_id: strawberry.ID | None = strawberry.field(
        default=None, description="Partners only: the member redeeming."
    )
    external_id: str | None = None


@strawberry.type
class RedeemRewardPayload:
    redemption: Redemption | None
    balance: Balance | None
    user_errors: list[UserError]


@strawberry.mutation(
    description="Redeem a reward.", extensions=needs(Scope.LOYALTY_REDEEM, Scope.REDEMPTIONS_WRITE)
)
async def redeem_reward_mutation(
    info: strawberry.Info[Context, None],
    input: RedeemRewardInput,
    idempotency_key: Annotated[str, strawberry.argument(description=IDEMPOTENCY_HELP)],
) -> RedeemRewardPayload:
    reward_pk = from_global_id(str(input.reward_id), expect="Reward", field="rewardId")[1]
    ref = await target_member(
        info, input.member_id, input.external_id, partner_scope=Scope.REDEMPTIONS_WRITE
    )
    if ref is None:
        return RedeemRewardPayload(redemption=None, balance=None, user_errors=member_not_found())
    services = info.context.services
    outcome = await redeem_reward(
        services.uow,
        services.clock,
        principal=writer_key(info),
        idempotency_key=idempotency_key,
        cmd=RedeemReward(member=ref, reward_id=reward_pk, quantity=input.quantity),
    )
    return RedeemRewardPayload(
        redemption=await redemption_of(info, outcome),
        balance=balance_of(outcome),
        user_errors=errors_of(outcome),
    )
