"""Tier measures: points or spend, over a rolling year or the calendar year."""

from __future__ import annotations

from datetime import UTC, datetime

from tests.ledger.harness import Ledger


async def test_spend_over_the_calendar_year(db_url: str) -> None:
    ledger = await Ledger.open(
        db_url, points_per_unit="10", tier_measure="SPEND", tier_window="CALENDAR_YEAR"
    )
    try:
        ledger.clock.current = datetime(2026, 6, 1, tzinfo=UTC)
        m = await ledger.enroll("spender")
        assert (await ledger.purchase(m, "o-1", "600")).ok
        tier = (await ledger.queries.tiers([m]))[m]
        assert (tier.current.key, tier.qualifying_points, tier.points_to_next) == (
            "member",
            600,
            400,
        )
        assert tier.period_ends_at == datetime(2027, 1, 1, tzinfo=UTC)
        assert (await ledger.purchase(m, "o-2", "450")).value.points == 4500  # x1 still
        assert (await ledger.queries.tiers([m]))[m].current.key == "gold"
        assert (await ledger.purchase(m, "o-3", "10")).value.points == 200  # gold: x2
        assert (await ledger.return_("o-2", "450")).ok  # returns lower the spend
        assert (await ledger.queries.tiers([m]))[m].qualifying_points == 610
        ledger.clock.current = datetime(2027, 1, 1, tzinfo=UTC)  # a new year starts at zero
        assert (await ledger.queries.tiers([m]))[m].qualifying_points == 0
    finally:
        await ledger.close()


async def test_points_over_a_rolling_year_stay_the_default(db_url: str) -> None:
    ledger = await Ledger.open(db_url)
    async with ledger:
        m = await ledger.enroll("pointy")
        assert (await ledger.purchase(m, "o-1", "1000")).ok
        tier = (await ledger.queries.tiers([m]))[m]
        assert (tier.current.key, tier.qualifying_points) == ("gold", 1000)
