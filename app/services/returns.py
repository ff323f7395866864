"""Record a return: reverse the earn of the returned part, proportionally, never more."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from app.domain.accounts import Account, TransferKind
from app.domain.errors import DomainError, ErrorCode
from app.domain.lots import Allocation, allocate
from app.domain.points import parse_amount, reversal_due
from app.ledger.uow import UnitOfWork, WriteTx
from app.services.clock import Clock
from app.services.common import MemberRef, lock_member
from app.services.idempotent import run_once
from app.services.outcome import Outcome


@dataclass(frozen=True, slots=True)
class RecordReturn:
    order_id: str
    amount: str


async def record_return(
    uow: UnitOfWork, clock: Clock, *, principal: str, idempotency_key: str, cmd: RecordReturn
) -> Outcome:
    try:
        amount = parse_amount(cmd.amount)
        if amount <= 0:
            raise DomainError(ErrorCode.INVALID_INPUT, "amount must be more than zero", "amount")
    except DomainError as error:
        return Outcome.failure(error)

    async def action(tx: WriteTx) -> dict[str, Any]:
        now = clock.now()
        found = await tx.reads.order_by_ref(cmd.order_id)
        if found is None:
            raise DomainError(ErrorCode.ORDER_NOT_FOUND, "No such order.", "orderId")
        _member, balance = await lock_member(tx, MemberRef(id=found.member_id))
        order = await tx.orders.by_ref(cmd.order_id)  # again, under the member's lock
        assert order is not None
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
        own_lots = await tx.lots.for_order(order.id)
        for lot_id, remaining, state in own_lots:
            if state != "PENDING" or left == 0 or remaining == 0:
                continue
            take = min(remaining, left)
            await tx.lots.take([Allocation(lot_id, take)])
            posted = await tx.transfers.post(
                kind=TransferKind.RETURN,
                member_id=order.member_id,
                debit=Account.PENDING,
                credit=Account.ISSUED,
                amount=take,
                now=now,
                order_id=order.id,
                reference=order.order_ref,
                earned=-take,
            )
            balance = posted.balance
            left -= take
            reversed_points += take
        take = min(left, balance.available)
        if take > 0:
            prefer = next((lot_id for lot_id, _, state in own_lots if state == "AVAILABLE"), None)
            allocations = allocate(await tx.lots.spendable(order.member_id), take, prefer=prefer)
            await tx.lots.take(allocations)
            posted = await tx.transfers.post(
                kind=TransferKind.RETURN,
                member_id=order.member_id,
                debit=Account.AVAILABLE,
                credit=Account.ISSUED,
                amount=take,
                now=now,
                order_id=order.id,
                reference=order.order_ref,
                earned=-take,
            )
            balance = posted.balance
            left -= take
            reversed_points += take
        await tx.orders.record_return(
            order.id,
            returned_amount=returned_total,
            reversed_points=reversed_points,
            shortfall=left,
        )
        return {
            "memberId": order.member_id,
            "orderId": order.order_ref,
            "points": reversed_points,
            "shortfall": left,
            "balance": balance.as_data(),
        }

    return await run_once(
        uow,
        clock,
        principal=principal,
        key=idempotency_key,
        operation="recordReturn",
        request={"orderId": cmd.order_id, "amount": str(amount)},
        action=action,
    )
