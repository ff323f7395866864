"""cancelRedemption and fulfillRedemption: a redemption found by id or by code, moved to
CANCELLED (points back) or FULFILLED (points spent), once."""

from __future__ import annotations

from dataclasses import dataclass

from app.domain.errors import DomainError, ErrorCode
from app.domain.records import Balance, Redemption
from app.domain.rewards import RedemptionStatus
from app.domain.text import check_text
from app.ledger.uow import UnitOfWork, WriteTx
from app.services.clock import Clock
from app.services.codec import AnswerCodec
from app.services.idempotent import run_once
from app.services.lifecycle import move_redemption
from app.services.outcome import Outcome


@dataclass(frozen=True, slots=True)
class ResolveRedemption:
    redemption_id: int | None = None
    owner_id: int | None = None  # a member token may only touch its own redemptions
    code: str | None = None  # or the code a till scanned (exactly one of id and code)


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


async def find_redemption(tx: WriteTx, cmd: ResolveRedemption) -> Redemption:
    """The redemption named by id or by one of its codes; another member's is not found."""
    if cmd.code is not None:
        check_text(cmd.code, "code", limit=100)
        found = await tx.redemptions.by_code(cmd.code.strip())
        field = "code"
    else:
        assert cmd.redemption_id is not None
        found = await tx.redemptions.get(cmd.redemption_id)
        field = "redemptionId"
    if found is None or (cmd.owner_id is not None and found.member_id != cmd.owner_id):
        raise DomainError(ErrorCode.REDEMPTION_NOT_FOUND, "No such redemption.", field)
    return found


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
        found = await find_redemption(tx, cmd)
        to = RedemptionStatus.CANCELLED if cancel else RedemptionStatus.FULFILLED
        moved = await move_redemption(
            tx,
            clock,
            found,
            to,
            actor=principal,
            detail="cancelled" if cancel else "fulfilled" + (" by code" if cmd.code else ""),
        )
        return RedemptionResolved(
            member_id=found.member_id,
            redemption_id=found.id,
            points=found.points,
            balance=moved.balance,
        )

    request: dict[str, object] = (
        {"code": cmd.code} if cmd.code is not None else {"redemptionId": cmd.redemption_id}
    )
    return await run_once(
        uow,
        clock,
        principal=principal,
        key=key,
        operation="cancelRedemption" if cancel else "fulfillRedemption",
        request=request,
        action=action,
        codec=REDEMPTIONRESOLVED_CODEC,
    )
