"""Run a write exactly once per (principal, idempotency key).

Same key, same request: the first outcome again, business failures included. Same key,
different request: IDEMPOTENCY_CONFLICT, and nothing is written.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from app.domain.errors import DomainError, ErrorCode
from app.domain.text import ID_LENGTH, check_text
from app.ledger.uow import UnitOfWork, WriteTx
from app.services.audit import RequestInfo, current_request
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
        outcome: Outcome[R]
        if earlier is not None:
            if earlier.operation != operation or earlier.request_hash != digest:
                outcome = Outcome[R].failure(
                    DomainError(
                        ErrorCode.IDEMPOTENCY_CONFLICT,
                        f"idempotencyKey {key!r} was already used for a different "
                        f"{earlier.operation} request",
                        "idempotencyKey",
                    )
                )
            else:
                assert earlier.response is not None, "a claimed key commits with its answer"
                outcome = Outcome.from_stored(earlier.response, codec)
        else:
            try:
                async with tx.savepoint():
                    outcome = Outcome(result=await action(tx))
            except DomainError as error:
                outcome = Outcome.failure(error)
            await tx.idempotency.answer(
                principal=principal, key=key, response=outcome.stored(codec)
            )
        await _audit(tx, clock, principal, key, operation, outcome)
    return dataclasses.replace(outcome, audited=True)


async def _audit(
    tx: WriteTx, clock: Clock, principal: str, key: str, operation: str, outcome: Outcome[Any]
) -> None:
    """One audit row per write, committed with it (or with its replay)."""
    info = current_request.get() or RequestInfo()
    ended = outcome.errors[0].code.value if outcome.errors else "OK"
    if outcome.replayed:
        ended = f"REPLAYED {ended}"
    member_id = getattr(outcome.result, "member_id", None)
    await tx.audit.record(
        at=clock.now(),
        principal=principal,
        client_id=info.client_id,
        operation=operation,
        idempotency_key=key,
        request_id=info.request_id,
        source_address=info.source_address,
        outcome=ended,
        member_id=member_id if isinstance(member_id, int) else None,
    )
