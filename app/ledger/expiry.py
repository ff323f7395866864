"""Ledger reads and writes for the expiry sweeps: inactive members, expiry warnings."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, exists, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from app.domain.accounts import TransferKind
from app.domain.events import PointsExpiring
from app.domain.lots import LotState
from app.ledger.outbox import Outbox
from app.ledger.tables import balances, lots, members, transfers

# An earn, a redemption or a staff adjustment counts as activity; so does enrolling.
ACTIVITY_KINDS = (TransferKind.EARN.value, TransferKind.HOLD.value, TransferKind.ADJUST.value)


class ExpiryStore:
    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    def _active_since(self, cutoff: datetime) -> ColumnElement[bool]:
        recent = exists().where(
            transfers.c.member_id == balances.c.member_id,
            transfers.c.kind.in_(ACTIVITY_KINDS),
            transfers.c.occurred_at >= cutoff,
        )
        enrolled_recently = exists().where(
            members.c.id == balances.c.member_id, members.c.enrolled_at >= cutoff
        )
        return or_(recent, enrolled_recently)

    async def inactive_members(self, cutoff: datetime, limit: int) -> list[int]:
        """Members holding available points with no activity (earn, redemption, adjustment,
        enrolment) since `cutoff`."""
        rows = await self.conn.execute(
            select(balances.c.member_id)
            .where(balances.c.available > 0, ~self._active_since(cutoff))
            .order_by(balances.c.member_id)
            .limit(limit)
        )
        return [int(m) for (m,) in rows]

    async def is_inactive(self, member_id: int, cutoff: datetime) -> bool:
        row = await self.conn.execute(
            select(balances.c.member_id).where(
                balances.c.member_id == member_id, ~self._active_since(cutoff)
            )
        )
        return row.first() is not None

    async def spendable_lot_ids(self, member_id: int) -> list[int]:
        rows = await self.conn.execute(
            select(lots.c.id)
            .where(
                lots.c.member_id == member_id,
                lots.c.state == LotState.AVAILABLE,
                lots.c.remaining > 0,
            )
            .order_by(lots.c.id)
        )
        return [int(i) for (i,) in rows]

    async def unwarned(self, until: datetime, limit: int) -> list[tuple[int, datetime, int]]:
        """(member, expires_at, points) of available lots expiring by `until`, not yet warned."""
        rows = await self.conn.execute(
            select(lots.c.member_id, lots.c.expires_at, func.sum(lots.c.remaining))
            .where(
                lots.c.state == LotState.AVAILABLE,
                lots.c.remaining > 0,
                lots.c.warned_at.is_(None),
                lots.c.expires_at.is_not(None),
                lots.c.expires_at <= until,
            )
            .group_by(lots.c.member_id, lots.c.expires_at)
            .order_by(lots.c.member_id, lots.c.expires_at)
            .limit(limit)
        )
        return [(int(m), at, int(p)) for m, at, p in rows]

    async def warn(self, member_id: int, expires_at: datetime, now: datetime) -> int:
        """Write one pointsExpiring event for the member's lots expiring at `expires_at` and
        mark them warned; the mark makes a re-run (or a second sweeper) write nothing."""
        marked = await self.conn.execute(
            update(lots)
            .where(
                lots.c.member_id == member_id,
                lots.c.expires_at == expires_at,
                lots.c.state == LotState.AVAILABLE,
                lots.c.remaining > 0,
                lots.c.warned_at.is_(None),
            )
            .values(warned_at=now)
            .returning(lots.c.remaining)
        )
        points = sum(int(r) for (r,) in marked)
        if points > 0:
            event = PointsExpiring(member_id=member_id, points=points, expires_at=expires_at)
            await Outbox(self.conn).append(event, now=now)
        return points
