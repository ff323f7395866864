"""Returns and tiers: a return takes back exactly the tiers its earn helped reach, and
nothing else; members from before stored tiers; a program change racing an earn."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import update

from app.ledger.tables import member_tiers
from app.services import purchase as purchase_service
from app.services.common import MemberRef
from app.services.program import apply_program
from app.services.sweeps import run_sweeps
from app.services.tiers.review import review_tiers
from tests.ledger.programs import (
    enroll_referred,
    open_tiered,
    referral_code_of,
    review_after_a_quiet_year,
    tier_changes,
    tier_of,
    tiered,
)


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
    async with ledger:
        m = await ledger.enroll("lifer")
        assert (await ledger.purchase(m, "o-1", "600")).value.upgraded_to == "silver"
        ledger.clock.advance(days=400)  # the rolling measure has forgotten o-1
        await run_sweeps(ledger.uow, ledger.clock)
        await ledger.purchase(m, "o-2", "20")
        assert (await ledger.return_("o-2", "20")).ok
        assert (await tier_of(ledger, m)).current.key == "silver"


async def test_returning_a_later_upgrade_goes_back_to_the_tier_held_before(
    db_url: str,
) -> None:
    ledger = await open_tiered(db_url, never_downgrade_silver())
    async with ledger:
        m = await ledger.enroll("lifer2")
        await ledger.purchase(m, "o-1", "600")  # silver, for good
        ledger.clock.advance(days=400)
        assert (await ledger.purchase(m, "o-2", "1200")).value.upgraded_to == "gold"
        assert (await ledger.return_("o-2", "1200")).ok
        assert (await tier_of(ledger, m)).current.key == "silver"


async def test_buying_and_returning_a_tier_restores_the_old_review_date(db_url: str) -> None:
    ledger = await open_tiered(db_url)
    async with ledger:
        m = await ledger.enroll("gamer")
        await ledger.purchase(m, "o-1", "600")  # silver, reviewed a year on
        silver = await tier_of(ledger, m)
        ledger.clock.advance(days=300)
        assert (await ledger.purchase(m, "o-2", "1200")).value.upgraded_to == "gold"
        assert (await ledger.return_("o-2", "1200")).ok
        tier = await tier_of(ledger, m)
        assert (tier.current.key, tier.since, tier.review_at) == (
            "silver",
            silver.since,
            silver.review_at,
        )


async def test_returning_an_order_from_before_the_window_keeps_a_current_upgrade(
    db_url: str,
) -> None:
    ledger = await open_tiered(db_url, tiered(flat=True, top="gold"))
    async with ledger:
        m = await ledger.enroll("old-return")
        await ledger.purchase(m, "o-1", "400")
        ledger.clock.advance(days=380)  # o-1 has left the rolling window
        assert (await ledger.purchase(m, "o-2", "1000")).value.upgraded_to == "gold"
        assert (await ledger.return_("o-1", "400")).ok  # counted when o-1 was made
        tier = await tier_of(ledger, m)
        assert (tier.current.key, tier.qualifying_points) == ("gold", 1000)


async def test_a_member_from_before_stored_tiers_who_earns_first_is_not_upgraded_again(
    db_url: str,
) -> None:
    ledger = await open_tiered(db_url)
    async with ledger:
        m = await ledger.enroll("veteran")
        await ledger.purchase(m, "o-1", "1200")
        await as_before_stored_tiers(ledger, m)
        before = await tier_changes(ledger, m)
        ledger.clock.advance(days=1)
        out = await ledger.purchase(m, "o-2", "10")  # before any sweep
        assert out.value.tier == "gold"
        assert out.value.upgraded_to is None
        assert await tier_changes(ledger, m) == before
        await ledger.return_("o-2", "10")
        await ledger.return_("o-1", "300")  # the measure falls to silver's: kept gold
        assert (await tier_of(ledger, m)).current.key == "gold"


async def test_a_program_change_while_an_earn_is_in_flight_is_still_applied(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PostgreSQL only: SQLite's single writer cannot activate a program mid-earn."""
    ledger = await open_tiered(postgres_url, tiered(flat=True))
    async with ledger:
        m = await ledger.enroll("racer")
        reached, resume = asyncio.Event(), asyncio.Event()
        original = purchase_service.upgrade_after_earn

        async def paused(*args: Any, **kw: Any) -> Any:
            reached.set()
            await resume.wait()
            return await original(*args, **kw)

        monkeypatch.setattr(purchase_service, "upgrade_after_earn", paused)
        buying = asyncio.create_task(ledger.purchase(m, "o-1", "600"))
        await reached.wait()
        cheaper = tiered(flat=True)
        cheaper["tiers"][2]["threshold"] = 550  # gold now at 550
        await apply_program(ledger.uow, ledger.clock, cheaper)
        resume.set()
        assert (await buying).value.upgraded_to == "silver"  # decided under the old tiers
        assert await review_tiers(ledger.uow, ledger.clock) == 1
        assert (await tier_of(ledger, m)).current.key == "gold"  # 600 >= 550


