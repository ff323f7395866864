"""Ledger behaviour on both backends: lots, expiry, pending, returns, holds, idempotency."""

from __future__ import annotations

import asyncio
from typing import Any

from app.domain.errors import ErrorCode
from app.services.sweeps import expire_lots, release_pending, run_sweeps
from tests.ledger.audit import audit
from tests.ledger.harness import START, Ledger


async def _invariants(ledger: Ledger, member: int) -> None:
    balance = await ledger.balance(member)
    async with ledger.uow.read() as r:
        assert await audit(r).transfer_imbalances() == 0
        assert sum((await audit(r).account_totals()).values()) == 0
        sums = await audit(r).member_account_sums(member)
        assert (sums["available"], sums["pending"], sums["held"]) == (
            balance["available"],
            balance["pending"],
            balance["held"],
        )
        lots = await audit(r).lot_remainders(member)
        assert (lots["AVAILABLE"], lots["PENDING"]) == (balance["available"], balance["pending"])
        assert await audit(r).versions(member) == list(range(1, balance["version"] + 1))


async def test_expiry_sweep_expires_each_lot_once_even_when_run_twice_at_once(db_url: str) -> None:
    ledger = await Ledger.open(db_url, points_expiry_days=30)
    async with ledger:
        m = await ledger.enroll("expiring")
        assert (await ledger.purchase(m, "o-1", "100")).ok
        ledger.clock.advance(days=10)
        assert (await ledger.purchase(m, "o-2", "40")).ok
        ledger.clock.advance(days=21)  # o-1's lot is 31 days old, o-2's 21
        counts = await asyncio.gather(
            expire_lots(ledger.uow, ledger.clock), expire_lots(ledger.uow, ledger.clock)
        )
        assert sorted(counts) == [0, 1]
        assert await expire_lots(ledger.uow, ledger.clock) == 0  # re-running changes nothing
        assert (await ledger.balance(m))["available"] == 40
        await _invariants(ledger, m)


async def test_spending_consumes_the_lot_that_expires_first(db_url: str) -> None:
    ledger = await Ledger.open(db_url, points_expiry_days=30)
    async with ledger:
        m = await ledger.enroll("spender")
        assert (await ledger.purchase(m, "o-old", "30")).ok
        ledger.clock.advance(days=5)
        assert (await ledger.purchase(m, "o-new", "30")).ok
        assert (await ledger.redeem(m, await ledger.reward_id("coffee"), 2)).ok  # 20 points
        ledger.clock.advance(days=26)  # the old lot expires: 10 left in it
        assert await expire_lots(ledger.uow, ledger.clock) == 1
        assert (await ledger.balance(m))["available"] == 30
        await _invariants(ledger, m)


async def test_cancelled_hold_restores_its_lots_and_they_still_expire(db_url: str) -> None:
    ledger = await Ledger.open(db_url, points_expiry_days=30)
    async with ledger:
        m = await ledger.enroll("canceller")
        assert (await ledger.purchase(m, "o-1", "50")).ok
        red = await ledger.redeem(m, await ledger.reward_id("tote"), 1)
        assert red.ok
        ledger.clock.advance(days=31)
        assert await expire_lots(ledger.uow, ledger.clock) == 0  # nothing available to expire
        assert (await ledger.cancel(red.value.redemption_id)).ok
        assert await expire_lots(ledger.uow, ledger.clock) == 1  # restored points expire
        assert await ledger.balance(m) == {
            "available": 0,
            "pending": 0,
            "held": 0,
            "lifetimeEarned": 50,
            "version": 4,
        }
        await _invariants(ledger, m)


async def test_pending_points_release_after_the_return_window_and_cannot_be_spent(
    db_url: str,
) -> None:
    ledger = await Ledger.open(db_url, pending_days=7)
    async with ledger:
        m = await ledger.enroll("patient")
        out = await ledger.purchase(m, "o-1", "80")
        assert out.ok
        assert out.value.pending is True
        assert await ledger.balance(m) == {
            "available": 0,
            "pending": 80,
            "held": 0,
            "lifetimeEarned": 80,
            "version": 1,
        }
        refused = await ledger.redeem(m, await ledger.reward_id("coffee"))
        assert refused.errors[0].code == ErrorCode.INSUFFICIENT_POINTS
        ledger.clock.advance(days=6)
        assert await release_pending(ledger.uow, ledger.clock) == 0
        ledger.clock.advance(days=1)
        released = await asyncio.gather(
            release_pending(ledger.uow, ledger.clock), release_pending(ledger.uow, ledger.clock)
        )
        assert sorted(released) == [0, 1]
        assert (await ledger.balance(m))["available"] == 80
        await _invariants(ledger, m)


