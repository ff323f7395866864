"""Confirm an order: its pending points become available now, before the return window ends."""

from __future__ import annotations

from dataclasses import dataclass

from app.domain.errors import DomainError, ErrorCode
from app.domain.lots import LotState
from app.domain.records import Balance
from app.domain.text import check_text
from app.ledger.uow import UnitOfWork, WriteTx
from app.services.clock import Clock
from app.services.codec import AnswerCodec
from app.services.common import MemberRef, lock_member
from app.services.idempotent import run_once
from app.services.outcome import Outcome
from app.services.sweeps import release_lot


@dataclass(frozen=True, slots=True)
class ConfirmOrder:
    order_id: str


@dataclass(frozen=True, slots=True)
class OrderConfirmed:
    member_id: int
    order_id: str
    points: int
    balance: Balance


ORDERCONFIRMED_CODEC = AnswerCodec(OrderConfirmed)


async def confirm_order(
    uow: UnitOfWork, clock: Clock, *, principal: str, idempotency_key: str, cmd: ConfirmOrder
) -> Outcome[OrderConfirmed]:
    async def action(tx: WriteTx) -> OrderConfirmed:
        found = await tx.reads.order_by_ref(check_text(cmd.order_id, "orderId"))
        if found is None:
            raise DomainError(ErrorCode.ORDER_NOT_FOUND, "No such order.", "orderId")
        _member, balance = await lock_member(tx, MemberRef(id=found.member_id))
        released = 0
        for lot_id, _remaining, state in await tx.lots.for_order(found.id):
            if state == LotState.PENDING:
                released += await release_lot(tx, lot_id, found.member_id, clock.now()) or 0
        after = (await tx.members.lock(found.member_id)) or balance
        return OrderConfirmed(
            member_id=found.member_id, order_id=found.order_ref, points=released, balance=after
        )

    return await run_once(
        uow,
        clock,
        principal=principal,
        key=idempotency_key,
        operation="confirmOrder",
        request={"orderId": cmd.order_id},
        action=action,
        codec=ORDERCONFIRMED_CODEC,
    )