# --- times: a till's clock never decides (what it helped bring about is judged by
# when the server recorded it) ---


async def buy(ledger: Any, member: int, order: str, amount: str, occurred_at: Any) -> Any:
    out = await purchase_service.record_purchase(
        ledger.uow,
        ledger.clock,
        principal=ledger.principal,
        idempotency_key=ledger.key(),
        cmd=purchase_service.RecordPurchase(
            MemberRef(id=member), order, amount, "EUR", "POS", occurred_at
        ),
    )
    assert out.ok, out.errors
    return out


@pytest.mark.parametrize(
    "skew",
    [
        timedelta(minutes=1),  # a till a minute ahead (within the allowed skew)
        timedelta(minutes=-2),  # paid at the till, then enrolled: the sale predates the member
    ],
)
async def test_an_order_from_a_skewed_till_is_taken_back_with_its_tier(
    db_url: str, skew: timedelta
) -> None:
    ledger = await open_tiered(db_url)
    async with ledger:
        m = await ledger.enroll("till")
        out = await buy(ledger, m, "o-1", "600", ledger.clock.now() + skew)
        assert out.value.upgraded_to == "silver"
        assert (await ledger.return_("o-1", "600")).ok
        assert (await tier_of(ledger, m)).current.key == "member"


async def test_a_backdated_order_uploaded_after_a_renewal_is_taken_back_with_its_tier(
    db_url: str,
) -> None:
    data = tiered(flat=True)
    data["tiers"][3]["threshold"] = 5000
    ledger = await open_tiered(db_url, data)
    async with ledger:
        m = await ledger.enroll("offline-pos")
        await ledger.purchase(m, "o-1", "1200")  # gold
        ledger.clock.advance(days=300)
        await ledger.purchase(m, "o-2", "1100")
        ledger.clock.advance(days=66)
        await run_sweeps(ledger.uow, ledger.clock)  # gold renewed, settled at the period end
        assert (await tier_of(ledger, m)).current.key == "gold"
        # An offline till uploads a sale made two days ago, before the renewal.
        out = await buy(ledger, m, "o-3", "4000", ledger.clock.now() - timedelta(days=2))
        assert out.value.upgraded_to == "platinum"
        assert (await ledger.return_("o-3", "4000")).ok
        assert (await tier_of(ledger, m)).current.key == "gold"


async def test_returning_a_backdated_upgrade_restores_the_old_period(db_url: str) -> None:
    ledger = await open_tiered(db_url, tiered(flat=True))
    async with ledger:
        m = await ledger.enroll("chain")
        ledger.clock.advance(days=30)
        await ledger.purchase(m, "o-1", "600")  # silver now
        silver = await tier_of(ledger, m)
        ledger.clock.advance(days=10)
        # recorded after the silver upgrade, made before it
        out = await buy(ledger, m, "o-2", "500", ledger.clock.now() - timedelta(days=11))
        assert out.value.upgraded_to == "gold"
        assert (await ledger.return_("o-2", "500")).ok
        tier = await tier_of(ledger, m)
        assert (tier.current.key, tier.since, tier.review_at) == (
            "silver",
            silver.since,
            silver.review_at,
        )


async def test_a_small_return_keeps_a_tier_once_older_earns_age_out(db_url: str) -> None:
    ledger = await open_tiered(db_url, tiered(flat=True))
    async with ledger:
        m = await ledger.enroll("drift")
        ledger.clock.advance(days=1)
        await ledger.purchase(m, "o-1", "600")  # silver
        ledger.clock.advance(days=300)
        assert (await ledger.purchase(m, "o-2", "450")).value.upgraded_to == "gold"  # 1050
        ledger.clock.advance(days=70)  # o-1 leaves the rolling window
        assert (await ledger.return_("o-2", "1")).ok  # 1049 when gold was reached: kept
        assert (await tier_of(ledger, m)).current.key == "gold"


