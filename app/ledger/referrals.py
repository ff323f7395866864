"""Referral awards: one per referee, counted per referrer for caps, reversible once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from app.ledger.tables import referrals


@dataclass(frozen=True, slots=True)
class Referral:
    id: int
    referrer_id: int
    referee_id: int
    order_id: int
    referrer_points: int
    referee_points: int
    status: str


class ReferralStore:
    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def for_referee(self, referee_id: int) -> Referral | None:
        row = (
            await self.conn.execute(select(referrals).where(referrals.c.referee_id == referee_id))
        ).one_or_none()
        return None if row is None else _referral(row)

    async def for_order(self, order_id: int) -> Referral | None:
        row = (
            await self.conn.execute(select(referrals).where(referrals.c.order_id == order_id))
        ).one_or_none()
        return None if row is None else _referral(row)

    async def rewarded_referrals(self, referrer_id: int, since: datetime, until: datetime) -> int:
        """How many referrals earned this referrer points in [since, until)."""
        count = await self.conn.execute(
            select(func.count()).where(
                referrals.c.referrer_id == referrer_id,
                referrals.c.referrer_points > 0,
                referrals.c.status == "AWARDED",
                referrals.c.awarded_at >= since,
                referrals.c.awarded_at < until,
            )
        )
        return int(count.scalar_one())

    async def create(
        self,
        *,
        referrer_id: int,
        referee_id: int,
        order_id: int,
        referrer_points: int,
        referee_points: int,
        awarded_at: datetime,
    ) -> None:
        await self.conn.execute(
            insert(referrals).values(
                referrer_id=referrer_id,
                referee_id=referee_id,
                order_id=order_id,
                referrer_points=referrer_points,
                referee_points=referee_points,
                status="AWARDED",
                awarded_at=awarded_at,
            )
        )

    async def reverse(self, referral_id: int) -> bool:
        result = await self.conn.execute(
            update(referrals)
            .where(referrals.c.id == referral_id, referrals.c.status == "AWARDED")
            .values(status="REVERSED")
        )
        return bool(result.rowcount == 1)


def _referral(r: Any) -> Referral:
    return Referral(
        id=r.id,
        referrer_id=r.referrer_id,
        referee_id=r.referee_id,
        order_id=r.order_id,
        referrer_points=r.referrer_points,
        referee_points=r.referee_points,
        status=r.status,
    )
