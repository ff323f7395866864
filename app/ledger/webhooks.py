"""Webhook endpoints and their deliveries inside a write transaction: endpoints managed by
partners, one delivery row per endpoint and event (fanned out from the sequenced events,
each endpoint keeping its own position), claimed under a lease (`FOR UPDATE SKIP LOCKED`
on PostgreSQL) with a bound on how many are in flight per endpoint, and every attempt
recorded."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, case, delete, func, insert, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from app.domain.published import EventType, PublishedEvent
from app.domain.records import Page
from app.domain.webhooks import (
    DeliveryStatus,
    EndpointStatus,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
)
from app.ledger.event_log import events_by_outbox_ids
from app.ledger.tables import outbox, webhook_attempts, webhook_deliveries, webhook_endpoints

EXCERPT = 500
UPSERT_ROWS = 500  # delivery rows per statement
REPLAY_PAGE = 1000


def endpoint(row: Any) -> WebhookEndpoint:
    return WebhookEndpoint(
        id=row.id,
        url=row.url,
        description=row.description,
        event_types=tuple(EventType(t) for t in row.event_types or ()),
        status=EndpointStatus(row.status),
        disabled_reason=row.disabled_reason,
        secret=row.secret,
        previous_secret=row.previous_secret,
        previous_until=row.previous_until,
        failing_since=row.failing_since,
        created_at=row.created_at,
        updated_at=row.updated_at,
        last_failed_at=row.last_failed_at,
    )


def delivery(row: Any) -> WebhookDelivery:
    return WebhookDelivery(
        id=row.id,
        endpoint_id=row.endpoint_id,
        outbox_id=row.outbox_id,
        sequence=row.sequence,
        status=DeliveryStatus(row.status),
        attempts=row.attempts,
        next_attempt_at=row.next_attempt_at,
        last_status=row.last_status,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def attempt(row: Any) -> WebhookAttempt:
    return WebhookAttempt(
        id=row.id,
        delivery_id=row.delivery_id,
        at=row.at,
        status=row.status,
        latency_ms=row.latency_ms,
        error=row.error,
        excerpt=row.excerpt,
    )


@dataclass(frozen=True, slots=True)
class Claimed:
    """A delivery this worker sends now: its endpoint (with the secrets) and its event."""

    delivery: WebhookDelivery
    endpoint: WebhookEndpoint
    event: PublishedEvent


def _pending(e: WebhookEndpoint, rows: list[Any], now: datetime) -> list[dict[str, Any]]:
    """Delivery rows, due now, for these outbox rows (id, sequence) to endpoint `e`."""
    return [
        {
            "endpoint_id": e.id,
            "outbox_id": r.id,
            "sequence": r.sequence,
            "status": DeliveryStatus.PENDING.value,
            "attempts": 0,
            "next_attempt_at": now,
            "created_at": now,
            "updated_at": now,
        }
        for r in rows
    ]


class WebhookStore:
    def __init__(self, conn: AsyncConnection, *, lock_rows: bool) -> None:
        self.conn = conn
        self.lock_rows = lock_rows

    # Endpoints ------------------------------------------------------------------------

    async def create(
        self,
        *,
        url: str,
        description: str,
        event_types: tuple[EventType, ...],
        secret: str,
        created_by: str,
        now: datetime,
    ) -> int:
        """A new endpoint hears the events committed from now on."""
        top = (await self.conn.execute(select(func.max(outbox.c.sequence)))).scalar_one()
        result = await self.conn.execute(
            insert(webhook_endpoints)
            .values(
                url=url,
                description=description,
                event_types=[t.value for t in event_types],
                status=EndpointStatus.ENABLED.value,
                secret=secret,
                cursor=top or 0,
                created_by=created_by,
                created_at=now,
                updated_at=now,
            )
            .returning(webhook_endpoints.c.id)
        )
        return int(result.scalar_one())

    async def latest_sequence(self) -> int:
        top = (await self.conn.execute(select(func.max(outbox.c.sequence)))).scalar_one()
        return int(top or 0)

    async def count(self) -> int:
        return int(
            (
                await self.conn.execute(select(func.count()).select_from(webhook_endpoints))
            ).scalar_one()
        )

    async def get(self, endpoint_id: int) -> WebhookEndpoint | None:
        query = select(webhook_endpoints).where(webhook_endpoints.c.id == endpoint_id)
        if self.lock_rows:
            query = query.with_for_update()
        row = (await self.conn.execute(query)).one_or_none()
        return None if row is None else endpoint(row)

    async def change(self, endpoint_id: int, now: datetime, **values: Any) -> None:
        if "event_types" in values:
            values["event_types"] = [t.value for t in values["event_types"]]
        await self.conn.execute(
            update(webhook_endpoints)
            .where(webhook_endpoints.c.id == endpoint_id)
            .values(updated_at=now, **values)
        )

    async def delete(self, endpoint_id: int) -> None:
        ids = select(webhook_deliveries.c.id).where(webhook_deliveries.c.endpoint_id == endpoint_id)
        await self.conn.execute(
            delete(webhook_attempts).where(webhook_attempts.c.delivery_id.in_(ids))
        )
        await self.conn.execute(
            delete(webhook_deliveries).where(webhook_deliveries.c.endpoint_id == endpoint_id)
        )
        await self.conn.execute(
            delete(webhook_endpoints).where(webhook_endpoints.c.id == endpoint_id)
        )

    async def enabled(self) -> list[WebhookEndpoint]:
        rows = await self.conn.execute(
            select(webhook_endpoints)
            .where(webhook_endpoints.c.status == EndpointStatus.ENABLED.value)
            .order_by(webhook_endpoints.c.id)
        )
        return [endpoint(r) for r in rows]

    # Fan-out --------------------------------------------------------------------------

    async def fan_out(self, e: WebhookEndpoint, now: datetime, limit: int = 1000) -> int:
        """Deliveries for the events after the endpoint's position that it hears; the
        position moves past every event looked at. Locks the endpoint row first, so two
        instances never fan one endpoint out at once."""
        query = select(webhook_endpoints.c.cursor).where(webhook_endpoints.c.id == e.id)
        if self.lock_rows:
            query = query.with_for_update(skip_locked=True)
        cursor = (await self.conn.execute(query)).scalar_one_or_none()
        if cursor is None:
            return 0  # deleted, or another instance is at it
        rows = list(
            await self.conn.execute(
                select(outbox.c.id, outbox.c.sequence, outbox.c.event_type)
                .where(outbox.c.sequence > cursor)
                .order_by(outbox.c.sequence)
                .limit(limit)
            )
        )
        if not rows:
            return 0
        wanted = [r for r in rows if e.hears(EventType(r.event_type))]
        if wanted:
            await self._upsert_pending(
                _pending(e, wanted, now),
                replay=False,
            )
        await self.conn.execute(
            update(webhook_endpoints)
            .where(webhook_endpoints.c.id == e.id)
            .values(cursor=rows[-1].sequence)
        )
        return len(wanted)

    async def _upsert_pending(
        self, values: list[dict[str, Any]], *, replay: bool, now: datetime | None = None
    ) -> None:
        """Insert delivery rows, UPSERT_ROWS a statement (asyncpg takes at most 32,767
        parameters). A replayed row that is being sent keeps its lease."""
        insert_into = pg_insert if self.conn.dialect.name == "postgresql" else sqlite_insert
        keys = ["endpoint_id", "outbox_id"]
        for start in range(0, len(values), UPSERT_ROWS):
            statement = insert_into(webhook_deliveries).values(values[start : start + UPSERT_ROWS])
            if replay:  # sent again, its schedule from the start
                d = webhook_deliveries.c
                excluded = statement.excluded
                statement = statement.on_conflict_do_update(
                    index_elements=keys,
                    set_={
                        "status": DeliveryStatus.PENDING.value,
                        "attempts": 0,
                        "next_attempt_at": excluded.next_attempt_at,
                        "lease_until": case((d.lease_until > now, d.lease_until), else_=None),
                        "updated_at": excluded.updated_at,
                    },
                )
            else:
                statement = statement.on_conflict_do_nothing(index_elements=keys)
            await self.conn.execute(statement)

    async def replay_since(self, e: WebhookEndpoint, since: datetime, now: datetime) -> int:
        """Send again every event recorded since `since` that the endpoint hears, however
        many, a page at a time."""
        after, count = 0, 0
        while True:
            rows = list(
                await self.conn.execute(
                    select(outbox.c.id, outbox.c.sequence, outbox.c.event_type)
                    .where(outbox.c.sequence > after, outbox.c.created_at >= since)
                    .order_by(outbox.c.sequence)
                    .limit(REPLAY_PAGE)
                )
            )
            if not rows:
                return count
            wanted = [r for r in rows if e.hears(EventType(r.event_type))]
            if wanted:
                await self._upsert_pending(
                    _pending(e, wanted, now),
                    replay=True,
                    now=now,
                )
            count += len(wanted)
            after = rows[-1].sequence

    async def replay_delivery(self, delivery_id: int, now: datetime) -> None:
        await self.conn.execute(
            update(webhook_deliveries)
            .where(webhook_deliveries.c.id == delivery_id)
            .values(
                status=DeliveryStatus.PENDING.value,
                attempts=0,
                next_attempt_at=now,
                lease_until=case(
                    (webhook_deliveries.c.lease_until > now, webhook_deliveries.c.lease_until),
                    else_=None,
                ),
                updated_at=now,
            )
        )

    # Sending --------------------------------------------------------------------------

    async def claim(
        self,
        e: WebhookEndpoint,
        now: datetime,
        *,
        lease_until: datetime,
        most: int,
        token: str = "",
    ) -> list[Claimed]:
        """Up to `most` due deliveries of the endpoint, less those already in flight (a
        lease still running), leased to this worker; oldest event first."""
        d = webhook_deliveries.c
        if self.lock_rows:  # claimers of one endpoint take turns: the bound holds across them
            await self.conn.execute(
                select(webhook_endpoints.c.id)
                .where(webhook_endpoints.c.id == e.id)
                .with_for_update()
            )
        in_flight = (
            await self.conn.execute(
                select(func.count()).where(
                    d.endpoint_id == e.id,
                    d.status == DeliveryStatus.PENDING.value,
                    d.lease_until > now,
                )
            )
        ).scalar_one()
        room = most - int(in_flight)
        if room <= 0:
            return []
        query = (
            select(webhook_deliveries)
            .where(
                d.endpoint_id == e.id,
                d.status == DeliveryStatus.PENDING.value,
                d.next_attempt_at <= now,
                or_(d.lease_until.is_(None), d.lease_until <= now),
            )
            .order_by(d.sequence)
            .limit(room)
        )
        if self.lock_rows:
            query = query.with_for_update(skip_locked=True)
        rows = list(await self.conn.execute(query))
        if not rows:
            return []
        await self.conn.execute(
            update(webhook_deliveries)
            .where(d.id.in_([r.id for r in rows]))
            .values(lease_until=lease_until, lease_token=token or None)
        )
        events = await events_by_outbox_ids(self.conn, [r.outbox_id for r in rows])
        return [Claimed(delivery(r), e, events[r.outbox_id]) for r in rows if r.outbox_id in events]

    async def record_attempt(
        self,
        delivery_id: int,
        *,
        at: datetime,
        status: int | None,
        latency_ms: int,
        error: str | None,
        excerpt: str,
        outcome: DeliveryStatus,
        next_attempt_at: datetime | None,
        token: str | None = None,
    ) -> bool:
        """An attempt's answer, and where the delivery stands after it (lease released).
        With `token`, the delivery moves only while the lease is still this sender's (a
        replay or a lapsed lease gave it to another): False then, the attempt still logged."""
        await self.conn.execute(
            insert(webhook_attempts).values(
                delivery_id=delivery_id,
                at=at,
                status=status,
                latency_ms=latency_ms,
                error=(error or None) and error[:EXCERPT],
                excerpt=excerpt[:EXCERPT],
            )
        )
        d = webhook_deliveries.c
        mine = d.id == delivery_id
        if token is not None:
            mine = and_(mine, d.lease_token == token)
        moved = await self.conn.execute(
            update(webhook_deliveries)
            .where(mine)
            .values(
                status=outcome.value,
                attempts=d.attempts + 1,
                next_attempt_at=next_attempt_at,
                lease_until=None,
                lease_token=None,
                last_status=status,
                updated_at=at,
            )
        )
        return bool(moved.rowcount == 1)

    async def fail_pending(self, endpoint_id: int, now: datetime) -> None:
        """A disabled endpoint's waiting deliveries stop (a replay can send them again)."""
        d = webhook_deliveries.c
        await self.conn.execute(
            update(webhook_deliveries)
            .where(d.endpoint_id == endpoint_id, d.status == DeliveryStatus.PENDING.value)
            .values(status=DeliveryStatus.FAILED.value, next_attempt_at=None, updated_at=now)
        )

    async def delivery(self, delivery_id: int) -> WebhookDelivery | None:
        row = (
            await self.conn.execute(
                select(webhook_deliveries).where(webhook_deliveries.c.id == delivery_id)
            )
        ).one_or_none()
        return None if row is None else delivery(row)