async def test_an_upgrade_at_review_is_undone_with_the_earn_that_carried_it(db_url: str) -> None:
    ledger = await open_tiered(db_url, tiered(flat=True))
    async with ledger:
        m = await ledger.enroll("bought")
        assert (await ledger.purchase(m, "o-1", "1200")).value.upgraded_to == "gold"
        cheaper = tiered(flat=True)
        cheaper["tiers"][3]["threshold"] = 1100
        await apply_program(ledger.uow, ledger.clock, cheaper)
        await run_sweeps(ledger.uow, ledger.clock)
        assert (await tier_of(ledger, m)).current.key == "platinum"
        assert (await ledger.return_("o-1", "1200")).ok
        assert (await tier_of(ledger, m)).current.key == "member"


async def test_a_renewal_in_grace_bought_and_returned_puts_the_member_back_in_grace(
    db_url: str,
) -> None:
    ledger, m = await review_after_a_quiet_year(db_url, tier_grace_days=60)
    async with ledger:
        await run_sweeps(ledger.uow, ledger.clock)  # platinum, in grace (600 of 2000)
        graced = await tier_of(ledger, m)
        ledger.clock.advance(days=10)
        await ledger.purchase(m, "o-3", "500")  # x3: 1500 more, renews platinum
        assert (await tier_of(ledger, m)).grace_ends_at is None
        assert (await ledger.return_("o-3", "500")).ok
        tier = await tier_of(ledger, m)
        assert (tier.current.key, tier.grace_ends_at, tier.review_at) == (
            "platinum",
            graced.grace_ends_at,
            graced.review_at,
        )


# --- what "without the returned earn" means (third review) ---


async def test_aged_out_points_and_a_later_earn_do_not_keep_a_returned_upgrade(
    db_url: str,
) -> None:
    """o-0 and o-3 never share a rolling window: together they cannot keep gold."""
    ledger = await open_tiered(db_url, tiered(flat=True))
    async with ledger:
        m = await ledger.enroll("overlap")
        assert (await ledger.purchase(m, "o-0", "900")).value.upgraded_to == "silver"
        ledger.clock.advance(days=360)
        assert (await ledger.purchase(m, "o-1", "200")).value.upgraded_to == "gold"  # 1100
        ledger.clock.advance(days=10)  # o-0 has left the rolling window
        assert (await ledger.purchase(m, "o-3", "200")).value.upgraded_to is None
        ledger.clock.advance(days=5)
        assert (await ledger.return_("o-1", "200")).ok
        # without o-1: 900 when gold was reached, 200 now: not gold. Back to silver, whose
        # period (reached with o-0) ended on day 365 with nothing in it: member.
        assert (await tier_of(ledger, m)).current.key == "member"


async def test_an_earn_after_the_period_end_counts_for_the_next_period_only(db_url: str) -> None:
    ledger = await open_tiered(db_url, tiered(flat=True, top="gold"))
    async with ledger:
        m = await ledger.enroll("late")
        assert (await ledger.purchase(m, "o-1", "1200")).value.upgraded_to == "gold"
        ledger.clock.advance(days=365, seconds=1)  # gold's period just ended
        ledger.clock.advance(minutes=1)  # the sweep has not run yet
        # the review comes first (member), then o-2 reaches gold again, returnable
        assert (await ledger.purchase(m, "o-2", "1000")).value.upgraded_to == "gold"
        await run_sweeps(ledger.uow, ledger.clock)
        assert (await tier_of(ledger, m)).current.key == "gold"
        assert (await ledger.return_("o-2", "1000")).ok
        assert (await tier_of(ledger, m)).current.key == "member"


async def test_returned_goods_never_count_for_tiers_even_when_their_points_were_spent(
    db_url: str,
) -> None:
    ledger = await open_tiered(db_url, tiered(flat=True))
    async with ledger:
        m = await ledger.enroll("spender")
        assert (await ledger.purchase(m, "o-1", "1200")).value.upgraded_to == "gold"
        coffee = await ledger.reward_id("coffee")
        for _ in range(6):
            assert (await ledger.redeem(m, coffee, 20)).ok  # 1200 spent in all
        out = await ledger.return_("o-1", "1200")
        assert out.value.shortfall == 1200
        tier = await tier_of(ledger, m)
        assert (tier.current.key, tier.qualifying_points) == ("member", 0)


