"""Migration 0014 on a database of 0013: its rewards keep working with no typed value
(null), and it goes down and up again cleanly."""

from __future__ import annotations

import asyncio

from alembic import command
from sqlalchemy import column, insert, table
from sqlalchemy.ext.asyncio import create_async_engine

from app.ledger import migrate
from app.ledger.database import open_database
from app.ledger.uow import UnitOfWork
from tests.ledger.test_migration_0007 import empty_db

__all__ = ["empty_db"]  # the fixture: a fresh database on each backend

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


async def test_0014_leaves_old_rewards_without_a_value(empty_db: str) -> None:
    await asyncio.to_thread(migrate.upgrade, empty_db, "0013")
    engine = create_async_engine(empty_db)
    try:
        async with engine.begin() as conn:
            await conn.execute(
                insert(REWARDS).values(
                    id=1,
                    key="coffee",
                    name="Coffee",
                    description="",
                    kind="DISCOUNT_CODE",
                    discount="1 coffee",
                    cost=10,
                    redeemed=0,
                    active=True,
                )
            )
    finally:
        await engine.dispose()
    await asyncio.to_thread(migrate.upgrade, empty_db, "head")
    await asyncio.to_thread(command.downgrade, migrate.alembic_config(empty_db), "0013")
    await asyncio.to_thread(migrate.upgrade, empty_db, "head")

    db = open_database(empty_db)
    try:
        async with UnitOfWork(db).read() as r:
            found = await r.rewards_by_ids([1])
        coffee = found[1]
        assert (coffee.key, coffee.discount, coffee.value) == ("coffee", "1 coffee", None)
        assert coffee.shown_discount == "1 coffee"
        assert coffee.experience_at is None
    finally:
        await db.dispose()