async def test_return_inside_the_window_voids_pending_points(db_url: str) -> None:
    ledger = await Ledger.open(db_url, pending_days=7)
    async with ledger:
        m = await ledger.enroll("returner")
        assert (await ledger.purchase(m, "o-1", "80")).ok
        out = await ledger.return_("o-1", "20")
        assert out.value.points == 20
        ledger.clock.advance(days=8)
        report = await run_sweeps(ledger.uow, ledger.clock)
        assert report.released == 1
        assert await ledger.balance(m) == {
            "available": 60,
            "pending": 0,
            "held": 0,
            "lifetimeEarned": 60,
            "version": 3,
        }
        await _invariants(ledger, m)


async def test_partial_returns_never_reverse_more_than_was_earned(db_url: str) -> None:
    ledger = await Ledger.open(db_url)
    async with ledger:
        m = await ledger.enroll("partial")
        assert (await ledger.purchase(m, "o-1", "10.00")).ok  # 10 points
        reversed_points = []
        for amount in ("3.33", "3.33", "3.34"):
            out = await ledger.return_("o-1", amount)
            assert out.ok, out.errors
            reversed_points.append(out.value.points)
        assert reversed_points == [3, 3, 4]  # floor of the cumulative share, exact at the end
        too_much = await ledger.return_("o-1", "0.01")
        assert too_much.errors[0].code == ErrorCode.INVALID_INPUT
        assert (await ledger.balance(m))["available"] == 0
        await _invariants(ledger, m)


async def test_return_of_spent_points_takes_what_is_there_and_records_the_shortfall(
    db_url: str,
) -> None:
    ledger = await Ledger.open(db_url)
    async with ledger:
        m = await ledger.enroll("spent")
        assert (await ledger.purchase(m, "o-1", "50")).ok
        assert (await ledger.redeem(m, await ledger.reward_id("coffee"), 4)).ok  # 40 held
        out = await ledger.return_("o-1", "50")
        assert (out.value.points, out.value.shortfall) == (10, 40)
        assert (await ledger.balance(m))["available"] == 0
        await _invariants(ledger, m)


async def test_a_hold_resolves_once(db_url: str) -> None:
    ledger = await Ledger.open(db_url)
    async with ledger:
        m = await ledger.enroll("resolver")
        assert (await ledger.adjust(m, 100)).ok
        red = await ledger.redeem(m, await ledger.reward_id("coffee"))
        rid = red.value.redemption_id
        assert (await ledger.fulfill(rid)).ok
        assert (await ledger.cancel(rid)).errors[0].code == ErrorCode.INVALID_STATE
        assert (await ledger.fulfill(rid)).errors[0].code == ErrorCode.INVALID_STATE
        assert await ledger.balance(m) == {
            "available": 90,
            "pending": 0,
            "held": 0,
            "lifetimeEarned": 0,
            "version": 3,
        }
        async with ledger.uow.read() as r:
            assert (await audit(r).account_totals())["redeemed"] == 10
        await _invariants(ledger, m)


async def test_idempotency_replays_failures_and_refuses_a_changed_request(db_url: str) -> None:
    ledger = await Ledger.open(db_url)
    async with ledger:
        m = await ledger.enroll("replayer")
        coffee = await ledger.reward_id("coffee")
        first = await ledger.redeem(m, coffee, key="k-redeem")
        assert first.errors[0].code == ErrorCode.INSUFFICIENT_POINTS
        assert (await ledger.adjust(m, 100)).ok
        again = await ledger.redeem(m, coffee, key="k-redeem")  # same answer, even now
        assert again.replayed
        assert again.errors == first.errors
        changed = await ledger.redeem(m, coffee, quantity=2, key="k-redeem")
        assert changed.errors[0].code == ErrorCode.IDEMPOTENCY_CONFLICT
        assert (await ledger.balance(m))["version"] == 1  # only the adjustment wrote


async def test_each_change_is_one_outbox_event_streamed_in_order(db_url: str) -> None:
    from app.services.balance_stream import balance_changes

    ledger = await Ledger.open(db_url)
    async with ledger:
        m = await ledger.enroll("streamer")
        assert (await ledger.purchase(m, "o-1", "30")).ok
        stream = balance_changes(ledger.queries, ledger.feed, m, since_version=0)
        first = await asyncio.wait_for(anext(stream), 5)
        assert (first.version, first.kind, first.delta) == (1, "EARN", 30)
        pending = asyncio.ensure_future(anext(stream))
        await asyncio.sleep(0.05)
        assert not pending.done()  # nothing new yet: it waits
        assert (await ledger.adjust(m, -5)).ok
        live = await asyncio.wait_for(pending, 5)
        assert (live.version, live.kind, live.delta, live.balance.available) == (
            2,
            "ADJUST",
            -5,
            25,
        )
        await stream.aclose()


