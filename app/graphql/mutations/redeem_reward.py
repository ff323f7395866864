"""redeemReward: a member redeems for themself (loyalty:redeem), or a partner for a member
(redemptions:write). Points are held; the discount codes are issued at once."""

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
from app.graphql.types.redemption import Redemption
from app.graphql.types.shipping import ShippingAddressInput
from app.services.redeem import RedeemReward, RewardRedeemed, redeem_reward


@strawberry.input(description="What to redeem, how many, and (for partners) for whom.")
class RedeemRewardInput:
    reward_id: strawberry.ID = strawberry.field(description="The reward's global id (Reward.id).")
    quantity: int = strawberry.field(
        default=1,
        description="Units, 1 to 20: costs the reward's cost times quantity, one code per unit.",
    )
    member_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="Partners only: the member redeeming (give this or externalId). A member "
        "token redeems for itself and may omit both.",
    )
    external_id: str | None = strawberry.field(
        default=None,
        description="Partners only: the member redeeming, by your id for them (give this or "
        "memberId).",
    )
    shipping_address: ShippingAddressInput | None = strawberry.field(
        default=None,
        description="PHYSICAL: where to ship it (required); refused for other kinds.",
    )


@strawberry.type(description="What redeemReward did.")
class RedeemRewardPayload(WritePayload):
    redemption: Redemption | None = strawberry.field(
        description="The new redemption, HELD, with its discount codes; null when the write failed."
    )
    balance: Balance | None = strawberry.field(description=BALANCE_AFTER_HELP)
    user_errors: list[UserError] = strawberry.field(description=USER_ERRORS_HELP)


@strawberry.mutation(
    description="Redeem a reward: its points are held and its discount codes issued at once. A "
    "member token redeems for itself (loyalty:redeem), a partner for a member "
    "(redemptions:write).",
    extensions=needs(Scope.LOYALTY_REDEEM, Scope.REDEMPTIONS_WRITE),
)
async def redeem_reward_mutation(
    info: strawberry.Info[Context, None],
    input: Annotated[RedeemRewardInput, strawberry.argument(description="What to redeem.")],
    idempotency_key: Annotated[str, strawberry.argument(description=IDEMPOTENCY_HELP)],
) -> RedeemRewardPayload:
    reward_pk = from_global_id(str(input.reward_id), expect="Reward", field="rewardId")[1]

    async def command(w: Writer) -> RedeemReward:
        member = await w.member(
            input.member_id, input.external_id, partner_scope=Scope.REDEMPTIONS_WRITE
        )
        address = input.shipping_address.record() if input.shipping_address else None
        return RedeemReward(
            member=member, reward_id=reward_pk, quantity=input.quantity, shipping_address=address
        )

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
