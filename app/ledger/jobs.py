"""Fulfilment jobs inside a write transaction: queued with their redemption, claimed by
one worker at a time under a lease (`FOR UPDATE SKIP LOCKED` on PostgreSQL, the single
writer on SQLite), and finished, rescheduled or left waiting on the provider."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from app.domain.records import FulfilmentJob
from app.ledger.tables import fulfilment_jobs

QUEUED, WAITING, DONE, FAILED = "QUEUED", "WAITING", "DONE", "FAILED"
OPEN = (QUEUED, WAITING)


def _job(row: Any) -> FulfilmentJob:
    return FulfilmentJob(
        id=row.id,
        redemption_id=row.redemption_id,
        provider=row.provider,
        status=row.status,
        attempts=row.attempts,
        due_at=row.due_at,
        lease_until=row.lease_until,
        provider_ref=row.provider_ref,
        last_error=row.last_error,
    )


class JobStore:
    def __init__(self, conn: AsyncConnection, *, lock_rows: bool) -> None:
        self.conn = conn
        self.lock_rows = lock_rows

    async def queue(self, redemption_id: int, provider: str, now: datetime) -> None:
        await self.conn.execute(
            insert(fulfilment_jobs).values(
                redemption_id=redemption_id,
                provider=provider,
                status=QUEUED,
                attempts=0,
                due_at=now,
                last_error="",
                created_at=now,
                updated_at=now,
            )
        )

    async def for_redemption(self, redemption_id: int) -> FulfilmentJob | None:
        row = (
            await self.conn.execute(
                select(fulfilment_jobs).where(fulfilment_jobs.c.redemption_id == redemption_id)
            )
        ).one_or_none()
        return None if row is None else _job(row)

    async def claim_due(self, now: datetime, *, lease: float, limit: int) -> list[FulfilmentJob]:
        """Up to `limit` open jobs that are due and not leased by a live worker, each now
        leased to the caller (its attempt counted)."""
        c = fulfilment_jobs.c
        query = (
            select(fulfilment_jobs)
            .where(
                c.status.in_(OPEN),
                c.due_at <= now,
                or_(c.lease_until.is_(None), c.lease_until < now),
            )
            .order_by(c.due_at, c.id)
            .limit(limit)
        )
        if self.lock_rows:
            query = query.with_for_update(skip_locked=True)
        rows = list(await self.conn.execute(query))
        until = now + timedelta(seconds=lease)
        claimed = []
        for row in rows:
            await self.conn.execute(
                update(fulfilment_jobs)
                .where(c.id == row.id)
                .values(lease_until=until, attempts=row.attempts + 1, updated_at=now)
            )
            claimed.append(
                dataclasses.replace(_job(row), attempts=row.attempts + 1, lease_until=until)
            )
        return claimed

    async def settle(
        self,
        job_id: int,
        status: str,
        now: datetime,
        *,
        due_at: datetime | None = None,
        provider_ref: str | None = None,
        error: str | None = None,
    ) -> None:
        """The job's next state; its lease ends."""
        values: dict[str, object] = {"status": status, "lease_until": None, "updated_at": now}
        if due_at is not None:
            values["due_at"] = due_at
        if provider_ref is not None:
            values["provider_ref"] = provider_ref[:100]
        if error is not None:
            values["last_error"] = error[:500]
        await self.conn.execute(
            update(fulfilment_jobs).where(fulfilment_jobs.c.id == job_id).values(**values)
        )

    async def get(self, job_id: int) -> FulfilmentJob | None:
        row = (
            await self.conn.execute(select(fulfilment_jobs).where(fulfilment_jobs.c.id == job_id))
        ).one_or_none()
        return None if row is None else _job(row)