async def test_confirming_an_order_releases_its_pending_points_once(db_url: str) -> None:
    from app.services.confirm import ConfirmOrder, confirm_order

    ledger = await Ledger.open(db_url, pending_days=14)
    async with ledger:
        m = await ledger.enroll("confirmed")
        assert (await ledger.purchase(m, "o-1", "40")).ok

        async def confirm(key: str, order: str = "o-1") -> Any:
            return await confirm_order(
                ledger.uow,
                ledger.clock,
                principal="client:t",
                idempotency_key=key,
                cmd=ConfirmOrder(order),
            )

        first = await confirm("c1")
        assert first.value.points == 40
        assert first.value.balance.available == 40
        assert (await confirm("c2")).value.points == 0  # already released
        assert (await confirm("c3", "nope")).errors[0].code == ErrorCode.ORDER_NOT_FOUND
        ledger.clock.advance(days=15)
        assert await release_pending(ledger.uow, ledger.clock) == 0  # the sweep finds nothing
        assert (await ledger.return_("o-1", "10")).value.points == 10  # from available now
        await _invariants(ledger, m)


async def test_end_of_month_policy_expires_lots_at_the_month_boundary(db_url: str) -> None:
    ledger = await Ledger.open(db_url, expiry_policy="END_OF_MONTH", expiry_months=1)
    async with ledger:
        m = await ledger.enroll("monthly")  # START is 5 January: expires 1 March (UTC)
        assert (await ledger.purchase(m, "o-1", "20")).ok
        ledger.clock.current = START.replace(month=2, day=28, hour=23, minute=59)
        assert (await run_sweeps(ledger.uow, ledger.clock)).expired == 0
        ledger.clock.current = START.replace(month=3, day=1, hour=0, minute=0)
        assert (await run_sweeps(ledger.uow, ledger.clock)).expired == 1
        assert (await ledger.balance(m))["available"] == 0
        await _invariants(ledger, m)


async def test_inactivity_policy_expires_everything_after_n_quiet_days(db_url: str) -> None:
    ledger = await Ledger.open(db_url, expiry_policy="INACTIVITY", inactivity_days=30)
    async with ledger:
        quiet = await ledger.enroll("quiet")
        busy = await ledger.enroll("busy")
        for member, order in ((quiet, "q-1"), (busy, "b-1")):
            assert (await ledger.purchase(member, order, "20")).ok
        ledger.clock.advance(days=20)
        assert (await ledger.purchase(busy, "b-2", "5")).ok  # activity resets the clock
        ledger.clock.advance(days=11)
        report = await run_sweeps(ledger.uow, ledger.clock)
        assert report.expired == 1
        assert (await ledger.balance(quiet))["available"] == 0
        assert (await ledger.balance(busy))["available"] == 25
        assert (await run_sweeps(ledger.uow, ledger.clock)).expired == 0  # re-run: nothing
        await _invariants(ledger, quiet)


async def test_points_expiring_is_written_once_before_expiry(db_url: str) -> None:
    from sqlalchemy import select

    from app.ledger.tables import outbox

    ledger = await Ledger.open(db_url, points_expiry_days=40, expiry_warning_days=7)
    async with ledger:
        m = await ledger.enroll("warned")
        assert (await ledger.purchase(m, "o-1", "30")).ok
        ledger.clock.advance(days=32)
        assert (await run_sweeps(ledger.uow, ledger.clock)).warned == 0
        ledger.clock.advance(days=1)
        reports = await asyncio.gather(
            run_sweeps(ledger.uow, ledger.clock), run_sweeps(ledger.uow, ledger.clock)
        )
        assert sorted(r.warned for r in reports) == [0, 1]
        async with ledger.uow.read() as r:
            events = list(
                await r.conn.execute(
                    select(outbox.c.payload).where(outbox.c.topic == "points.expiring")
                )
            )
        assert [e.payload["points"] for e in events] == [30]


async def test_inactivity_counts_from_enrolment_and_adjustments_too(db_url: str) -> None:
    ledger = await Ledger.open(db_url, expiry_policy="INACTIVITY", inactivity_days=30)
    async with ledger:
        gifted = await ledger.enroll("gifted")
        assert (await ledger.adjust(gifted, 500)).ok  # no earn ever: still active today
        assert (await run_sweeps(ledger.uow, ledger.clock)).expired == 0
        ledger.clock.advance(days=31)
        assert (await run_sweeps(ledger.uow, ledger.clock)).expired == 1
        assert (await ledger.balance(gifted))["available"] == 0
        await _invariants(ledger, gifted)
