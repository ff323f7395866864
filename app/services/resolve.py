"""Resolve a redemption's hold, once: fulfil posts it, cancel voids it."""

from __future__ import annotations

from dataclasses import dataclass

from app.domain.accounts import Account, TransferKind
from app.domain.errors import DomainError, ErrorCode
from app.domain.records import Balance
from app.domain.rewards import RedemptionStatus
from app.ledger.uow import UnitOfWork, WriteTx
from app.services.clock import Clock
from app.services.codec import AnswerCodec
from app.services.common import MemberRef, lock_member, repay_debt
from app.services.idempotent import run_once
from app.services.outcome import Outcome


@dataclass(frozen=True, slots=True)
class ResolveRedemption:
    redemption_id: int
    owner_id: int | None = None  # a member token may only touch its own redemptions


@dataclass(frozen=True, slots=True)
class RedemptionResolved:
    member_id: int
    redemption_id: int
    points: int
    balance: Balance


REDEMPTIONRESOLVED_CODEC = AnswerCodec(RedemptionResolved)


async def cancel_redemption(
    uow: UnitOfWork, clock: Clock, *, principal: str, idempotency_key: str, cmd: ResolveRedemption
) -> Outcome[RedemptionResolved]:
    return await _resolve(uow, clock, principal, idempotency_key, cmd, cancel=True)


async def fulfill_redemption(
    uow: UnitOfWork, clock: Clock, *, principal: str, idempotency_key: str, cmd: ResolveRedemption
) -> Outcome[RedemptionResolved]:
    return await _resolve(uow, clock, principal, idempotency_key, cmd, cancel=False)


async def _resolve(
    uow: UnitOfWork,
    clock: Clock,
    principal: str,
    key: str,
    cmd: ResolveRedemption,
    *,
    cancel: bool,
) -> Outcome[RedemptionResolved]:
    async def action(tx: WriteTx) -> RedemptionResolved:
        now = clock.now()
        found = await tx.redemptions.get(cmd.redemption_id)
        if found is None or (cmd.owner_id is not None and found.member_id != cmd.owner_id):
            raise DomainError(ErrorCode.REDEMPTION_NOT_FOUND, "No such redemption.", "redemptionId")
        await lock_member(tx, MemberRef(id=found.member_id))
        if not await tx.redemptions.resolve(
            found.id, RedemptionStatus.CANCELLED if cancel else RedemptionStatus.FULFILLED, now
        ):
            current = await tx.redemptions.get(found.id)
            status = current.status if current else "unknown"
            raise DomainError(
                ErrorCode.INVALID_STATE, f"This redemption is already {status}.", "redemptionId"
            )
        if cancel:
            await tx.lots.give_back(await tx.lots.held_for(found.id))
            await tx.rewards.return_stock(found.reward_id, found.quantity)
        posted = await tx.transfers.post(
            kind=TransferKind.VOID if cancel else TransferKind.POST,
            member_id=found.member_id,
            debit=Account.HELD,
            credit=Account.AVAILABLE if cancel else Account.REDEEMED,
            amount=found.points,
            now=now,
            redemption_id=found.id,
        )
        if cancel:
            await repay_debt(tx, posted)
        return RedemptionResolved(
            member_id=found.member_id,
            redemption_id=found.id,
            points=found.points,
            balance=posted.balance,
        )

    return await run_once(
        uow,
        clock,
        principal=principal,
        key=key,
        operation="cancelRedemption" if cancel else "fulfillRedemption",
        request={"redemptionId": cmd.redemption_id},
        action=action,
        codec=REDEMPTIONRESOLVED_CODEC,
    )