async def test_a_returned_renewal_in_grace_is_judged_on_the_grace_window(db_url: str) -> None:
    ledger = await open_tiered(db_url, tiered(flat=True, tier_grace_days=30, top="gold"))
    async with ledger:
        m = await ledger.enroll("graced")
        assert (await ledger.purchase(m, "o-1", "1200")).value.upgraded_to == "gold"
        ledger.clock.advance(days=30)
        await ledger.purchase(m, "o-2", "900")
        ledger.clock.advance(days=336)  # the period ended a day ago: 900 in it
        await run_sweeps(ledger.uow, ledger.clock)
        graced = await tier_of(ledger, m)
        assert (graced.current.key, graced.points_to_keep) == ("gold", 100)
        ledger.clock.advance(days=24)  # in grace
        await ledger.purchase(m, "o-3", "100")  # 1000 in the window: renewed
        assert (await tier_of(ledger, m)).grace_ends_at is None
        ledger.clock.advance(days=6)  # the grace would have ended a day ago
        await ledger.purchase(m, "o-4", "100")
        ledger.clock.advance(days=4)
        assert (await ledger.return_("o-3", "100")).ok
        await run_sweeps(ledger.uow, ledger.clock)
        # without o-3: 900 in the period and grace, so silver at the grace's end
        assert (await tier_of(ledger, m)).current.key == "silver"


# --- late sweeps and spent awards (fourth review) ---


async def test_an_earn_long_after_a_grace_ended_makes_every_overdue_review_first(
    db_url: str,
) -> None:
    ledger = await open_tiered(db_url, tiered(flat=True, top="gold", tier_grace_days=30))
    async with ledger:
        m = await ledger.enroll("late-grace")
        assert (await ledger.purchase(m, "o-1", "1200")).value.upgraded_to == "gold"
        ledger.clock.advance(days=405)  # period ended 40 days ago, grace 10 days ago; no sweep
        out = await ledger.purchase(m, "o-2", "1000")  # grace, then down, then o-2: gold
        assert out.value.upgraded_to == "gold"
        await run_sweeps(ledger.uow, ledger.clock)
        tier = await tier_of(ledger, m)
        assert (tier.current.key, tier.qualifying_points, tier.grace_ends_at) == (
            "gold",
            1000,
            None,
        )
        assert [(e["to"], e["reason"]) for e in await tier_changes(ledger, m)] == [
            ("gold", "EARN"),
            ("member", "REVIEW"),
            ("gold", "EARN"),
        ]


async def test_an_earn_after_an_overdue_review_is_priced_at_the_reviewed_tier(
    db_url: str,
) -> None:
    ledger = await open_tiered(db_url, tiered(top="gold"))  # gold earns x2
    async with ledger:
        m = await ledger.enroll("stale")
        assert (await ledger.purchase(m, "o-1", "1200")).value.upgraded_to == "gold"
        ledger.clock.advance(days=366)  # period over, nothing in it; no sweep yet
        out = await ledger.purchase(m, "o-2", "100")
        assert (out.value.tier, out.value.points) == ("member", 100)


async def test_a_returned_referral_whose_award_was_spent_takes_the_tier_back(
    db_url: str,
) -> None:
    data = tiered(flat=True)
    data["referral"] = {"referrer_points": 1200, "referee_points": 0}
    ledger = await open_tiered(db_url, data)
    async with ledger:
        ann = await ledger.enroll("ann")
        bob = (
            await enroll_referred(ledger, "bob", await referral_code_of(ledger, ann))
        ).value.member_id
        await ledger.purchase(bob, "o-1", "10")  # ann earns 1200: gold
        assert (await tier_of(ledger, ann)).current.key == "gold"
        coffee = await ledger.reward_id("coffee")
        for _ in range(6):
            assert (await ledger.redeem(ann, coffee, 20)).ok  # all 1200 spent
        assert (await ledger.return_("o-1", "10")).ok
        tier = await tier_of(ledger, ann)
        assert (tier.current.key, tier.qualifying_points) == ("member", 0)


async def test_undoing_a_renewal_in_grace_keeps_a_later_upgrade_that_stands_alone(
    db_url: str,
) -> None:
    ledger = await open_tiered(db_url, tiered(flat=True, tier_grace_days=30))
    async with ledger:
        m = await ledger.enroll("renewed")
        assert (await ledger.purchase(m, "o-1", "1200")).value.upgraded_to == "gold"
        ledger.clock.advance(days=30)
        await ledger.purchase(m, "o-2", "400")
        ledger.clock.advance(days=336)  # period ended a day ago: 400 in it
        await run_sweeps(ledger.uow, ledger.clock)
        assert (await tier_of(ledger, m)).grace_ends_at is not None
        ledger.clock.advance(days=4)
        await ledger.purchase(m, "o-3", "600")  # 1000 in the grace window: renewed
        assert (await tier_of(ledger, m)).grace_ends_at is None
        ledger.clock.advance(days=30)  # past the old grace end
        assert (await ledger.purchase(m, "o-4", "1500")).value.upgraded_to == "platinum"
        ledger.clock.advance(days=5)
        assert (await ledger.return_("o-3", "600")).ok
        await run_sweeps(ledger.uow, ledger.clock)
        # without o-3: down at the grace end, then o-4 (1500 in the window) reaches gold
        tier = await tier_of(ledger, m)
        assert (tier.current.key, tier.qualifying_points) == ("gold", 1500)


