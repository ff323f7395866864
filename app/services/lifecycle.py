"""Moving a redemption along its lifecycle inside a write transaction: the move checked
against the kind's transitions, made by a conditional update, recorded in its history
(and the outbox), and its hold posted or voided exactly once."""

from __future__ import annotations

from dataclasses import dataclass

from app.domain.accounts import Account, TransferKind
from app.domain.errors import DomainError, ErrorCode
from app.domain.records import Balance, Delivery, Redemption, RedemptionChange
from app.domain.redemptions import FINAL, HoldEffect, check_transition
from app.domain.rewards import RedemptionStatus
from app.ledger.uow import WriteTx
from app.services.clock import Clock
from app.services.common import MemberRef, lock_member, repay_debt


@dataclass(frozen=True, slots=True)
class Moved:
    """What a move did: the change recorded, and the balance when the hold resolved."""

    change: RedemptionChange
    effect: HoldEffect
    balance: Balance  # after the move (unchanged while the hold stays open)


async def move_redemption(
    tx: WriteTx,
    clock: Clock,
    redemption: Redemption,
    to: RedemptionStatus,
    *,
    actor: str,
    detail: str = "",
    delivery: Delivery | None = None,
) -> Moved:
    """Move `redemption` (as just read) to `to`. The member is locked first, so moves of
    one member's redemptions never interleave; a redemption already final answers
    INVALID_STATE, an illegal move INVALID_TRANSITION, and neither writes anything."""
    now = clock.now()
    # An erased member takes no more writes, but what was under way for them still ends:
    # their provider's answer, their deadline.
    automatic = actor == "system" or actor.startswith("provider:")
    _, balance = await lock_member(tx, MemberRef(id=redemption.member_id), erased_too=automatic)
    current = await tx.redemptions.get(redemption.id)
    assert current is not None, "a redemption is never deleted"
    if current.status in FINAL:
        raise DomainError(
            ErrorCode.INVALID_STATE,
            f"This redemption is already {current.status.value}.",
            "redemptionId",
        )
    effect = check_transition(current.kind, current.status, to)
    if delivery is not None and current.delivery is not None:
        delivery = current.delivery.merged(delivery)
    moved = await tx.redemptions.move(
        current, to, now, resolves_hold=effect is not HoldEffect.NONE, delivery=delivery
    )
    assert moved, "the member lock serialises moves of its redemptions"
    change = await tx.redemptions.record_change(current, to, at=now, actor=actor, detail=detail)
    if effect is HoldEffect.VOID:
        await tx.lots.give_back(await tx.lots.held_for(current.id))
        reward = await tx.rewards.get(current.reward_id)
        # A pool code was shown: spent. Tally's own checkout reward keeps no stock.
        if reward is not None and reward.code_source != "POOL" and reward.source != "system":
            await tx.rewards.return_stock(current.reward_id, current.quantity)
    if effect is not HoldEffect.NONE:
        posted = await tx.transfers.post(
            kind=TransferKind.VOID if effect is HoldEffect.VOID else TransferKind.POST,
            member_id=current.member_id,
            debit=Account.HELD,
            credit=Account.AVAILABLE if effect is HoldEffect.VOID else Account.REDEEMED,
            amount=current.points,
            now=now,
            redemption_id=current.id,
        )
        if effect is HoldEffect.VOID:
            await repay_debt(tx, posted)
        balance = posted.balance
    return Moved(change=change, effect=effect, balance=balance)
