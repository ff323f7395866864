"""Tier measures over per-member windows: points earned (less reversals) or amount spent
(less returns), and the oldest counted item (when a rolling measure next drops).

A reversal counts when the earn it reverses was made (its order's time), not when the
return came: returning an old order never lowers this year's measure."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, Dialect, Select, and_, bindparam, func, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from app.domain.accounts import TransferKind
from app.ledger.tables import orders, transfers
from app.ledger.types import UTCDateTime

Window = tuple[datetime, datetime | None]  # [since, until); until None: open-ended
Measured = tuple[int, datetime | None]  # the measure, and the oldest item counted


def counted_at() -> ColumnElement[datetime]:
    """When a points transfer counts for tiers: `counts_at` if set (reversals), else when
    it occurred."""
    return func.coalesce(transfers.c.counts_at, transfers.c.occurred_at)


def _within(column: Any, member_column: Any, windows: Mapping[int, Window]) -> ColumnElement[bool]:
    """Members grouped by window: one `IN` per distinct window (usually just one)."""
    groups: dict[Window, list[int]] = defaultdict(list)
    for member_id, window in windows.items():
        groups[window].append(member_id)
    clauses = []
    for (since, until), ids in groups.items():
        parts = [member_column.in_(ids), column >= since]
        if until is not None:
            parts.append(column < until)
        clauses.append(and_(*parts))
    return or_(*clauses)


def _points_query(within: ColumnElement[bool]) -> Select[Any]:
    t = transfers.c
    return (
        select(t.member_id, t.kind, func.sum(t.amount), func.min(counted_at()))
        .where(t.kind.in_([TransferKind.EARN.value, TransferKind.RETURN.value]), within)
        .group_by(t.member_id, t.kind)
    )


# Built once (building costs as much as running it): members since one moment.
_POINTS = _points_query(
    and_(
        transfers.c.member_id.in_(bindparam("ids", expanding=True)),
        counted_at() >= bindparam("since", type_=UTCDateTime),
    )
)


class TierMeasures:
    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def points(self, windows: Mapping[int, Window]) -> dict[int, Measured]:
        """Per member: points earned in the window less their reversals, and the oldest
        earn counted, in one query."""
        if not windows:
            return {}
        shared = set(windows.values())
        if len(shared) == 1 and next(iter(shared))[1] is None:  # the common case, prebuilt
            since = next(iter(shared))[0]
            found = await self.conn.execute(_POINTS, {"ids": list(windows), "since": since})
        else:
            found = await self.conn.execute(
                _points_query(_within(counted_at(), transfers.c.member_id, windows))
            )
        points: dict[int, int] = dict.fromkeys(windows, 0)
        oldest: dict[int, datetime | None] = dict.fromkeys(windows)
        for member_id, kind, amount, first_at in found:
            if kind == TransferKind.EARN.value:
                points[member_id] += int(amount)
                oldest[member_id] = utc(first_at, self.conn.dialect)
            else:
                points[member_id] -= int(amount)
        return {k: (max(0, points[k]), oldest[k]) for k in points}

    async def spend(self, windows: Mapping[int, Window]) -> dict[int, Measured]:
        """Per member: whole currency units spent in the window (less returns), and the
        oldest such order. Amounts are exact decimals, so they are added up here."""
        if not windows:
            return {}
        o = orders.c
        rows = await self.conn.execute(
            select(o.member_id, o.amount, o.returned_amount, o.occurred_at).where(
                _within(o.occurred_at, o.member_id, windows)
            )
        )
        totals: dict[int, Decimal] = {i: Decimal(0) for i in windows}
        oldest: dict[int, datetime | None] = dict.fromkeys(windows)
        for member_id, amount, returned, at in rows:
            totals[member_id] += amount - returned
            first = oldest[member_id]
            oldest[member_id] = at if first is None or at < first else first
        return {i: (max(0, int(totals[i])), oldest[i]) for i in windows}


def utc(value: object, dialect: Dialect) -> datetime | None:
    """An aggregate (MIN) of a UTC column comes back raw on SQLite: make it aware UTC."""
    return UTCDateTime().process_result_value(value, dialect)
