"""Tier standings: one row per member, the tier.changed events, the reviews that are due."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import BindParameter, ColumnElement, Select, bindparam, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from app.domain.events import TierChanged, Topic
from app.domain.tiers.lifecycle import PriorStanding, Standing, TierChangeReason
from app.ledger.outbox import Outbox
from app.ledger.tables import member_tiers
from app.ledger.tiers.measures import Measured, measure_by_member, since_for, utc
from app.ledger.types import UTCDateTime


def _at(raw: str | None) -> datetime | None:
    return datetime.fromisoformat(raw) if raw else None


def _standing(row: Any) -> Standing:
    earlier = tuple(
        PriorStanding(
            r["tier"],
            datetime.fromisoformat(r["since"]),
            _at(r.get("periodEndsAt")),
            _at(r.get("graceUntil")),
            datetime.fromisoformat(r["changedAt"]),
        )
        for r in row.earlier or ()
    )
    return Standing(
        tier=row.tier_key,
        since=row.since,
        settled_at=row.settled_at,
        period_ends_at=row.period_ends_at,
        grace_until=row.grace_until,
        earlier=earlier,
    )


def _earlier_data(standing: Standing) -> list[dict[str, Any]] | None:
    if not standing.earlier:
        return None
    return [
        {
            "tier": r.tier,
            "since": r.since.isoformat(),
            "periodEndsAt": r.period_ends_at.isoformat() if r.period_ends_at else None,
            "graceUntil": r.grace_until.isoformat() if r.grace_until else None,
            "changedAt": r.changed_at.isoformat(),
        }
        for r in standing.earlier
    ]


def _with_points() -> Select[Any]:
    """Built once: a viewer's tier is read on every app open, and building the statement
    costs as much as running it."""
    ids: BindParameter[Any] = bindparam("ids", expanding=True)
    measured = measure_by_member(since_for(ids, bindparam("since", type_=UTCDateTime))).subquery()
    return (
        select(member_tiers, measured.c.points, measured.c.oldest)
        .select_from(
            member_tiers.outerjoin(measured, measured.c.member_id == member_tiers.c.member_id)
        )
        .where(member_tiers.c.member_id.in_(ids))
    )


_WITH_POINTS = _with_points()


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

    async def with_points(
        self, ids: Sequence[int], since: datetime
    ) -> dict[int, tuple[Standing, Measured]]:
        """Standings and the POINTS measure since `since` in one statement (what a
        member's tier progress needs, in one round trip)."""
        rows = await self.conn.execute(_WITH_POINTS, {"ids": list(ids), "since": since})
        dialect = self.conn.dialect
        return {
            r.member_id: (_standing(r), (max(0, int(r.points or 0)), utc(r.oldest, dialect)))
            for r in rows
        }

    async def save(
        self, member_id: int, standing: Standing, now: datetime, *, program_version: int
    ) -> None:
        """Store the standing, computed under `program_version` (the caller holds the
        member's lock, so update-or-insert cannot race)."""
        values = {
            "tier_key": standing.tier,
            "since": standing.since,
            "settled_at": standing.settled_at,
            "period_ends_at": standing.period_ends_at,
            "grace_until": standing.grace_until,
            "review_at": standing.review_at,
            "earlier": _earlier_data(standing),
            "program_version": program_version,
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
        event = TierChanged(
            member_id=member_id,
            from_tier=before,
            to_tier=standing.tier,
            direction="UP" if upgrade else "DOWN",
            reason=reason.value,
            since=standing.since,
            review_at=standing.period_ends_at,
            grace_ends_at=standing.grace_until,
            occurred_at=now,
        )
        await Outbox(self.conn).append(event, now=now)

    @staticmethod
    def _due(now: datetime, tiers_since: int) -> ColumnElement[bool]:
        """A period (or grace) ended, or the standing predates the program version from
        which the tiers stand as they do now (a change of tiers: everyone is looked at)."""
        c = member_tiers.c
        return or_(c.review_at <= now, c.program_version < tiers_since)

    async def due(self, now: datetime, tiers_since: int, limit: int) -> list[int]:
        rows = await self.conn.execute(
            select(member_tiers.c.member_id)
            .where(self._due(now, tiers_since))
            .order_by(member_tiers.c.member_id)
            .limit(limit)
        )
        return [int(m) for (m,) in rows]

    async def is_due(self, member_id: int, now: datetime, tiers_since: int) -> bool:
        row = await self.conn.execute(
            select(member_tiers.c.member_id).where(
                member_tiers.c.member_id == member_id, self._due(now, tiers_since)
            )
        )
        return row.first() is not None

    async def changes(self, member_id: int) -> list[dict[str, Any]]:
        """The member's tier.changed events, oldest first, as their stored payloads."""
        events = await Outbox(self.conn).of_member(member_id, Topic.TIER_CHANGED)
        return [event.payload() for event in events]