# Reads ----------------------------------------------------------------------------------


async def endpoints_page(conn: AsyncConnection, *, after: int, limit: int) -> Page[WebhookEndpoint]:
    rows = list(
        await conn.execute(
            select(webhook_endpoints)
            .where(webhook_endpoints.c.id > after)
            .order_by(webhook_endpoints.c.id)
            .limit(limit + 1)
        )
    )
    return Page([endpoint(r) for r in rows[:limit]], len(rows) > limit)


async def deliveries_page(
    conn: AsyncConnection,
    endpoint_id: int,
    *,
    before: int | None,
    limit: int,
    status: DeliveryStatus | None = None,
) -> Page[WebhookDelivery]:
    """An endpoint's deliveries, newest first."""
    d = webhook_deliveries.c
    query = select(webhook_deliveries).where(d.endpoint_id == endpoint_id)
    if before is not None:
        query = query.where(d.id < before)
    if status is not None:
        query = query.where(d.status == status.value)
    rows = list(await conn.execute(query.order_by(d.id.desc()).limit(limit + 1)))
    return Page([delivery(r) for r in rows[:limit]], len(rows) > limit)


async def attempts_of(
    conn: AsyncConnection, delivery_ids: Sequence[int]
) -> dict[int, list[WebhookAttempt]]:
    found: dict[int, list[WebhookAttempt]] = {i: [] for i in delivery_ids}
    if not delivery_ids:
        return found
    rows = await conn.execute(
        select(webhook_attempts)
        .where(webhook_attempts.c.delivery_id.in_(list(delivery_ids)))
        .order_by(webhook_attempts.c.id)
    )
    for row in rows:
        found[row.delivery_id].append(attempt(row))
    return found


async def deliveries_by_ids(
    conn: AsyncConnection, ids: Sequence[int]
) -> dict[int, WebhookDelivery]:
    if not ids:
        return {}
    rows = await conn.execute(
        select(webhook_deliveries).where(webhook_deliveries.c.id.in_(list(ids)))
    )
    return {r.id: delivery(r) for r in rows}
