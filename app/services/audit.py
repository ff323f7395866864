"""Who is asking, for the audit log: set once per request by the API, read by `run_once`.

A context variable, so the use cases keep their signatures: the GraphQL view sets it for
the request (its id, the source address, the client) and every write the request makes
records it beside its outcome, in the write's own transaction.
"""

from __future__ import annotations

import getpass
import os
import uuid
from contextvars import ContextVar
from dataclasses import dataclass

from app.domain.errors import ErrorCode
from app.ledger.uow import UnitOfWork
from app.services.clock import Clock


@dataclass(frozen=True, slots=True)
class RequestInfo:
    request_id: str | None = None
    source_address: str | None = None
    client_id: str | None = None


current_request: ContextVar[RequestInfo | None] = ContextVar("tally_request", default=None)


async def record_refusal(
    uow: UnitOfWork,
    clock: Clock,
    *,
    principal: str,
    idempotency_key: str,
    operation: str,
    code: ErrorCode,
) -> None:
    """A write refused before it reached its transaction (bad input, an unknown member):
    it changed nothing, and the audit log says so."""
    info = current_request.get() or RequestInfo()
    async with uow.write() as tx:
        await tx.audit.record(
            at=clock.now(),
            principal=principal,
            client_id=info.client_id,
            operation=operation,
            idempotency_key=idempotency_key,
            request_id=info.request_id,
            source_address=info.source_address,
            outcome=code.value,
            member_id=None,
        )


def operator() -> str:
    """Who ran a `tally` command: the operating-system user, as the audit log names them."""
    try:
        return f"operator:{getpass.getuser()}"
    except (KeyError, OSError):  # no user name for this uid (a bare container)
        return f"operator:uid-{os.getuid()}"


async def record_operator_write(
    uow: UnitOfWork, clock: Clock, *, operation: str, outcome: str, client_id: str | None = None
) -> None:
    """A write made from the command line (a program applied, a client created, revoked
    or given a new secret): recorded like an API write, with the operator as principal,
    `cli` as source and the client it acted on."""
    async with uow.write() as tx:
        await tx.audit.record(
            at=clock.now(),
            principal=operator(),
            client_id=client_id,
            operation=operation,
            idempotency_key=None,
            request_id=f"cli-{uuid.uuid4().hex[:16]}",
            source_address="cli",
            outcome=outcome,
            member_id=None,
        )
