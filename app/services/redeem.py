"""Redeem a reward: checks, stock, a hold on the member's points, discount codes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from app.domain.accounts import Account, TransferKind
from app.domain.codes import new_discount_code
from app.domain.errors import DomainError, ErrorCode
from app.domain.lots import allocate
from app.domain.members import MemberStatus
from app.domain.records import Balance, Reward
from app.domain.rewards import (
    BLOCKER_MESSAGES,
    RedemptionStatus,
    RewardKind,
    RewardState,
    period_start,
    redeem_blocker,
)
from app.domain.shipping import ShippingAddress
from app.ledger.catalog import SYSTEM
from app.ledger.programs import ProgramVersion
from app.ledger.uow import UnitOfWork, WriteTx
from app.services.clock import Clock
from app.services.codec import AnswerCodec
from app.services.common import MemberRef, active_program, lock_member
from app.services.idempotent import run_once
from app.services.outcome import Outcome
from app.services.tiers.standing import current_tier

MAX_QUANTITY = 20


@dataclass(frozen=True, slots=True)
class RedeemReward:
    member: MemberRef
    reward_id: int
    quantity: int = 1
    shipping_address: ShippingAddress | None = None  # PHYSICAL: required; others: refused


@dataclass(frozen=True, slots=True)
class RewardRedeemed:
    member_id: int
    redemption_id: int
    points: int
    balance: Balance


REWARDREDEEMED_CODEC = AnswerCodec(RewardRedeemed)


def reward_state(reward: Reward, version: ProgramVersion) -> RewardState:
    """An experience closes when it takes place: no seat is sold once its date has passed."""
    until = reward.active_until
    if reward.experience_at is not None and (until is None or reward.experience_at < until):
        until = reward.experience_at
    return RewardState(
        cost=reward.cost,
        stock=reward.stock,
        redeemed=reward.redeemed,
        min_tier_rank=version.program.tier_rank(reward.min_tier) if reward.min_tier else -1,
        per_member_limit=reward.per_member_limit,
        active=reward.active,
        active_from=reward.active_from,
        active_until=until,
    )


async def redeem_reward(
    uow: UnitOfWork, clock: Clock, *, principal: str, idempotency_key: str, cmd: RedeemReward
) -> Outcome[RewardRedeemed]:
    if not 1 <= cmd.quantity <= MAX_QUANTITY:
        return Outcome.failure(
            DomainError(
                ErrorCode.INVALID_INPUT, f"quantity must be 1 to {MAX_QUANTITY}", "quantity"
            )
        )

    address = cmd.shipping_address
    if address is not None:
        try:
            address.checked()
        except DomainError as error:
            return Outcome.failure(error)

    async def action(tx: WriteTx) -> RewardRedeemed:
        now = clock.now()
        member, balance = await lock_member(tx, cmd.member)
        if member.status is MemberStatus.SUSPENDED:
            raise DomainError(
                ErrorCode.MEMBER_SUSPENDED,
                "This member is suspended and cannot redeem until reactivated.",
                "memberId" if cmd.member.id is not None else "externalId",
            )
        reward = await tx.rewards.get(cmd.reward_id)
        if reward is None or reward.source == SYSTEM:  # Tally's own: applyPointsAtCheckout
            raise DomainError(ErrorCode.REWARD_NOT_FOUND, "No such reward.", "rewardId")
        version = await active_program(tx)
        tier = (await current_tier(tx, version.program, member.id, now)).key
        if not reward.visible_to(tier):  # hidden from this member's tier, not just refused
            raise DomainError(ErrorCode.REWARD_NOT_FOUND, "No such reward.", "rewardId")
        since = period_start(reward.limit_period, now, version.program.time_zone)
        blocker = redeem_blocker(
            reward_state(reward, version),
            now=now,
            quantity=cmd.quantity,
            tier_rank=version.program.tier_rank(tier),
            already_redeemed=await tx.redemptions.quantity_redeemed(member.id, reward.id, since),
            available=balance.available,
        )
        if blocker is not None:
            raise DomainError(blocker, BLOCKER_MESSAGES[blocker], "rewardId")
        if reward.kind == RewardKind.GIFT_CARD and reward.delivery == "EMAIL" and not member.email:
            raise DomainError(
                ErrorCode.INVALID_INPUT,
                "This gift card is sent by e-mail and the member has none: set it with "
                "updateMember first.",
                "rewardId",
            )
        _check_shipping(RewardKind(reward.kind), address)
        if not await tx.rewards.take_stock(reward.id, cmd.quantity, now):
            raise DomainError(
                ErrorCode.OUT_OF_STOCK, BLOCKER_MESSAGES[ErrorCode.OUT_OF_STOCK], "rewardId"
            )
        points = reward.cost * cmd.quantity
        allocations = allocate(await tx.lots.spendable(member.id), points)
        await tx.lots.take(allocations)
        kind = RewardKind(reward.kind)
        pooled = reward.code_source == "POOL"
        codes = (
            [new_discount_code() for _ in range(cmd.quantity)]
            if kind is RewardKind.DISCOUNT_CODE and not pooled
            else []
        )
        redemption_id = await tx.redemptions.create(
            member_id=member.id,
            reward_id=reward.id,
            kind=kind,
            quantity=cmd.quantity,
            points=points,
            codes=codes,
            now=now,
            deadline_at=now + timedelta(hours=reward.deadline_hours),
            shipping_address=address,
        )
        await tx.lots.record_hold(redemption_id, allocations)
        if pooled:  # each imported code given out once; the stock taken above covers them
            drawn = await tx.catalog.draw_codes(reward.id, redemption_id, cmd.quantity)
            if len(drawn) < cmd.quantity:
                raise DomainError(
                    ErrorCode.OUT_OF_STOCK, BLOCKER_MESSAGES[ErrorCode.OUT_OF_STOCK], "rewardId"
                )
            await tx.redemptions.set_codes(redemption_id, drawn)
        if kind is RewardKind.GIFT_CARD and reward.provider:
            await tx.jobs.queue(redemption_id, reward.provider, now)  # ordered after commit
        created = await tx.redemptions.get(redemption_id)
        assert created is not None
        await tx.redemptions.record_change(
            created,
            RedemptionStatus.HELD,
            at=now,
            actor=principal,
            detail=f"redeemed {cmd.quantity} x {reward.key} for {points} points",
        )
        posted = await tx.transfers.post(
            kind=TransferKind.HOLD,
            member_id=member.id,
            debit=Account.AVAILABLE,
            credit=Account.HELD,
            amount=points,
            now=now,
            redemption_id=redemption_id,
            reference=reward.key,
            program_version=version.version,
        )
        return RewardRedeemed(
            member_id=member.id,
            redemption_id=redemption_id,
            points=points,
            balance=posted.balance,
        )

    return await run_once(
        uow,
        clock,
        principal=principal,
        key=idempotency_key,
        operation="redeemReward",
        request={
            **cmd.member.as_request(),
            "rewardId": cmd.reward_id,
            "quantity": cmd.quantity,
            **({"shippingAddress": address.as_stored()} if address else {}),
        },
        action=action,
        codec=REWARDREDEEMED_CODEC,
    )


def _check_shipping(kind: RewardKind, address: ShippingAddress | None) -> None:
    """Goods need somewhere to go; nothing else takes an address."""
    if kind is RewardKind.PHYSICAL and address is None:
        raise DomainError(
            ErrorCode.INVALID_INPUT,
            "shippingAddress: a PHYSICAL reward is shipped: give the address",
            "shippingAddress",
        )
    if kind is not RewardKind.PHYSICAL and address is not None:
        raise DomainError(
            ErrorCode.INVALID_INPUT,
            f"shippingAddress: only a PHYSICAL reward is shipped, not a {kind}",
            "shippingAddress",
        )
