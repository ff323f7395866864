"""recordPurchases and recordReturns: a till's offline queue in one call (points:write),
each item with its own idempotency key, answered item by item in the order sent."""

from __future__ import annotations

from typing import Annotated

import strawberry

from app.auth.scopes import Scope
from app.domain.errors import DomainError, ErrorCode
from app.graphql.bounds import allow_time
from app.graphql.context import Context
from app.graphql.mutations.record_purchase import RecordPurchaseInput, purchase_command
from app.graphql.mutations.record_return import RecordReturnInput, return_command
from app.graphql.mutations.write import USER_ERRORS_HELP, Writer
from app.graphql.permissions import needs
from app.graphql.types.common import UserError
from app.services.outcome import Outcome
from app.services.pos_batches import MAX_ITEMS, BatchItem, record_purchases, record_returns
from app.services.purchase import PurchaseRecorded, RecordPurchase
from app.services.returns import ReturnRecorded

KEY_HELP = (
    "This item's own idempotency key: the same item sent again (in any batch, or alone with "
    "recordPurchase/recordReturn) answers the same and is recorded once."
)


@strawberry.input(description="One sale of a batch: a recordPurchase input and its key.")
class RecordPurchaseBatchInput(RecordPurchaseInput):
    idempotency_key: str = strawberry.field(description=KEY_HELP)


@strawberry.input(description="One return of a batch: a recordReturn input and its key.")
class RecordReturnBatchInput(RecordReturnInput):
    idempotency_key: str = strawberry.field(description=KEY_HELP)


@strawberry.type(description="What one item of a batch did, in the order sent.")
class BatchItemResult:
    idempotency_key: str = strawberry.field(description="The item's key, as sent.")
    ok: bool = strawberry.field(description="Whether it was recorded (or was already).")
    order_id: str | None = strawberry.field(description="The item's orderId.")
    points_earned: int | None = strawberry.field(
        description="recordPurchases: the points it earned; null for a return or a failure."
    )
    points_reversed: int | None = strawberry.field(
        description="recordReturns: the points it took back; null for a purchase or a failure."
    )
    user_errors: list[UserError] = strawberry.field(
        description="Why it was not recorded; empty when ok."
    )


@strawberry.type(description="What a batch did: one result per item, in the order sent.")
class BatchPayload:
    results: list[BatchItemResult] = strawberry.field(
        description="One per item, in the order sent; empty when the batch was refused."
    )
    recorded: int = strawberry.field(description="How many items are ok.")
    user_errors: list[UserError] = strawberry.field(description=USER_ERRORS_HELP)


def _failed(key: str, order_id: str | None, error: DomainError) -> BatchItemResult:
    return BatchItemResult(
        idempotency_key=key,
        ok=False,
        order_id=order_id,
        points_earned=None,
        points_reversed=None,
        user_errors=[UserError.of_domain(error)],
    )


def _payload(results: list[BatchItemResult]) -> BatchPayload:
    return BatchPayload(results=results, recorded=sum(r.ok for r in results), user_errors=[])


def _refused(error: DomainError) -> BatchPayload:
    return BatchPayload(results=[], recorded=0, user_errors=[UserError.of_domain(error)])


@strawberry.mutation(
    description=f"Record up to {MAX_ITEMS} purchases at once (points:write), as a till sends "
    "its offline queue: each item is exactly a recordPurchase with its own idempotencyKey "
    "and original occurredAt; one bad item never blocks the others, and a batch sent again "
    "after a lost answer answers the same.",
    extensions=needs(Scope.POINTS_WRITE),
)
async def record_purchases_mutation(
    info: strawberry.Info[Context, None],
    inputs: Annotated[
        list[RecordPurchaseBatchInput], strawberry.argument(description="The sales, in order.")
    ],
) -> BatchPayload:
    w = Writer(info)
    allow_time(w.services.batch_timeout)
    if len(inputs) > MAX_ITEMS:
        return _refused(
            DomainError(ErrorCode.LIMIT_REACHED, f"at most {MAX_ITEMS} items per batch", "inputs")
        )
    early: dict[int, BatchItemResult] = {}
    items: list[BatchItem[RecordPurchase]] = []
    places: list[int] = []
    for place, given in enumerate(inputs):
        try:
            items.append(BatchItem(given.idempotency_key, await purchase_command(w, given)))
            places.append(place)
        except DomainError as error:
            early[place] = _failed(given.idempotency_key, given.order_id, error)
    done = await record_purchases(
        w.services.uow, w.services.clock, principal=w.principal_key, items=items
    )
    for place, item in zip(places, done, strict=True):
        early[place] = _result(item.idempotency_key, inputs[place].order_id, item.outcome)
    return _payload([early[p] for p in range(len(inputs))])


def _result(
    key: str,
    order_id: str,
    outcome: Outcome[PurchaseRecorded] | Outcome[ReturnRecorded],
) -> BatchItemResult:
    """One item's answer: its points (earned or taken back), or its user errors."""
    if not outcome.ok:
        return BatchItemResult(
            idempotency_key=key,
            ok=False,
            order_id=order_id,
            points_earned=None,
            points_reversed=None,
            user_errors=[UserError.of(e) for e in outcome.errors],
        )
    done = outcome.value
    earned = isinstance(done, PurchaseRecorded)
    return BatchItemResult(
        idempotency_key=key,
        ok=True,
        order_id=order_id,
        points_earned=done.points if earned else None,
        points_reversed=None if earned else done.points,
        user_errors=[],
    )


@strawberry.mutation(
    description=f"Record up to {MAX_ITEMS} returns at once (points:write): each item is "
    "exactly a recordReturn with its own idempotencyKey; one bad item never blocks the "
    "others, and a batch sent again answers the same.",
    extensions=needs(Scope.POINTS_WRITE),
)
async def record_returns_mutation(
    info: strawberry.Info[Context, None],
    inputs: Annotated[
        list[RecordReturnBatchInput], strawberry.argument(description="The returns, in order.")
    ],
) -> BatchPayload:
    w = Writer(info)
    allow_time(w.services.batch_timeout)
    if len(inputs) > MAX_ITEMS:
        return _refused(
            DomainError(ErrorCode.LIMIT_REACHED, f"at most {MAX_ITEMS} items per batch", "inputs")
        )
    items = [BatchItem(given.idempotency_key, return_command(given)) for given in inputs]
    done = await record_returns(
        w.services.uow, w.services.clock, principal=w.principal_key, items=items
    )
    results = [
        _result(item.idempotency_key, given.order_id, item.outcome)
        for given, item in zip(inputs, done, strict=True)
    ]
    return _payload(results)
