"""Order sources (a Shopify shop, another platform) and the webhooks they send, inside a
write transaction: each inbound event stored once per source and delivery id before it
is answered, then claimed under a lease (`FOR UPDATE SKIP LOCKED` on PostgreSQL) and
settled as processed, ignored or failed, a failure visible and retryable."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from app.domain.records import Page
from app.ledger.tables import inbound_events, order_sources

RECEIVED, PROCESSED, IGNORED, FAILED = "RECEIVED", "PROCESSED", "IGNORED", "FAILED"


@dataclass(frozen=True, slots=True)
class OrderSource:
    id: int
    name: str
    kind: str  # "shopify" | "standard" (Standard Webhooks signed, Tally's own format)
    secret: str
    enroll_unknown: bool
    created_at: datetime


@dataclass(frozen=True, slots=True)
class InboundEvent:
    id: int
    source_id: int
    source: str
    delivery_id: str
    topic: str
    body: dict[str, Any]
    status: str
    attempts: int
    retries: int  # times staff retried it: a new try at what failed before
    error: str | None
    received_at: datetime
    processed_at: datetime | None
    next_attempt_at: datetime | None


def _source(row: Any) -> OrderSource:
    return OrderSource(
        row.id, row.name, row.kind, row.secret, bool(row.enroll_unknown), row.created_at
    )


def _event(row: Any) -> InboundEvent:
    return InboundEvent(
        id=row.id,
        source_id=row.source_id,
        source=row.name,
        delivery_id=row.delivery_id,
        topic=row.topic,
        body=row.body,
        status=row.status,
        attempts=row.attempts,
        retries=row.retries,
        error=row.error,
        received_at=row.received_at,
        processed_at=row.processed_at,
        next_attempt_at=row.next_attempt_at,
    )


def _events() -> Any:
    return select(inbound_events, order_sources.c.name).join(
        order_sources, order_sources.c.id == inbound_events.c.source_id
    )


class InboundStore:
    def __init__(self, conn: AsyncConnection, *, lock_rows: bool) -> None:
        self.conn = conn
        self.lock_rows = lock_rows

    async def source(self, name: str) -> OrderSource | None:
        row = (
            await self.conn.execute(select(order_sources).where(order_sources.c.name == name))
        ).one_or_none()
        return None if row is None else _source(row)

    async def save_source(
        self, *, name: str, kind: str, secret: str, enroll_unknown: bool, now: datetime
    ) -> int:
        """A source by its name, created or given a new secret and setting."""
        found = await self.source(name)
        if found is not None:
            await self.conn.execute(
                update(order_sources)
                .where(order_sources.c.id == found.id)
                .values(kind=kind, secret=secret, enroll_unknown=enroll_unknown, updated_at=now)
            )
            return found.id
        result = await self.conn.execute(
            insert(order_sources)
            .values(
                name=name,
                kind=kind,
                secret=secret,
                enroll_unknown=enroll_unknown,
                created_at=now,
                updated_at=now,
            )
            .returning(order_sources.c.id)
        )
        return int(result.scalar_one())

    async def store(
        self,
        source: OrderSource,
        *,
        delivery_id: str,
        topic: str,
        body: dict[str, Any],
        now: datetime,
        customer: str | None = None,
    ) -> bool:
        """Keep an authentic webhook; False when this source already sent this delivery."""
        insert_into = pg_insert if self.conn.dialect.name == "postgresql" else sqlite_insert
        result = await self.conn.execute(
            insert_into(inbound_events)
            .values(
                source_id=source.id,
                delivery_id=delivery_id,
                customer=customer,
                topic=topic,
                body=body,
                status=RECEIVED,
                attempts=0,
                retries=0,
                received_at=now,
                next_attempt_at=now,
            )
            .on_conflict_do_nothing(index_elements=["source_id", "delivery_id"])
        )
        return bool(result.rowcount == 1)

    async def claim(
        self, now: datetime, *, lease_until: datetime, limit: int
    ) -> list[InboundEvent]:
        c = inbound_events.c
        query = (
            select(c.id)
            .where(
                c.status == RECEIVED,
                c.next_attempt_at <= now,
                or_(c.lease_until.is_(None), c.lease_until <= now),
            )
            .order_by(c.id)
            .limit(limit)
        )
        if self.lock_rows:
            query = query.with_for_update(skip_locked=True)
        ids = list((await self.conn.execute(query)).scalars())
        if not ids:
            return []
        await self.conn.execute(
            update(inbound_events).where(c.id.in_(ids)).values(lease_until=lease_until)
        )
        rows = await self.conn.execute(_events().where(c.id.in_(ids)).order_by(c.id))
        return [_event(r) for r in rows]

    async def settle(
        self,
        event_id: int,
        *,
        status: str,
        now: datetime,
        error: str | None = None,
        next_attempt_at: datetime | None = None,
    ) -> None:
        await self.conn.execute(
            update(inbound_events)
            .where(inbound_events.c.id == event_id)
            .values(
                status=status,
                attempts=inbound_events.c.attempts + 1,
                error=(error or None) and error[:500],
                processed_at=now if status != RECEIVED else None,
                next_attempt_at=next_attempt_at,
                lease_until=None,
            )
        )

    async def retry(self, event_id: int, now: datetime) -> bool:
        """A failed event to be processed again; False for one that has not failed."""
        result = await self.conn.execute(
            update(inbound_events)
            .where(inbound_events.c.id == event_id, inbound_events.c.status == FAILED)
            .values(
                status=RECEIVED,
                next_attempt_at=now,
                lease_until=None,
                error=None,
                attempts=0,
                retries=inbound_events.c.retries + 1,
            )
        )
        return bool(result.rowcount == 1)


async def inbound_page(
    conn: AsyncConnection, *, status: str | None, before: int | None, limit: int
) -> Page[InboundEvent]:
    """Inbound events, newest first."""
    c = inbound_events.c
    query = _events()
    if status is not None:
        query = query.where(c.status == status)
    if before is not None:
        query = query.where(c.id < before)
    rows = list(await conn.execute(query.order_by(c.id.desc()).limit(limit + 1)))
    return Page([_event(r) for r in rows[:limit]], len(rows) > limit)
