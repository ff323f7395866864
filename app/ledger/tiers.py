"""Tier standings: one row per member, the tier.changed events, the reviews that are due."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from app.domain.tier_lifecycle import Standing, TierChangeReason
from app.ledger.tables import member_tiers, outbox

TIER_TOPIC = "tier.changed"


def _standing(row: Any) -> Standing:
    return Standing(
        tier=row.tier_key,
        floor=row.floor_key,
        since=row.since,
        period_ends_at=row.period_ends_at,
        grace_until=row.grace_until,
    )


class TierStore:
    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def get(self, member_id: int) -> Standing | None:
        row = (
            await self.conn.execute(
                select(member_tiers).where(member_tiers.c.member_id == member_id)
            )
        ).one_or_none()
        return None if row is None else _standing(row)

    async def many(self, ids: Sequence[int]) -> dict[int, Standing]:
        rows = await self.conn.execute(
            select(member_tiers).where(member_tiers.c.member_id.in_(list(ids)))
        )
        return {r.member_id: _standing(r) for r in rows}

    async def save(self, member_id: int, standing: Standing, now: datetime) -> None:
        """Store the standing (the caller holds the member's lock, so update-or-insert
        cannot race)."""
        values = {
            "tier_key": standing.tier,
            "floor_key": standing.floor,
            "since": standing.since,
            "period_ends_at": standing.period_ends_at,
            "grace_until": standing.grace_until,
            "review_at": standing.review_at,
            "updated_at": now,
        }
        result = await self.conn.execute(
            update(member_tiers).where(member_tiers.c.member_id == member_id).values(**values)
        )
        if result.rowcount == 0:
            await self.conn.execute(insert(member_tiers).values(member_id=member_id, **values))

    async def record_change(
        self,
        member_id: int,
        *,
        before: str | None,
        standing: Standing,
        reason: TierChangeReason,
        upgrade: bool,
        now: datetime,
    ) -> None:
        """A tierChanged event in the outbox, in the transaction that made the change."""
        await self.conn.execute(
            insert(outbox).values(
                topic=TIER_TOPIC,
                member_id=member_id,
                payload={
                    "memberId": member_id,
                    "from": before,
                    "to": standing.tier,
                    "direction": "UP" if upgrade else "DOWN",
                    "reason": reason.value,
                    "since": standing.since.isoformat(),
                    "reviewAt": (
                        standing.period_ends_at.isoformat() if standing.period_ends_at else None
                    ),
                    "occurredAt": now.isoformat(),
                },
                created_at=now,
            )
        )

    async def due(self, now: datetime, limit: int) -> list[int]:
        rows = await self.conn.execute(
            select(member_tiers.c.member_id)
            .where(member_tiers.c.review_at <= now)
            .order_by(member_tiers.c.review_at, member_tiers.c.member_id)
            .limit(limit)
        )
        return [int(m) for (m,) in rows]

    async def is_due(self, member_id: int, now: datetime) -> bool:
        row = await self.conn.execute(
            select(member_tiers.c.member_id).where(
                member_tiers.c.member_id == member_id, member_tiers.c.review_at <= now
            )
        )
        return row.first() is not None

    async def flag_all(self, now: datetime) -> int:
        """After the tiers changed: every member is looked at by the next sweep (to upgrade
        those a lowered threshold now supports, or re-evaluate a dropped tier)."""
        result = await self.conn.execute(update(member_tiers).values(review_at=now))
        return int(result.rowcount)

    async def changes(self, member_id: int) -> list[dict[str, Any]]:
        """The member's tier.changed events, oldest first."""
        rows = await self.conn.execute(
            select(outbox.c.payload)
            .where(outbox.c.topic == TIER_TOPIC, outbox.c.member_id == member_id)
            .order_by(outbox.c.id)
        )
        return [dict(r.payload) for r in rows]
