"""Rule awards: what each earning rule gave each member, for caps per period."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from app.ledger.tables import rule_awards


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
        self, *, member_id: int, order_id: int, awards: Mapping[str, int], occurred_at: datetime
    ) -> None:
        rows = [
            {
                "member_id": member_id,
                "order_id": order_id,
                "rule_key": key,
                "points": points,
                "occurred_at": occurred_at,
            }
            for key, points in awards.items()
            if points > 0
        ]
        if rows:
            await self.conn.execute(insert(rule_awards), rows)
