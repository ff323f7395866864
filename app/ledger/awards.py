"""Rule awards: what each earning rule gave each member, for caps per period."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from app.ledger.tables import activities, rule_awards


class AwardStore:
    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def given_within(
        self, member_id: int, periods: Mapping[str, tuple[datetime, datetime]]
    ) -> dict[str, int]:
        """Per rule key: points the rule gave the member within that rule's cap period
        [start, end) (a backdated purchase is capped by its own period, not by later ones)."""
        found: dict[str, int] = {}
        for rule_key, (since, until) in periods.items():
            total = await self.conn.execute(
                select(func.coalesce(func.sum(rule_awards.c.points), 0)).where(
                    rule_awards.c.member_id == member_id,
                    rule_awards.c.rule_key == rule_key,
                    rule_awards.c.occurred_at >= since,
                    rule_awards.c.occurred_at < until,
                )
            )
            found[rule_key] = int(total.scalar_one())
        return found

    async def record(
        self,
        *,
        member_id: int,
        awards: Mapping[str, int],
        occurred_at: datetime,
        order_id: int | None = None,
        activity_id: int | None = None,
    ) -> None:
        rows = [
            {
                "member_id": member_id,
                "order_id": order_id,
                "activity_id": activity_id,
                "rule_key": key,
                "points": points,
                "occurred_at": occurred_at,
            }
            for key, points in awards.items()
            if points > 0
        ]
        if rows:
            await self.conn.execute(insert(rule_awards), rows)


class ActivityStore:
    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def create(
        self,
        *,
        member_id: int,
        kind: str,
        reference: str | None,
        dedupe_key: str,
        occurred_at: datetime,
        now: datetime,
    ) -> int | None:
        """The new activity's id, or None when `dedupe_key` was recorded before."""
        exists_already = await self.conn.execute(
            select(activities.c.id).where(activities.c.dedupe_key == dedupe_key)
        )
        if exists_already.first() is not None:
            return None
        result = await self.conn.execute(
            insert(activities)
            .values(
                member_id=member_id,
                kind=kind,
                reference=reference,
                dedupe_key=dedupe_key,
                occurred_at=occurred_at,
                created_at=now,
            )
            .returning(activities.c.id)
        )
        return int(result.scalar_one())

    async def set_earned(
        self,
        activity_id: int,
        points: int,
        explanation: list[dict[str, Any]],
        transfer_id: int | None = None,
    ) -> None:
        """What the activity earned, why, and the earn's transfer (its ledger entries show
        the explanation)."""
        await self.conn.execute(
            update(activities)
            .where(activities.c.id == activity_id)
            .values(points=points, explanation=explanation, transfer_id=transfer_id)
        )
