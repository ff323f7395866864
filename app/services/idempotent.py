"""Run a write exactly once per (principal, idempotency key).

Same key, same request: the first outcome again, business failures included. Same key,
different request: IDEMPOTENCY_CONFLICT, and nothing is written.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from app.domain.errors import DomainError, ErrorCode
from app.domain.text import ID_LENGTH, check_text
from app.ledger.uow import UnitOfWork, WriteTx
from app.services.clock import Clock
from app.services.codec import AnswerCodec
from app.services.outcome import Outcome

R = TypeVar("R")

MAX_KEY_LENGTH = ID_LENGTH


def request_hash(operation: str, request: dict[str, Any]) -> str:
    """The digest a key is claimed with. Each use case names its request's fields by hand,
    so that adding a field to a command does not change the hash of an old request; the
    shapes are pinned by tests/ledger/test_answer_replay.py."""
    body = json.dumps({"operation": operation, "request": request}, sort_keys=True, default=str)
    return hashlib.sha256(body.encode()).hexdigest()


def check_key(key: str) -> None:
    check_text(key, "idempotencyKey", limit=MAX_KEY_LENGTH)


async def run_once(
    uow: UnitOfWork,
    clock: Clock,
    *,
    principal: str,
    key: str,
    operation: str,
    request: dict[str, Any],
    action: Callable[[WriteTx], Awaitable[R]],
    codec: AnswerCodec[R],
) -> Outcome[R]:
    try:
        check_key(key)
    except DomainError as error:
        return Outcome[R].failure(error)
    digest = request_hash(operation, request)
    async with uow.write() as tx:
        earlier = await tx.idempotency.claim(
            principal=principal, key=key, operation=operation, request_hash=digest, now=clock.now()
        )
        if earlier is not None:
            if earlier.operation != operation or earlier.request_hash != digest:
                return Outcome[R].failure(
                    DomainError(
                        ErrorCode.IDEMPOTENCY_CONFLICT,
                        f"idempotencyKey {key!r} was already used for a different "
                        f"{earlier.operation} request",
                        "idempotencyKey",
                    )
                )
            assert earlier.response is not None, "a claimed key always commits with its answer"
            return Outcome.from_stored(earlier.response, codec)
        outcome: Outcome[R]
        try:
            async with tx.savepoint():
                outcome = Outcome(result=await action(tx))
        except DomainError as error:
            outcome = Outcome.failure(error)
        await tx.idempotency.answer(principal=principal, key=key, response=outcome.stored(codec))
    return outcome
