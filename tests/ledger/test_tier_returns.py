"""Returns and tiers: a return takes back exactly the tiers its earn helped reach, and
nothing else; members from before stored tiers; a program change racing an earn."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import update

from app.ledger.tables import member_tiers
from app.services import earn as earn_service
from app.services.program import apply_program
from app.services.sweeps import run_sweeps
from app.services.tiers import review_tiers
from tests.ledger.test_tier_lifecycle import changes, open_tiered, tier_of, tiered


def never_downgrade_silver() -> dict[str, Any]:
    data = tiered()
    data["tiers"][1]["never_downgrade"] = True
    return data


async def as_before_stored_tiers(ledger: Any, member: int) -> None:
    """What migration 0007 leaves for a member enrolled before tiers were stored."""
    async with ledger.uow.write() as tx:
        await tx.conn.execute(
            update(member_tiers)
            .where(member_tiers.c.member_id == member)
            .values(tier_key=None, earlier=None, review_at=ledger.clock.now())
        )


async def test_a_later_unrelated_return_keeps_a_never_downgrade_tier(db_url: str) -> None:
    ledger = await open_tiered(db_url, never_downgrade_silver())
    try:
        m = await ledger.enroll("lifer")
        assert (await ledger.purchase(m, "o-1", "600")).data["upgradedTo"] == "silver"
        ledger.clock.advance(days=400)  # the rolling measure has forgotten o-1
        await run_sweeps(ledger.uow, ledger.clock)
        await ledger.purchase(m, "o-2", "20")
        assert (await ledger.return_("o-2", "20")).ok
        assert (await tier_of(ledger, m)).current.key == "silver"
    finally:
        await ledger.close()


async def test_returning_a_later_upgrade_goes_back_to_the_tier_held_before(
    db_url: str,
) -> None:
    ledger = await open_tiered(db_url, never_downgrade_silver())
    try:
        m = await ledger.enroll("lifer2")
        await ledger.purchase(m, "o-1", "600")  # silver, for good
        ledger.clock.advance(days=400)
        assert (await ledger.purchase(m, "o-2", "1200")).data["upgradedTo"] == "gold"
        assert (await ledger.return_("o-2", "1200")).ok
        assert (await tier_of(ledger, m)).current.key == "silver"
    finally:
        await ledger.close()


async def test_buying_and_returning_a_tier_restores_the_old_review_date(db_url: str) -> None:
    ledger = await open_tiered(db_url)
    try:
        m = await ledger.enroll("gamer")
        await ledger.purchase(m, "o-1", "600")  # silver, reviewed a year on
        silver = await tier_of(ledger, m)
        ledger.clock.advance(days=300)
        assert (await ledger.purchase(m, "o-2", "1200")).data["upgradedTo"] == "gold"
        assert (await ledger.return_("o-2", "1200")).ok
        tier = await tier_of(ledger, m)
        assert (tier.current.key, tier.since, tier.review_at) == (
            "silver",
            silver.since,
            silver.review_at,
        )
    finally:
        await ledger.close()


async def test_returning_an_order_from_before_the_window_keeps_a_current_upgrade(
    db_url: str,
) -> None:
    data = tiered(flat=True)
    data["tiers"] = data["tiers"][:3]  # member, silver 500, gold 1000
    ledger = await open_tiered(db_url, data)
    try:
        m = await ledger.enroll("old-return")
        await ledger.purchase(m, "o-1", "400")
        ledger.clock.advance(days=380)  # o-1 has left the rolling window
        assert (await ledger.purchase(m, "o-2", "1000")).data["upgradedTo"] == "gold"
        assert (await ledger.return_("o-1", "400")).ok  # counted when o-1 was made
        tier = await tier_of(ledger, m)
        assert (tier.current.key, tier.qualifying_points) == ("gold", 1000)
    finally:
        await ledger.close()


async def test_a_member_from_before_stored_tiers_who_earns_first_is_not_upgraded_again(
    db_url: str,
) -> None:
    ledger = await open_tiered(db_url)
    try:
        m = await ledger.enroll("veteran")
        await ledger.purchase(m, "o-1", "1200")
        await as_before_stored_tiers(ledger, m)
        before = await changes(ledger, m)
        ledger.clock.advance(days=1)
        out = await ledger.purchase(m, "o-2", "10")  # before any sweep
        assert out.data["tier"] == "gold"
        assert "upgradedTo" not in out.data
        assert await changes(ledger, m) == before
        await ledger.return_("o-2", "10")
        await ledger.return_("o-1", "300")  # the measure falls to silver's: kept gold
        assert (await tier_of(ledger, m)).current.key == "gold"
    finally:
        await ledger.close()


async def test_a_program_change_while_an_earn_is_in_flight_is_still_applied(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PostgreSQL only: SQLite's single writer cannot activate a program mid-earn."""
    ledger = await open_tiered(postgres_url, tiered(flat=True))
    try:
        m = await ledger.enroll("racer")
        reached, resume = asyncio.Event(), asyncio.Event()
        original = earn_service.follow_earn

        async def paused(*args: Any, **kw: Any) -> Any:
            reached.set()
            await resume.wait()
            return await original(*args, **kw)

        monkeypatch.setattr(earn_service, "follow_earn", paused)
        buying = asyncio.create_task(ledger.purchase(m, "o-1", "600"))
        await reached.wait()
        cheaper = tiered(flat=True)
        cheaper["tiers"][2]["threshold"] = 550  # gold now at 550
        await apply_program(ledger.uow, ledger.clock, cheaper)
        resume.set()
        assert (await buying).data["upgradedTo"] == "silver"  # decided under the old tiers
        assert await review_tiers(ledger.uow, ledger.clock) == 1
        assert (await tier_of(ledger, m)).current.key == "gold"  # 600 >= 550
    finally:
        await ledger.close()
