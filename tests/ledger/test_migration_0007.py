"""Migration 0007 on data written before it: members get a standing that the next sweep
evaluates, old reversals count when their order was made, activities find their earn."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from sqlalchemy import column, insert, select, table
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from app.ledger import migrate
from app.ledger.tables import activities, member_tiers, transfers
from app.ledger.types import DecimalText, UTCDateTime
from app.services.sweeps import run_sweeps
from tests.backends import POSTGRES_ENV, plain_dsn
from tests.ledger.harness import Ledger

AT = datetime(2025, 11, 2, 9, 30, tzinfo=UTC)
RETURNED_AT = AT + timedelta(days=20)


def _t(name: str, *cols: Any) -> Any:
    """A table as it stood at 0006: only the columns these inserts give."""
    return table(name, *(c if not isinstance(c, str) else column(c) for c in cols))


MEMBERS = _t("members", "id", "external_id", column("enrolled_at", UTCDateTime()))
BALANCES = _t(
    "balances",
    "member_id",
    "available",
    "pending",
    "held",
    "lifetime_earned",
    "version",
    column("updated_at", UTCDateTime()),
)
ORDERS = _t(
    "orders",
    "id",
    "order_ref",
    "member_id",
    column("amount", DecimalText()),
    "currency",
    "channel",
    "points_earned",
    column("returned_amount", DecimalText()),
    "points_reversed",
    "shortfall",
    column("occurred_at", UTCDateTime()),
    column("created_at", UTCDateTime()),
)
TRANSFERS = _t(
    "transfers",
    "id",
    "kind",
    "member_id",
    "debit_account",
    "credit_account",
    "amount",
    "order_id",
    "reference",
    column("occurred_at", UTCDateTime()),
    column("created_at", UTCDateTime()),
)
ACTIVITIES = _t(
    "activities",
    "id",
    "member_id",
    "kind",
    "reference",
    "dedupe_key",
    "points",
    column("occurred_at", UTCDateTime()),
    column("created_at", UTCDateTime()),
)


@pytest.fixture(params=["sqlite", "postgres"])
def empty_db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database with nothing in it yet (not the shared, migrated test database)."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'old.db'}"
        return
    request.getfixturevalue("_postgres")  # skips or fails, as every PostgreSQL test
    base = make_url(os.environ[POSTGRES_ENV])
    name = f"tally_mig_{uuid.uuid4().hex[:8]}"

    async def admin(sql: str) -> None:
        conn = await asyncpg.connect(plain_dsn(base.render_as_string(hide_password=False)))
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(admin(f'CREATE DATABASE "{name}"'))
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def _write_old_data(url: str) -> None:
    engine = create_async_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.execute(insert(MEMBERS).values(id=1, external_id="old", enrolled_at=AT))
            await conn.execute(
                insert(BALANCES).values(
                    member_id=1,
                    available=1150,
                    pending=0,
                    held=0,
                    lifetime_earned=1150,
                    version=3,
                    updated_at=RETURNED_AT,
                )
            )
            await conn.execute(
                insert(ORDERS).values(
                    id=1,
                    order_ref="o-1",
                    member_id=1,
                    amount=Decimal("1200"),
                    currency="EUR",
                    channel="POS",
                    points_earned=1200,
                    returned_amount=Decimal("100"),
                    points_reversed=100,
                    shortfall=0,
                    occurred_at=AT,
                    created_at=AT,
                )
            )
            common = {"member_id": 1, "created_at": AT}
            await conn.execute(
                insert(TRANSFERS),
                [
                    {
                        **common,
                        "id": 1,
                        "kind": "EARN",
                        "debit_account": "issued",
                        "credit_account": "available",
                        "amount": 1200,
                        "order_id": 1,
                        "reference": "o-1",
                        "occurred_at": AT,
                    },
                    {
                        **common,
                        "id": 2,
                        "kind": "RETURN",
                        "debit_account": "available",
                        "credit_account": "issued",
                        "amount": 100,
                        "order_id": 1,
                        "reference": "o-1",
                        "occurred_at": RETURNED_AT,
                    },
                    {
                        **common,
                        "id": 3,
                        "kind": "EARN",
                        "debit_account": "issued",
                        "credit_account": "available",
                        "amount": 50,
                        "order_id": None,
                        "reference": "activity:REVIEW",
                        "occurred_at": AT,
                    },
                ],
            )
            await conn.execute(
                insert(ACTIVITIES).values(
                    id=1,
                    member_id=1,
                    kind="REVIEW",
                    reference="rv-1",
                    dedupe_key="REVIEW:1:rv-1",
                    points=50,
                    occurred_at=AT,
                    created_at=AT,
                )
            )
    finally:
        await engine.dispose()


async def test_0007_on_existing_data(empty_db: str) -> None:
    await asyncio.to_thread(migrate.upgrade, empty_db, "0006")
    await _write_old_data(empty_db)
    await asyncio.to_thread(migrate.upgrade, empty_db)

    engine = create_async_engine(empty_db)
    try:
        async with engine.connect() as conn:
            standing = (await conn.execute(select(member_tiers))).one()
            counts = dict((await conn.execute(select(transfers.c.id, transfers.c.counts_at))).all())
            linked = (await conn.execute(select(activities.c.transfer_id))).scalar_one()
    finally:
        await engine.dispose()
    assert (standing.member_id, standing.tier_key, standing.review_at) == (1, None, AT)
    assert counts == {1: None, 2: AT, 3: None}  # the reversal counts when o-1 was made
    assert linked == 3

    ledger = await Ledger.open(empty_db)  # gold at 1000 points in 365 days
    async with ledger:
        ledger.clock.current = AT + timedelta(days=30)
        await run_sweeps(ledger.uow, ledger.clock)
        tier = (await ledger.queries.tiers([1]))[1]
        assert (tier.current.key, tier.qualifying_points) == ("gold", 1150)
        assert tier.review_at == ledger.clock.now() + timedelta(days=365)


REFERRALS = _t(
    "referrals",
    "id",
    "referrer_id",
    "referee_id",
    "order_id",
    "referrer_points",
    "referee_points",
    "status",
    column("awarded_at", UTCDateTime()),
)


async def _old_reversed_referral(url: str, *, clawed_back: int) -> None:
    """At 0006: bob's first order (10 EUR, its points spent) brought ann a 1200-point
    referral award; bob returned the order in full, so the referral was reversed, and
    ann's claw-back took `clawed_back` of the award (what she still had)."""
    await asyncio.to_thread(migrate.upgrade, url, "0006")
    engine = create_async_engine(url)
    try:
        async with engine.begin() as conn:
            for member_id, external_id in ((1, "ann"), (2, "bob")):
                await conn.execute(
                    insert(MEMBERS).values(id=member_id, external_id=external_id, enrolled_at=AT)
                )
                await conn.execute(
                    insert(BALANCES).values(
                        member_id=member_id,
                        available=0,
                        pending=0,
                        held=0,
                        lifetime_earned=1200 - clawed_back if member_id == 1 else 0,
                        version=1,
                        updated_at=AT,
                    )
                )
            await conn.execute(
                insert(ORDERS).values(
                    id=1,
                    order_ref="o-1",
                    member_id=2,
                    amount=Decimal("10"),
                    currency="EUR",
                    channel="POS",
                    points_earned=10,
                    returned_amount=Decimal("10"),
                    points_reversed=0,
                    shortfall=10,
                    occurred_at=AT,
                    created_at=AT,
                )
            )
            await conn.execute(
                insert(REFERRALS).values(
                    id=1,
                    referrer_id=1,
                    referee_id=2,
                    order_id=1,
                    referrer_points=1200,
                    referee_points=0,
                    status="REVERSED",
                    awarded_at=AT,
                )
            )
            common = {"member_id": 1, "order_id": None}
            rows = [
                {
                    **common,
                    "id": 1,
                    "kind": "EARN",
                    "debit_account": "issued",
                    "credit_account": "available",
                    "amount": 1200,
                    "reference": "referral:bob",
                    "occurred_at": AT,
                    "created_at": AT,
                }
            ]
            if clawed_back:
                rows.append(
                    {
                        **common,
                        "id": 2,
                        "kind": "RETURN",
                        "debit_account": "available",
                        "credit_account": "issued",
                        "amount": clawed_back,
                        "reference": "referral:reversed",
                        "occurred_at": RETURNED_AT,
                        "created_at": RETURNED_AT,
                    }
                )
            await conn.execute(insert(TRANSFERS), rows)
    finally:
        await engine.dispose()
    await asyncio.to_thread(migrate.upgrade, url)


@pytest.mark.parametrize("clawed_back", [0, 500, 1200])
async def test_0007_on_a_reversed_referral(tmp_path: Path, clawed_back: int) -> None:
    """The claw-back (no order of its own) counts when the award was made, and what it
    could not take back (spent) leaves the tier measure: ann ends with nothing counted."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'old.db'}"
    await _old_reversed_referral(url, clawed_back=clawed_back)
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            counts = dict((await conn.execute(select(transfers.c.id, transfers.c.counts_at))).all())
    finally:
        await engine.dispose()
    if clawed_back:
        assert counts[2] == AT
    ledger = await Ledger.open(url)  # gold at 1000
    async with ledger:
        ledger.clock.current = AT + timedelta(days=30)
        await run_sweeps(ledger.uow, ledger.clock)
        tier = (await ledger.queries.tiers([1]))[1]
        assert (tier.current.key, tier.qualifying_points) == ("member", 0)
