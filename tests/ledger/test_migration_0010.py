"""Migration 0010 on redemptions written before it: each gets the history that is known
(HELD when created, then FULFILLED or CANCELLED when resolved), numbered per member in time
order, and its codes become findable by a till; then the lifecycle goes on from there."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from sqlalchemy import JSON, column, insert, table
from sqlalchemy.ext.asyncio import create_async_engine

from app.domain.rewards import RedemptionStatus as S
from app.ledger import migrate
from app.ledger.database import open_database
from app.ledger.types import UTCDateTime
from app.ledger.uow import UnitOfWork
from tests.ledger.test_migration_0007 import empty_db

__all__ = ["empty_db"]  # the fixture: a fresh database on each backend

AT = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
MEMBERS = table(
    "members", column("id"), column("external_id"), column("enrolled_at", UTCDateTime())
)
REWARDS = table(
    "rewards",
    column("id"),
    column("key"),
    column("name"),
    column("description"),
    column("kind"),
    column("discount"),
    column("cost"),
    column("redeemed"),
    column("active"),
)
REDEMPTIONS = table(
    "redemptions",
    column("id"),
    column("member_id"),
    column("reward_id"),
    column("quantity"),
    column("points"),
    column("status"),
    column("codes", JSON()),
    column("created_at", UTCDateTime()),
    column("resolved_at", UTCDateTime()),
)


async def test_0010_gives_old_redemptions_a_history_and_findable_codes(empty_db: str) -> None:
    await asyncio.to_thread(migrate.upgrade, empty_db, "0009")
    engine = create_async_engine(empty_db)
    try:
        async with engine.begin() as conn:
            await conn.execute(
                insert(MEMBERS),
                [{"id": i, "external_id": f"m{i}", "enrolled_at": AT} for i in (1, 2)],
            )
            await conn.execute(
                insert(REWARDS).values(
                    id=1,
                    key="coffee",
                    name="Coffee",
                    description="",
                    kind="DISCOUNT_CODE",
                    discount="1 coffee",
                    cost=10,
                    redeemed=3,
                    active=True,
                )
            )
            rows = [  # member 1: held, then cancelled a day later; a later one still held
                (1, 1, "CANCELLED", ["TLY-AAAA-AAAA-AAAA"], AT, AT + timedelta(days=1)),
                (
                    2,
                    1,
                    "HELD",
                    ["TLY-BBBB-BBBB-BBBB", "TLY-CCCC-CCCC-CCCC"],
                    AT + timedelta(hours=1),
                    None,
                ),
                (3, 2, "FULFILLED", ["TLY-DDDD-DDDD-DDDD"], AT, AT + timedelta(hours=2)),
            ]
            await conn.execute(
                insert(REDEMPTIONS),
                [
                    {
                        "id": i,
                        "member_id": m,
                        "reward_id": 1,
                        "quantity": len(c),
                        "points": 10 * len(c),
                        "status": s,
                        "codes": c,
                        "created_at": made,
                        "resolved_at": done,
                    }
                    for i, m, s, c, made, done in rows
                ],
            )
    finally:
        await engine.dispose()
    await asyncio.to_thread(migrate.upgrade, empty_db, "head")

    db = open_database(empty_db)
    try:
        uow = UnitOfWork(db)
        async with uow.read() as r:
            one = await r.redemption_changes(1, after_version=0)
            two = await r.redemption_changes(2, after_version=0)
            by_code = await r.redemption_by_code("TLY-CCCC-CCCC-CCCC")
            history = await r.redemption_histories([1, 2, 3])
        assert [(c.redemption_id, c.status, c.version) for c in one] == [
            (1, S.HELD, 1),
            (2, S.HELD, 2),
            (1, S.CANCELLED, 3),
        ]
        assert [(c.redemption_id, c.status) for c in two] == [(3, S.HELD), (3, S.FULFILLED)]
        assert all(c.actor == "migration" for c in one + two)
        assert by_code is not None
        assert (by_code.id, by_code.kind.value) == (2, "DISCOUNT_CODE")
        assert [c.status for c in history[1]] == [S.HELD, S.CANCELLED]
        assert history[1][1].at == AT + timedelta(days=1)
    finally:
        await db.dispose()
