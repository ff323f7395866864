"""The audit log: one row per write through the API, written in the write's transaction."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from app.domain.records import AuditEntry
from app.ledger.tables import audit_log


def _clean(value: str | None, limit: int) -> str | None:
    """As given, cut to the column, with control characters (NUL, which PostgreSQL text
    refuses, included) shown as U+FFFD: a refused write's key is recorded as sent."""
    if value is None:
        return None
    return "".join("\ufffd" if ord(c) < 32 or ord(c) == 127 else c for c in value[:limit])


class AuditStore:
    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def record(
        self,
        *,
        at: datetime,
        principal: str,
        client_id: str | None,
        operation: str,
        idempotency_key: str | None,
        request_id: str | None,
        source_address: str | None,
        outcome: str,
        member_id: int | None,
    ) -> None:
        await self.conn.execute(
            insert(audit_log).values(
                at=at,
                principal=_clean(principal, 300),
                client_id=_clean(client_id, 100),
                operation=_clean(operation, 100),
                idempotency_key=_clean(idempotency_key, 200),
                request_id=_clean(request_id, 100),
                source_address=_clean(source_address, 100),
                outcome=_clean(outcome, 40),
                member_id=member_id,
            )
        )


async def audit_page(
    conn: AsyncConnection, *, before_id: int | None, limit: int, member_id: int | None
) -> list[AuditEntry]:
    """Newest first: at most `limit` entries older than `before_id`, of one member or all."""
    query = select(audit_log).order_by(audit_log.c.id.desc()).limit(limit)
    if before_id is not None:
        query = query.where(audit_log.c.id < before_id)
    if member_id is not None:
        query = query.where(audit_log.c.member_id == member_id)
    return [_entry(row) for row in await conn.execute(query)]


def _entry(row: Any) -> AuditEntry:
    return AuditEntry(
        id=row.id,
        at=row.at,
        principal=row.principal,
        client_id=row.client_id,
        operation=row.operation,
        idempotency_key=row.idempotency_key,
        request_id=row.request_id,
        source_address=row.source_address,
        outcome=row.outcome,
        member_id=row.member_id,
    )
