"""Everything Tally holds on one member, table by table, for an access request (GDPR
article 15): the member row and every row that names the member."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Table, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from app.domain.records import MemberExport
from app.ledger.tables import (
    activities,
    audit_log,
    balances,
    checkout_carts,
    entries,
    lot_holds,
    lots,
    member_tiers,
    members,
    orders,
    redemption_events,
    redemptions,
    referrals,
    rule_awards,
    transfers,
    unreversed_points,
)

#: Tables with a member_id column, in the order an export lists them. The outbox is left
#: out: it holds the same changes as `transfers`, for delivery.
_BY_MEMBER: tuple[Table, ...] = (
    balances,
    member_tiers,
    orders,
    transfers,
    entries,
    lots,
    redemptions,
    redemption_events,
    checkout_carts,
    activities,
    rule_awards,
    unreversed_points,
    audit_log,
)


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


async def _rows(conn: AsyncConnection, query: Any) -> tuple[dict[str, object], ...]:
    return tuple(
        {key: _plain(value) for key, value in row._mapping.items()}
        for row in await conn.execute(query)
    )


async def member_export(conn: AsyncConnection, member_id: int) -> MemberExport | None:
    found = await _rows(conn, select(members).where(members.c.id == member_id))
    if not found:
        return None
    tables: dict[str, tuple[dict[str, object], ...]] = {}
    for table in _BY_MEMBER:
        key = "id" if "id" in table.c else next(iter(table.primary_key.columns)).name
        query = select(table).where(table.c.member_id == member_id).order_by(table.c[key])
        tables[table.name] = await _rows(conn, query)
    lot_ids = [lot["id"] for lot in tables["lots"]]
    tables["lot_holds"] = (
        await _rows(conn, select(lot_holds).where(lot_holds.c.lot_id.in_(lot_ids)))
        if lot_ids
        else ()
    )
    tables["referrals"] = await _rows(
        conn,
        select(referrals)
        .where(or_(referrals.c.referrer_id == member_id, referrals.c.referee_id == member_id))
        .order_by(referrals.c.id),
    )
    return MemberExport(member=found[0], tables=tables)
