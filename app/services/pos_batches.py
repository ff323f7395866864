"""POS offline batches: a till back online sends its queued sales (or returns) at once,
each with its own idempotency key and original occurredAt, answered item by item in the
order sent. Items are written a chunk per transaction, each in its own savepoint: one bad
item never blocks the others, and every item is durable when the batch is answered. Each
item is exactly the single write (recordPurchase, recordReturn) with its key, so a batch
replayed after a lost answer, or an item sent again alone, answers the same."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from app.domain.errors import DomainError, ErrorCode
from app.ledger.uow import TxUnitOfWork, UnitOfWork
from app.services.audit import record_refusal
from app.services.clock import Clock
from app.services.outcome import Outcome
from app.services.purchase import PurchaseRecorded, RecordPurchase, record_purchase
from app.services.returns import RecordReturn, ReturnRecorded, record_return

log = logging.getLogger("tally.batches")

MAX_ITEMS = 500
CHUNK = 100  # items per transaction: bounds how long a batch holds its members' locks

C = TypeVar("C")
R = TypeVar("R")


@dataclass(frozen=True, slots=True)
class BatchItem(Generic[C]):
    idempotency_key: str
    command: C


@dataclass(frozen=True, slots=True)
class ItemOutcome(Generic[R]):
    idempotency_key: str
    outcome: Outcome[R]


UseCase = Callable[..., Awaitable[Outcome[R]]]


async def _run_batch(
    uow: UnitOfWork,
    clock: Clock,
    *,
    principal: str,
    operation: str,
    items: Sequence[BatchItem[C]],
    use_case: Callable[..., Awaitable[Outcome[R]]],
) -> list[ItemOutcome[R]]:
    if len(items) > MAX_ITEMS:
        raise DomainError(ErrorCode.LIMIT_REACHED, f"at most {MAX_ITEMS} items per batch", "inputs")
    results: list[ItemOutcome[R]] = []
    for start in range(0, len(items), CHUNK):
        async with uow.write() as tx:
            inner = TxUnitOfWork(uow, tx)
            for item in items[start : start + CHUNK]:
                try:
                    async with tx.savepoint():  # a crash undoes this item only
                        outcome = await use_case(
                            inner,
                            clock,
                            principal=principal,
                            idempotency_key=item.idempotency_key,
                            cmd=item.command,
                        )
                        if not outcome.ok and not outcome.audited:
                            await record_refusal(
                                inner,
                                clock,
                                principal=principal,
                                idempotency_key=item.idempotency_key,
                                operation=operation,
                                code=outcome.errors[0].code,
                            )
                except Exception:
                    log.exception("batch item %r could not be recorded", item.idempotency_key)
                    outcome = Outcome.failure(
                        DomainError(
                            ErrorCode.INVALID_STATE,
                            "This item could not be recorded; send it again with its key.",
                            None,
                        )
                    )
                results.append(ItemOutcome(item.idempotency_key, outcome))
    return results


async def record_purchases(
    uow: UnitOfWork, clock: Clock, *, principal: str, items: Sequence[BatchItem[RecordPurchase]]
) -> list[ItemOutcome[PurchaseRecorded]]:
    return await _run_batch(
        uow,
        clock,
        principal=principal,
        operation="recordPurchase",
        items=items,
        use_case=record_purchase,
    )


async def record_returns(
    uow: UnitOfWork, clock: Clock, *, principal: str, items: Sequence[BatchItem[RecordReturn]]
) -> list[ItemOutcome[ReturnRecorded]]:
    return await _run_batch(
        uow,
        clock,
        principal=principal,
        operation="recordReturn",
        items=items,
        use_case=record_return,
    )
