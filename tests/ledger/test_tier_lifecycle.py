"""The tier lifecycle on a real ledger: upgrades in the earn's transaction, returned
upgrades, reviews at period ends with each downgrade policy, grace, never-downgrade tiers,
tierChanged events, and a sweep that is safe to run twice at once. A controlled clock."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import update

from app.ledger.tables import member_tiers
from app.services.activity import RecordActivity, record_activity
from app.services.common import MemberRef
from app.services.program import apply_program
from app.services.sweeps import run_sweeps
from app.services.tiers.review import review_tiers, tiers_since
from tests.ledger.harness import Ledger
from tests.ledger.programs import (
    YEAR,
    enroll_referred,
    open_tiered,
    referral_code_of,
    review_after_a_quiet_year,
    tier_changes,
    tier_of,
    tiered,
)


async def test_an_upgrade_happens_in_the_earn_that_crosses_the_threshold(db_url: str) -> None:
    ledger = await open_tiered(db_url)
    async with ledger:
        m = await ledger.enroll("climber")
        first = await ledger.purchase(m, "o-1", "400")
        assert first.value.upgraded_to is None
        crossing = await ledger.purchase(m, "o-2", "700")
        assert (crossing.value.tier, crossing.value.upgraded_to) == ("member", "gold")
        tier = await tier_of(ledger, m)
        assert (tier.current.key, tier.since, tier.review_at) == (
            "gold",
            ledger.clock.now(),
            ledger.clock.now() + YEAR,
        )
        assert tier.points_to_keep == 1000  # to keep gold: 1000 more within the period
        assert (await ledger.purchase(m, "o-3", "10")).value.points == 20  # gold: x2
        [event] = await tier_changes(ledger, m)
        assert (event["from"], event["to"], event["direction"], event["reason"]) == (
            "member",
            "gold",
            "UP",
            "EARN",
        )
        assert event["reviewAt"] == (ledger.clock.now() + YEAR).isoformat()


async def test_returning_the_purchase_that_reached_a_tier_takes_the_tier_back(
    db_url: str,
) -> None:
    ledger = await open_tiered(db_url)
    async with ledger:
        m = await ledger.enroll("returner")
        assert (await ledger.purchase(m, "o-1", "600")).value.upgraded_to == "silver"
        assert (await ledger.purchase(m, "o-2", "1500")).value.upgraded_to == "platinum"
        assert (await ledger.return_("o-2", "1500")).ok
        tier = await tier_of(ledger, m)
        assert tier.current.key == "silver"  # the measure (600) still supports silver
        assert [(e["to"], e["reason"]) for e in await tier_changes(ledger, m)] == [
            ("silver", "EARN"),
            ("platinum", "EARN"),
            ("silver", "RETURN"),
        ]
        assert (await ledger.return_("o-1", "600")).ok
        assert (await tier_of(ledger, m)).current.key == "member"


async def test_a_tier_kept_at_review_is_not_lost_to_a_later_return(db_url: str) -> None:
    ledger = await open_tiered(db_url, tiered(flat=True, top="gold"))
    async with ledger:
        m = await ledger.enroll("loyal")
        await ledger.purchase(m, "o-1", "1200")
        ledger.clock.advance(days=200)
        await ledger.purchase(m, "o-2", "1100")
        ledger.clock.advance(days=166)  # past the review: kept (1100 in the window)
        await run_sweeps(ledger.uow, ledger.clock)
        assert (await tier_of(ledger, m)).current.key == "gold"
        assert (await ledger.return_("o-2", "1100")).ok
        tier = await tier_of(ledger, m)
        assert (tier.current.key, tier.points_to_keep) == ("gold", 1000)  # until the next review


async def test_at_the_period_end_the_supported_policy_drops_to_the_supported_tier(
    db_url: str,
) -> None:
    ledger, m = await review_after_a_quiet_year(db_url)
    async with ledger:
        started = (await tier_of(ledger, m)).since
        report = await run_sweeps(ledger.uow, ledger.clock)
        assert report.tiers_changed == 1
        tier = await tier_of(ledger, m)
        assert (tier.current.key, tier.since, tier.review_at) == (
            "silver",
            started + YEAR,
            started + 2 * YEAR,
        )
        assert (await tier_changes(ledger, m))[-1]["reason"] == "REVIEW"
        assert (await ledger.purchase(m, "o-3", "10")).value.points == 10  # silver: x1


async def test_at_the_period_end_the_one_level_policy_drops_one_tier(db_url: str) -> None:
    ledger, m = await review_after_a_quiet_year(db_url, tier_downgrade="ONE_LEVEL")
    async with ledger:
        await run_sweeps(ledger.uow, ledger.clock)
        assert (await tier_of(ledger, m)).current.key == "gold"
        ledger.clock.advance(days=365)  # another quiet year: one more level
        await run_sweeps(ledger.uow, ledger.clock)
        assert (await tier_of(ledger, m)).current.key == "silver"


async def test_a_never_downgrade_tier_is_kept_for_good(db_url: str) -> None:
    data = tiered()
    data["tiers"][2]["never_downgrade"] = True  # gold
    ledger, m = await review_after_a_quiet_year(db_url)
    async with ledger:
        await apply_program(ledger.uow, ledger.clock, data)
        await run_sweeps(ledger.uow, ledger.clock)
        tier = await tier_of(ledger, m)
        assert (tier.current.key, tier.review_at) == ("gold", None)  # not below gold
        ledger.clock.advance(days=5 * 365)
        await run_sweeps(ledger.uow, ledger.clock)
        assert (await tier_of(ledger, m)).current.key == "gold"


async def test_a_grace_period_keeps_the_tier_and_an_earn_in_it_renews(db_url: str) -> None:
    ledger, m = await review_after_a_quiet_year(db_url, tier_grace_days=60)
    async with ledger:
        started = (await tier_of(ledger, m)).since
        await run_sweeps(ledger.uow, ledger.clock)
        tier = await tier_of(ledger, m)
        assert (tier.current.key, tier.grace_ends_at) == ("platinum", started + YEAR + 60 * DAY)
        assert tier.points_to_keep == 2000 - 600
        assert await tier_changes(ledger, m) == [await first_change(ledger, m)]  # no new event
        ledger.clock.advance(days=10)
        await ledger.purchase(m, "o-3", "1500")  # window so far: 600 + 1500 >= 2000
        tier = await tier_of(ledger, m)
        assert (tier.current.key, tier.grace_ends_at, tier.review_at) == (
            "platinum",
            None,
            started + 2 * YEAR,
        )


async def test_without_an_earn_the_grace_ends_in_a_downgrade(db_url: str) -> None:
    ledger, m = await review_after_a_quiet_year(db_url, tier_grace_days=60)
    async with ledger:
        started = (await tier_of(ledger, m)).since
        await run_sweeps(ledger.uow, ledger.clock)
        ledger.clock.advance(days=61)
        await run_sweeps(ledger.uow, ledger.clock)
        tier = await tier_of(ledger, m)
        assert (tier.current.key, tier.since, tier.grace_ends_at) == (
            "silver",
            started + YEAR + 60 * DAY,
            None,
        )
        assert tier.review_at == started + 2 * YEAR


async def test_a_calendar_year_tier_holds_through_the_next_year(db_url: str) -> None:
    ledger = await open_tiered(
        db_url, tiered(tier_measure="SPEND", tier_window="CALENDAR_YEAR", points_per_unit="1")
    )
    try:
        ledger.clock.current = datetime(2026, 11, 20, tzinfo=UTC)
        m = await ledger.enroll("yearly")
        assert (await ledger.purchase(m, "o-1", "1200")).value.upgraded_to == "gold"
        assert (await tier_of(ledger, m)).review_at == datetime(2027, 1, 1, tzinfo=UTC)
        ledger.clock.current = datetime(2027, 1, 1, 0, 5, tzinfo=UTC)
        await run_sweeps(ledger.uow, ledger.clock)
        tier = await tier_of(ledger, m)  # 2026's spend kept gold for 2027
        assert (tier.current.key, tier.review_at, tier.qualifying_points) == (
            "gold",
            datetime(2028, 1, 1, tzinfo=UTC),
            0,
        )
        assert tier.points_to_keep == 1000
        ledger.clock.current = datetime(2028, 1, 1, 0, 5, tzinfo=UTC)
        await run_sweeps(ledger.uow, ledger.clock)
        assert (await tier_of(ledger, m)).current.key == "member"  # nothing spent in 2027
    finally:
        await ledger.close()


async def test_two_sweeps_at_once_review_a_member_once(db_url: str) -> None:
    ledger, m = await review_after_a_quiet_year(db_url)
    async with ledger:
        counts = await asyncio.gather(
            review_tiers(ledger.uow, ledger.clock), review_tiers(ledger.uow, ledger.clock)
        )
        assert sorted(counts) == [0, 1]
        assert [e["to"] for e in await tier_changes(ledger, m)] == ["platinum", "silver"]
        assert await review_tiers(ledger.uow, ledger.clock) == 0  # and again: nothing


async def test_a_member_from_before_stored_tiers_is_evaluated_silently(db_url: str) -> None:
    ledger = await open_tiered(db_url)
    async with ledger:
        m = await ledger.enroll("veteran")
        await ledger.purchase(m, "o-1", "1200")
        async with ledger.uow.write() as tx:  # as migration 0007 leaves such a member
            await tx.conn.execute(
                update(member_tiers)
                .where(member_tiers.c.member_id == m)
                .values(tier_key=None, earlier=None, review_at=ledger.clock.now())
            )
        assert (await tier_of(ledger, m)).current.key == "gold"  # shown from the measure
        await run_sweeps(ledger.uow, ledger.clock)
        tier = await tier_of(ledger, m)
        assert (tier.current.key, tier.review_at) == ("gold", ledger.clock.now() + YEAR)
        assert len(await tier_changes(ledger, m)) == 1  # the original upgrade only


async def test_a_lowered_threshold_upgrades_at_the_next_sweep(db_url: str) -> None:
    ledger = await open_tiered(db_url)
    async with ledger:
        m = await ledger.enroll("almost")
        await ledger.purchase(m, "o-1", "800")
        assert (await tier_of(ledger, m)).current.key == "silver"
        cheaper = tiered()
        cheaper["tiers"][2]["threshold"] = 750
        await apply_program(ledger.uow, ledger.clock, cheaper)
        assert await review_tiers(ledger.uow, ledger.clock) == 1
        assert (await tier_of(ledger, m)).current.key == "gold"
        assert await review_tiers(ledger.uow, ledger.clock) == 0


DAY = timedelta(days=1)


async def due_members(ledger: Ledger) -> list[int]:
    async with ledger.uow.write() as tx:
        found = await tiers_since(tx)
        assert found is not None
        return await tx.tiers.due(ledger.clock.now(), found[1], 10)


async def first_change(ledger: Ledger, member: int) -> dict[str, Any]:
    return (await tier_changes(ledger, member))[0]


async def test_activities_and_referral_awards_upgrade_too(db_url: str) -> None:
    data = tiered()
    data["rules"] = [
        {"key": "base", "name": "Base", "priority": 10, "effect": "PER_UNIT", "value": "1"},
        {
            "key": "review",
            "name": "Review",
            "priority": 20,
            "effect": "BONUS",
            "value": "600",
            "conditions": {"activities": ["REVIEW"]},
        },
    ]
    data["referral"] = {"referrer_points": 1200, "referee_points": 0}
    ledger = await open_tiered(db_url, data)
    async with ledger:
        ann = await ledger.enroll("ann")
        out = await record_activity(
            ledger.uow,
            ledger.clock,
            principal=ledger.principal,
            idempotency_key=ledger.key(),
            cmd=RecordActivity(MemberRef(id=ann), "REVIEW", ledger.clock.now(), reference="r-1"),
        )
        assert out.value.upgraded_to == "silver"
        bob = (
            await enroll_referred(ledger, "bob", await referral_code_of(ledger, ann))
        ).value.member_id
        await ledger.purchase(bob, "o-1", "10")  # ann earns 1200: 1800 in all
        assert (await tier_of(ledger, ann)).current.key == "gold"
        await ledger.return_("o-1", "10")  # the award is taken back, and the tier with it
        assert (await tier_of(ledger, ann)).current.key == "silver"
        assert [e["reason"] for e in await tier_changes(ledger, ann)] == ["EARN", "EARN", "RETURN"]


async def test_a_new_multiplier_or_benefit_flags_no_one_for_review(db_url: str) -> None:
    ledger = await open_tiered(db_url)
    async with ledger:
        m = await ledger.enroll("steady")
        await ledger.purchase(m, "o-1", "800")
        renamed = tiered()
        renamed["tiers"][1]["multiplier"] = "1.1"
        renamed["tiers"][1]["benefits"] = ["Free refills"]
        await apply_program(ledger.uow, ledger.clock, renamed)
        assert await due_members(ledger) == []
        raised = tiered()
        raised["tiers"][1]["threshold"] = 900
        await apply_program(ledger.uow, ledger.clock, raised)
        assert await due_members(ledger) == [m]
        assert await review_tiers(ledger.uow, ledger.clock) == 0  # kept until its review
        assert (await tier_of(ledger, m)).current.key == "silver"
