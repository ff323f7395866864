"""Staff adjustments: a correcting transfer with a reason, never an edit."""

from __future__ import annotations

from dataclasses import dataclass

from app.domain.accounts import Account, TransferKind
from app.domain.errors import DomainError, ErrorCode
from app.domain.lots import allocate
from app.domain.records import Balance
from app.domain.text import FREE_TEXT_LENGTH, check_text
from app.ledger.uow import UnitOfWork, WriteTx
from app.services.clock import Clock
from app.services.codec import AnswerCodec
from app.services.common import MemberRef, active_program, credit_lot, lock_member
from app.services.idempotent import run_once
from app.services.outcome import Outcome

MAX_ADJUSTMENT = 10_000_000


@dataclass(frozen=True, slots=True)
class AdjustPoints:
    member: MemberRef
    points: int
    reason: str


@dataclass(frozen=True, slots=True)
class PointsAdjusted:
    member_id: int
    points: int
    balance: Balance


POINTSADJUSTED_CODEC = AnswerCodec(PointsAdjusted)


def _validate(cmd: AdjustPoints) -> None:
    if cmd.points == 0 or abs(cmd.points) > MAX_ADJUSTMENT:
        raise DomainError(
            ErrorCode.INVALID_INPUT, f"points must be non-zero, at most {MAX_ADJUSTMENT}", "points"
        )
    check_text(cmd.reason, "reason", limit=FREE_TEXT_LENGTH, free_text=True)


async def adjust_points(
    uow: UnitOfWork, clock: Clock, *, principal: str, idempotency_key: str, cmd: AdjustPoints
) -> Outcome[PointsAdjusted]:
    try:
        _validate(cmd)
    except DomainError as error:
        return Outcome.failure(error)

    async def action(tx: WriteTx) -> PointsAdjusted:
        now = clock.now()
        member, balance = await lock_member(tx, cmd.member)
        version = await active_program(tx)
        if cmd.points > 0:
            posted = await credit_lot(
                tx,
                kind=TransferKind.ADJUST,
                member_id=member.id,
                debit=Account.ADJUSTED,
                points=cmd.points,
                now=now,
                occurred_at=now,
                expires_at=version.program.lot_expires_at(now),
                reason=cmd.reason,
                reference=principal,
                program_version=version.version,
            )
        else:
            taken = -cmd.points
            if balance.available < taken:
                raise DomainError(
                    ErrorCode.INSUFFICIENT_POINTS,
                    f"the member has {balance.available} available points",
                    "points",
                )
            await tx.lots.take(allocate(await tx.lots.spendable(member.id), taken))
            posted = await tx.transfers.post(
                kind=TransferKind.ADJUST,
                member_id=member.id,
                debit=Account.AVAILABLE,
                credit=Account.ADJUSTED,
                amount=taken,
                now=now,
                reason=cmd.reason,
                reference=principal,
                program_version=version.version,
            )
        return PointsAdjusted(member_id=member.id, points=cmd.points, balance=posted.balance)

    return await run_once(
        uow,
        clock,
        principal=principal,
        key=idempotency_key,
        operation="adjustPoints",
        request={**cmd.member.as_request(), "points": cmd.points, "reason": cmd.reason},
        action=action,
        codec=POINTSADJUSTED_CODEC,
    )
