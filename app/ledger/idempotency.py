"""Idempotency records: one per (principal, key), holding the first answer."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from app.ledger.tables import idempotency_keys


@dataclass(frozen=True, slots=True)
class StoredAnswer:
    operation: str
    request_hash: str
    response: dict[str, Any] | None


class IdempotencyStore:
    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def claim(
        self, *, principal: str, key: str, operation: str, request_hash: str, now: datetime
    ) -> StoredAnswer | None:
        """Claim the key for this transaction, or return what an earlier request stored.

        On PostgreSQL a concurrent claim of the same key waits on the unique index until
        the first transaction ends, then sees its committed answer.
        """
        dialect = self.conn.dialect.name
        make = pg_insert if dialect == "postgresql" else sqlite_insert
        statement = (
            make(idempotency_keys)
            .values(
                principal=principal,
                key=key,
                operation=operation,
                request_hash=request_hash,
                created_at=now,
            )
            .on_conflict_do_nothing(index_elements=["principal", "key"])
            .returning(idempotency_keys.c.key)
        )
        if (await self.conn.execute(statement)).first() is not None:
            return None
        row = (
            await self.conn.execute(
                select(idempotency_keys).where(
                    idempotency_keys.c.principal == principal, idempotency_keys.c.key == key
                )
            )
        ).one()
        return StoredAnswer(row.operation, row.request_hash, row.response)

    async def answer(self, *, principal: str, key: str, response: dict[str, Any]) -> None:
        await self.conn.execute(
            update(idempotency_keys)
            .where(idempotency_keys.c.principal == principal, idempotency_keys.c.key == key)
            .values(response=response)
        )


__all__ = ["IdempotencyStore", "StoredAnswer", "insert"]
