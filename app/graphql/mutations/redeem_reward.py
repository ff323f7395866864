"""redeemReward: a member redeems for themself (loyalty:redeem), or a partner for a member
(redemptions:write). Points are held; the discount codes are issued at once."""

from __future__ import annotations

from typing import Annotated

import strawberry

from app.auth.scopes import Scope
from app.graphql.context import Context
from app.graphql.ids import from_global_id
from app.graphql.mutations.write import IDEMPOTENCY_HELP, WritePayload, Writer
from app.graphql.permissions import needs
from app.graphql.types.common import UserError
from app.graphql.types.member import Balance
from app.graphql.types.redemption import Redemption
from app.services.redeem import RedeemReward, RewardRedeemed, redeem_reward


@strawberry.input
class RedeemRewardInput:
    reward_id: strawberry.ID
    quantity: int = 1
    member_id: strawberry.ID | None = strawberry.field(
        default=None, description="Partners only: the member redeeming."
    )
    external_id: str | None = None


@strawberry.type
class RedeemRewardPayload(WritePayload):
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

    async def command(w: Writer) -> RedeemReward:
        member = await w.member(
            input.member_id, input.external_id, partner_scope=Scope.REDEMPTIONS_WRITE
        )
        return RedeemReward(member=member, reward_id=reward_pk, quantity=input.quantity)

    async def shown(w: Writer, done: RewardRedeemed) -> RedeemRewardPayload:
        return RedeemRewardPayload(
            redemption=await w.redemption(done.redemption_id),
            balance=w.balance(done.balance),
            user_errors=[],
        )

    return await Writer(info).run(
        redeem_reward,
        command,
        idempotency_key=idempotency_key,
        shown=shown,
        failed=RedeemRewardPayload.failed,
    )
