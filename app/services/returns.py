"""Record a return: reverse the earn of the returned part, proportionally, never more."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from app.domain.accounts import Account, TransferKind
from app.domain.errors import DomainError, ErrorCode
from app.domain.line_returns import LineReturnPlan, ReturnLine, all_returned, plan_line_return
from app.domain.lots import Allocation, LotState, allocate
from app.domain.points import ReturnPolicy, parse_amount, reversal_due
from app.domain.records import Balance
from app.domain.text import check_text
from app.ledger.uow import UnitOfWork, WriteTx
from app.services.clock import Clock
from app.services.codec import AnswerCodec
from app.services.common import MemberRef, active_program, lock_member
from app.services.idempotent import run_once
from app.services.outcome import Outcome
from app.services.referrals import claw_back_referral
from app.services.tiers.lifecycle import undo_after_return


@dataclass(frozen=True, slots=True)
class RecordReturn:
    """A return names the returned lines, or an amount for an order recorded without lines."""

    order_id: str
    amount: str | None = None
    lines: tuple[ReturnLine, ...] = ()


@dataclass(frozen=True, slots=True)
class ReturnRecorded:
    member_id: int
    order_id: str
    points: int
    shortfall: int
    balance: Balance
    referral_points_reversed: int = 0


RETURNRECORDED_CODEC = AnswerCodec(ReturnRecorded)


def _validate(cmd: RecordReturn) -> Decimal:
    check_text(cmd.order_id, "orderId")
    if (cmd.amount is None) == (not cmd.lines):
        raise DomainError(ErrorCode.INVALID_INPUT, "give either amount or lines", "amount")
    if cmd.amount is None:
        return Decimal(0)
    amount = parse_amount(cmd.amount)
    if amount <= 0:
        raise DomainError(ErrorCode.INVALID_INPUT, "amount must be more than zero", "amount")
    return amount


async def record_return(
    uow: UnitOfWork, clock: Clock, *, principal: str, idempotency_key: str, cmd: RecordReturn
) -> Outcome[ReturnRecorded]:
    try:
        amount = _validate(cmd)
    except DomainError as error:
        return Outcome.failure(error)
    request: dict[str, Any] = {"orderId": cmd.order_id}
    if cmd.lines:
        request["lines"] = [[line.sku, line.quantity] for line in cmd.lines]
    else:
        request["amount"] = str(amount)

    async def action(tx: WriteTx) -> ReturnRecorded:
        now = clock.now()
        found = await tx.reads.order_by_ref(cmd.order_id)
        if found is None:
            raise DomainError(ErrorCode.ORDER_NOT_FOUND, "No such order.", "orderId")
        _member, balance = await lock_member(tx, MemberRef(id=found.member_id))
        order = await tx.orders.by_ref(cmd.order_id)  # again, under the member's lock
        assert order is not None
        version = await active_program(tx)
        program = version.program
        negative = program.return_policy is ReturnPolicy.NEGATIVE_BALANCE
        plan: LineReturnPlan | None = None
        if cmd.lines:
            if not order.lines:
                raise DomainError(
                    ErrorCode.INVALID_INPUT, "this order was recorded without lines", "lines"
                )
            plan = plan_line_return(order.lines, order.explanation, cmd.lines)
            returned_total, due = order.returned_amount + plan.refunded, plan.due
        else:
            if order.lines:
                raise DomainError(
                    ErrorCode.INVALID_INPUT,
                    "this order has lines: name the returned lines",
                    "lines",
                )
            returned_total = order.returned_amount + amount
            if returned_total > order.amount:
                raise DomainError(
                    ErrorCode.INVALID_INPUT,
                    f"returns would total {returned_total}, more than the order's {order.amount}",
                    "amount",
                )
            due = reversal_due(
                earned=order.points_earned,
                order_amount=order.amount,
                returned_total=returned_total,
                reversed_so_far=order.points_reversed + order.shortfall,
            )
        left = due
        reversed_points = 0

        async def reverse(allocations: list[Allocation], debit: Account, owed: int = 0) -> None:
            """Reverse what the lots give, plus `owed` points the member no longer has
            (NEGATIVE_BALANCE: available goes below zero by that much)."""
            nonlocal balance, left, reversed_points
            take = sum(a.points for a in allocations) + owed
            await tx.lots.take(allocations)
            posted = await tx.transfers.post(
                kind=TransferKind.RETURN,
                member_id=order.member_id,
                debit=debit,
                credit=Account.ISSUED,
                amount=take,
                now=now,
                order_id=order.id,
                reference=order.order_ref,
                earned=-take,
                allow_negative=owed > 0,
                counts_at=order.occurred_at,  # for tiers, when the order was made
            )
            balance = posted.balance
            left -= take
            reversed_points += take

        # Pending points of the order first: they were never spendable.
        own_lots = await tx.lots.for_order(order.id)
        for lot_id, remaining, state in own_lots:
            if state == LotState.PENDING and left > 0 and remaining > 0:
                await reverse([Allocation(lot_id, min(remaining, left))], Account.PENDING)
        # Then available points, the order's own lot first. What was spent is recorded as
        # the shortfall, or (NEGATIVE_BALANCE) owed: available goes below zero.
        take = min(left, max(0, balance.available))
        owed = left - take if negative else 0
        if take > 0 or owed > 0:
            prefer = next(
                (lot_id for lot_id, _, state in own_lots if state == LotState.AVAILABLE), None
            )
            spendable = await tx.lots.spendable(order.member_id)
            await reverse(allocate(spendable, take, prefer=prefer), Account.AVAILABLE, owed)
        await tx.transfers.unreversed(  # spent, so not taken: it leaves the tier measure
            member_id=order.member_id,
            points=left,
            counts_at=order.occurred_at,
            order_id=order.id,
            now=now,
        )
        await tx.orders.record_return(
            order.id,
            returned_amount=returned_total,
            reversed_points=reversed_points,
            shortfall=left,
            lines=plan.lines if plan else None,
        )
        whole = all_returned(plan.lines) if plan else returned_total >= order.amount
        clawed = 0
        recorded = order.recorded_at or order.occurred_at
        if whole:
            clawed = await claw_back_referral(
                tx, version, order.id, counted_at=order.occurred_at, recorded_at=recorded, now=now
            )
        if clawed:
            balance = (await tx.members.lock(order.member_id)) or balance
        await undo_after_return(tx, version, order.member_id, recorded, now)
        return ReturnRecorded(
            member_id=order.member_id,
            order_id=order.order_ref,
            points=reversed_points,
            shortfall=left,
            balance=balance,
            referral_points_reversed=clawed,
        )

    return await run_once(
        uow,
        clock,
        principal=principal,
        key=idempotency_key,
        operation="recordReturn",
        request=request,
        action=action,
        codec=RETURNRECORDED_CODEC,
    )
