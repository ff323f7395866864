"""Tier measures over per-member windows: points earned (less reversals and returned
points already spent) or amount spent (less returns), and the oldest counted item (when a
rolling measure next drops).

A reversal counts when the earn it reverses was made (its order's time), not when the
return came: returning an old order never lowers this year's measure."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Dialect,
    Select,
    Subquery,
    and_,
    bindparam,
    case,
    cast,
    func,
    null,
    or_,
    select,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncConnection

from app.domain.accounts import TransferKind
from app.ledger.tables import orders, transfers, unreversed_points
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


def signed_points(
    within_transfers: ColumnElement[bool], within_unreversed: ColumnElement[bool]
) -> Subquery:
    """Qualifying points as signed rows: earns +, reversals -, and the points a return
    could not take back because they were spent - when they were earned, so what came
    back never counts, spent or not."""
    t, u = transfers.c, unreversed_points.c
    earn = t.kind == TransferKind.EARN.value
    moves = select(
        t.member_id.label("member_id"),
        case((earn, t.amount), else_=-t.amount).label("points"),
        case((earn, counted_at())).label("earned_at"),
    ).where(t.kind.in_([TransferKind.EARN.value, TransferKind.RETURN.value]), within_transfers)
    spent = select(
        u.member_id.label("member_id"),
        (-u.points).label("points"),
        cast(null(), UTCDateTime).label("earned_at"),
    ).where(within_unreversed)
    return union_all(moves, spent).subquery()


def measure_by_member(rows: Subquery) -> Select[Any]:
    return select(
        rows.c.member_id,
        func.sum(rows.c.points).label("points"),
        func.min(rows.c.earned_at).label("oldest"),
    ).group_by(rows.c.member_id)


def since_for(ids: Any, since: Any) -> Subquery:
    """Signed points of the members `ids` since `since` (both may be bind parameters)."""
    u = unreversed_points.c
    return signed_points(
        and_(transfers.c.member_id.in_(ids), counted_at() >= since),
        and_(u.member_id.in_(ids), u.counts_at >= since),
    )


# Built once (building costs as much as running it): members since one moment.
_POINTS = measure_by_member(
    since_for(bindparam("ids", expanding=True), bindparam("since", type_=UTCDateTime))
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
            u = unreversed_points.c
            rows = signed_points(
                _within(counted_at(), transfers.c.member_id, windows),
                _within(u.counts_at, u.member_id, windows),
            )
            found = await self.conn.execute(measure_by_member(rows))
        measured: dict[int, Measured] = dict.fromkeys(windows, (0, None))
        for member_id, points, first_at in found:
            measured[member_id] = (max(0, int(points or 0)), utc(first_at, self.conn.dialect))
        return measured

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