# --- later changes that stand on their own (fifth review) ---


async def test_a_later_upgrade_that_stood_without_the_returned_earn_is_kept(db_url: str) -> None:
    ledger = await open_tiered(db_url, tiered(flat=True))
    async with ledger:
        m = await ledger.enroll("upgrade-then")
        await ledger.purchase(m, "o-2", "300")  # day 0
        ledger.clock.advance(days=10)
        assert (await ledger.purchase(m, "o-3", "300")).value.upgraded_to == "silver"
        ledger.clock.advance(days=10)
        assert (await ledger.purchase(m, "o-4", "1700")).value.upgraded_to == "platinum"
        ledger.clock.advance(days=360)  # o-2 has aged out
        assert (await ledger.return_("o-3", "300")).ok  # 2000 without it when o-4 came
        assert (await tier_of(ledger, m)).current.key == "platinum"


async def test_undoing_a_renewal_keeps_a_later_upgrade_that_stood_without_it(db_url: str) -> None:
    ledger = await open_tiered(db_url, tiered(flat=True, tier_grace_days=30))
    async with ledger:
        m = await ledger.enroll("renewal-then")
        assert (await ledger.purchase(m, "o-1", "1200")).value.upgraded_to == "gold"
        ledger.clock.advance(days=100)
        await ledger.purchase(m, "o-2", "400")  # day 100
        ledger.clock.advance(days=266)  # day 366: grace
        await run_sweeps(ledger.uow, ledger.clock)
        ledger.clock.advance(days=4)  # day 370: 400 + 600 in the grace window
        await ledger.purchase(m, "o-3", "600")
        ledger.clock.advance(days=30)  # day 400: without o-3, 2100 in the rolling year
        assert (await ledger.purchase(m, "o-4", "1700")).value.upgraded_to == "platinum"
        ledger.clock.advance(days=70)  # day 470: o-2 has aged out
        assert (await ledger.return_("o-3", "600")).ok
        await run_sweeps(ledger.uow, ledger.clock)
        assert (await tier_of(ledger, m)).current.key == "platinum"


async def test_a_restored_standing_reviewed_down_is_lifted_by_later_earns(db_url: str) -> None:
    ledger = await open_tiered(db_url, tiered(flat=True, top="gold"))
    async with ledger:
        m = await ledger.enroll("restored")
        assert (await ledger.purchase(m, "o-0", "600")).value.upgraded_to == "silver"
        ledger.clock.advance(days=300)
        assert (await ledger.purchase(m, "o-1", "600")).value.upgraded_to == "gold"
        ledger.clock.advance(days=80)  # day 380: silver's period (to day 365) has ended
        await ledger.purchase(m, "o-2", "500")
        ledger.clock.advance(days=20)
        assert (await ledger.return_("o-1", "600")).ok
        await run_sweeps(ledger.uow, ledger.clock)
        # without o-1: silver reviewed down at day 365, then o-2 (500) reaches silver again
        tier = await tier_of(ledger, m)
        assert (tier.current.key, tier.qualifying_points) == ("silver", 500)


@pytest.mark.parametrize("policy", ["RECORD_SHORTFALL", "NEGATIVE_BALANCE"])
async def test_partial_returns_of_spent_points_leave_the_measure_once(
    db_url: str, policy: str
) -> None:
    ledger = await open_tiered(db_url, tiered(flat=True, return_policy=policy))
    async with ledger:
        m = await ledger.enroll("partial")
        await ledger.purchase(m, "o-1", "1200")
        coffee = await ledger.reward_id("coffee")
        for _ in range(5):
            assert (await ledger.redeem(m, coffee, 20)).ok  # 1000 spent
        for amount, left in (("600", 600), ("300", 300), ("300", 0)):
            assert (await ledger.return_("o-1", amount)).ok
            assert (await tier_of(ledger, m)).qualifying_points == left
