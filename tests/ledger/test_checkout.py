"""Points at checkout in the ledger, on SQLite and PostgreSQL: concurrent checkouts of one
cart never hold twice, a cart id belongs to one member, a hold lapses at its timeout and
its points come back, and a paid cart's hold is spent once."""

from __future__ import annotations

import asyncio

from app.domain.errors import ErrorCode
from app.domain.rewards import RedemptionStatus
from app.services import checkout
from app.services.common import MemberRef
from app.services.outcome import Outcome
from app.services.program import apply_program
from app.services.sweeps import run_sweeps
from tests.ledger.audit import audit
from tests.ledger.harness import Ledger, program_data


async def _open(url: str) -> Ledger:
    ledger = await Ledger.open(url)
    data = program_data()
    data["checkout"] = {"points_value": "0.01", "min_points": 100, "step": 100, "hold_minutes": 30}
    await apply_program(ledger.uow, ledger.clock, data)
    return ledger


async def _apply(ledger: Ledger, member: int, cart: str, points: int, key: str) -> Outcome:
    return await checkout.apply_points_at_checkout(
        ledger.uow,
        ledger.clock,
        principal="client:test",
        idempotency_key=key,
        cmd=checkout.ApplyPointsAtCheckout(MemberRef(id=member), cart, points),
    )


async def _held_redemptions(ledger: Ledger, member: int) -> list[int]:
    async with ledger.uow.read() as r:
        page = await r.redemptions_page(member, before=None, limit=500)
    return [x.id for x in page.items if x.status is RedemptionStatus.HELD]


async def test_concurrent_checkouts_of_one_cart_never_hold_twice(db_url: str) -> None:
    async with await _open(db_url) as ledger:
        member = await ledger.enroll("racer")
        assert (await ledger.adjust(member, 5000)).ok
        outcomes = await asyncio.gather(
            *(_apply(ledger, member, "cart-x", 100 * (1 + n % 5), f"c-{n}") for n in range(40))
        )
        assert all(o.ok for o in outcomes), [o.errors for o in outcomes if not o.ok]
        held = await _held_redemptions(ledger, member)
        assert len(held) == 1  # every other hold was replaced, its points back
        balance = await ledger.balance(member)
        async with ledger.uow.read() as r:
            assert await audit(r).held_by_redemptions(member) == balance["held"]
        assert balance["held"] in {100, 200, 300, 400, 500}
        assert balance["available"] + balance["held"] == 5000


async def test_a_cart_id_belongs_to_the_first_member_whatever_the_race(db_url: str) -> None:
    async with await _open(db_url) as ledger:
        members = [await ledger.enroll(f"m-{n}") for n in range(10)]
        for member in members:
            assert (await ledger.adjust(member, 1000)).ok
        outcomes = await asyncio.gather(
            *(_apply(ledger, m, "shared-cart", 100, f"s-{m}") for m in members)
        )
        winners = [o for o in outcomes if o.ok]
        assert len(winners) == 1
        assert {o.errors[0].code for o in outcomes if not o.ok} == {ErrorCode.INVALID_INPUT}
        for member in members:
            expected = 100 if member == winners[0].value.member_id else 0
            assert (await ledger.balance(member))["held"] == expected


async def test_an_unpaid_hold_lapses_at_its_timeout_and_the_points_come_back(
    db_url: str,
) -> None:
    async with await _open(db_url) as ledger:
        member = await ledger.enroll("forgetful")
        assert (await ledger.adjust(member, 300)).ok
        held = await _apply(ledger, member, "cart-l", 300, "l-1")
        assert held.ok
        ledger.clock.advance(minutes=29)
        await run_sweeps(ledger.uow, ledger.clock)
        assert (await ledger.balance(member))["held"] == 300
        ledger.clock.advance(minutes=2)
        report = await run_sweeps(ledger.uow, ledger.clock)
        assert report.lapsed == 1
        balance = await ledger.balance(member)
        assert (balance["available"], balance["held"]) == (300, 0)
        paid = await ledger.purchase_with_cart(member, "o-late", "10", "cart-l")
        assert [e.code for e in paid.errors] == [ErrorCode.INVALID_STATE]
        again = await _apply(ledger, member, "cart-l", 200, "l-2")  # the cart may hold anew
        assert again.ok
        assert again.value.replaced_redemption_id is None


async def test_a_paid_cart_spends_its_hold_once(db_url: str) -> None:
    async with await _open(db_url) as ledger:
        member = await ledger.enroll("buyer")
        assert (await ledger.adjust(member, 1000)).ok
        assert (await _apply(ledger, member, "cart-p", 600, "p-1")).ok
        paid = await ledger.purchase_with_cart(member, "o-1", "40", "cart-p", key="pay-1")
        assert paid.ok
        assert paid.value.points == 34
        assert str(paid.value.points_discount) == "6.00"
        replay = await ledger.purchase_with_cart(member, "o-1", "40", "cart-p", key="pay-1")
        assert replay.ok
        assert replay.value == paid.value
        balance = await ledger.balance(member)
        assert (balance["available"], balance["held"]) == (434, 0)
        ledger.clock.advance(hours=1)
        assert (await run_sweeps(ledger.uow, ledger.clock)).lapsed == 0
        assert (await ledger.balance(member))["available"] == 434
        async with ledger.uow.read() as r:
            assert await audit(r).held_by_redemptions(member) == 0


async def test_review_findings_on_checkout_stay_fixed(db_url: str) -> None:
    async with await _open(db_url) as ledger:
        member = await ledger.enroll("reviewed")
        assert (await ledger.adjust(member, 2000)).ok
        # A till used the cart's code: the cart cannot hold again, its order still pays it.
        held = await _apply(ledger, member, "cart-t", 500, "t-1")
        assert held.ok
        assert (await ledger.fulfill(held.value.redemption_id)).ok
        again = await _apply(ledger, member, "cart-t", 500, "t-2")
        assert [e.code for e in again.errors] == [ErrorCode.INVALID_STATE]
        paid = await ledger.purchase_with_cart(member, "o-t", "20", "cart-t")
        assert paid.ok
        assert paid.value.points == 15
        assert (await ledger.balance(member))["available"] == 1515
        # Replacing and releasing holds leaves the system reward's count alone.
        for n, points in enumerate((100, 200, 300)):
            assert (await _apply(ledger, member, "cart-r", points, f"r-{n}")).ok
        async with ledger.uow.write() as tx:
            system = await tx.catalog.checkout_reward()
        assert system.redeemed == 0
        # A hold past its expiry does not pay, even before the sweep has voided it.
        ledger.clock.advance(minutes=31)
        late = await ledger.purchase_with_cart(member, "o-r", "20", "cart-r")
        assert [e.code for e in late.errors] == [ErrorCode.INVALID_STATE]
        assert (await ledger.balance(member))["held"] == 300  # the sweep gives it back
        assert (await run_sweeps(ledger.uow, ledger.clock)).lapsed == 1
        assert (await ledger.balance(member))["held"] == 0
