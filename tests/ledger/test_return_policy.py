"""Returns of points already spent: the program's return policy decides. RECORD_SHORTFALL
takes what is there and records the rest; NEGATIVE_BALANCE lets `available` go below zero
and every later credit repays that debt first."""

from __future__ import annotations

from typing import Any

from app.domain.errors import ErrorCode
from app.services import confirm
from app.services.program import apply_program
from app.services.sweeps import run_sweeps
from tests.ledger.audit import audit
from tests.ledger.harness import Ledger, program_data
from tests.ledger.programs import enroll_referred, referral_code_of, referral_program


async def open_ledger(db_url: str, **head: Any) -> Ledger:
    return await Ledger.open(db_url, return_policy="NEGATIVE_BALANCE", **head)


async def assert_lots_match(ledger: Ledger, member: int) -> None:
    """Lots hold exactly what can be spent: nothing while the balance is below zero."""
    balance = await ledger.balance(member)
    async with ledger.uow.read() as r:
        lots = await audit(r).lot_remainders(member)
        sums = await audit(r).member_account_sums(member)
    assert lots["AVAILABLE"] == max(0, balance["available"])
    assert lots["PENDING"] == balance["pending"]
    assert sums == {k: balance[k] for k in ("available", "pending", "held")}


async def spent_then_returned(ledger: Ledger) -> int:
    """100 points earned, 80 spent on a reward, then the whole order returned."""
    m = await ledger.enroll("spender")
    assert (await ledger.purchase(m, "o-1", "100")).ok
    tote = await ledger.reward_id("tote")
    redeemed = await ledger.redeem(m, tote)  # 50 points
    assert (await ledger.fulfill(redeemed.value.redemption_id)).ok
    return m


async def test_the_default_policy_records_a_shortfall(db_url: str) -> None:
    ledger = await Ledger.open(db_url)
    async with ledger:
        m = await spent_then_returned(ledger)
        out = await ledger.return_("o-1", "100")
        assert (out.value.points, out.value.shortfall) == (50, 50)
        assert (await ledger.balance(m))["available"] == 0


async def test_a_negative_balance_owes_what_was_spent(db_url: str) -> None:
    ledger = await open_ledger(db_url)
    async with ledger:
        m = await spent_then_returned(ledger)
        out = await ledger.return_("o-1", "100")
        assert (out.value.points, out.value.shortfall) == (100, 0)
        assert out.value.balance.available == -50
        await assert_lots_match(ledger, m)
        again = await ledger.return_("o-1", "1")  # the order is fully returned already
        assert again.errors[0].code == ErrorCode.INVALID_INPUT


async def test_later_earns_repay_the_debt_first(db_url: str) -> None:
    ledger = await open_ledger(db_url)
    async with ledger:
        m = await spent_then_returned(ledger)
        await ledger.return_("o-1", "100")
        coffee = await ledger.reward_id("coffee")
        blocked = await ledger.redeem(m, coffee)
        assert blocked.errors[0].code == ErrorCode.INSUFFICIENT_POINTS
        assert (await ledger.purchase(m, "o-2", "30")).value.balance.available == -20
        await assert_lots_match(ledger, m)
        assert (await ledger.purchase(m, "o-3", "45")).value.balance.available == 25
        await assert_lots_match(ledger, m)
        assert (await ledger.redeem(m, coffee)).ok  # 10 of the 25
        await assert_lots_match(ledger, m)


async def test_a_staff_credit_repays_and_a_debit_below_zero_is_refused(db_url: str) -> None:
    ledger = await open_ledger(db_url)
    async with ledger:
        m = await spent_then_returned(ledger)
        await ledger.return_("o-1", "100")
        refused = await ledger.adjust(m, -1)
        assert refused.errors[0].code == ErrorCode.INSUFFICIENT_POINTS
        assert (await ledger.adjust(m, 50)).value.balance.available == 0  # forgiven
        await assert_lots_match(ledger, m)


async def test_pending_points_repay_when_released_not_before(db_url: str) -> None:
    ledger = await open_ledger(db_url)
    async with ledger:
        m = await spent_then_returned(ledger)
        await ledger.return_("o-1", "100")
        await apply_program(
            ledger.uow, ledger.clock, program_data(return_policy="NEGATIVE_BALANCE", pending_days=7)
        )
        earned = await ledger.purchase(m, "o-2", "80")
        assert (earned.value.balance.available, earned.value.balance.pending) == (
            -50,
            80,
        )
        await assert_lots_match(ledger, m)
        ledger.clock.advance(days=8)
        await run_sweeps(ledger.uow, ledger.clock)
        assert (await ledger.balance(m))["available"] == 30
        await assert_lots_match(ledger, m)
        early = await ledger.purchase(m, "o-3", "100")  # confirmed early: released now
        assert early.value.pending is True
        await ledger.return_("o-2", "80")  # 30 left of it, 50 more owed
        assert (await ledger.balance(m))["available"] == -50
        out = await confirm.confirm_order(
            ledger.uow,
            ledger.clock,
            principal=ledger.principal,
            idempotency_key=ledger.key(),
            cmd=confirm.ConfirmOrder("o-3"),
        )
        assert out.value.balance.available == 50
        await assert_lots_match(ledger, m)


async def test_a_cancelled_redemption_gives_back_what_the_debt_leaves(db_url: str) -> None:
    ledger = await open_ledger(db_url)
    async with ledger:
        m = await ledger.enroll("holder")
        await ledger.purchase(m, "o-1", "100")
        held = await ledger.redeem(m, await ledger.reward_id("tote"))  # 50 held
        await ledger.return_("o-1", "100")  # 50 available taken, 50 owed
        assert (await ledger.balance(m))["available"] == -50
        cancelled = await ledger.cancel(held.value.redemption_id)
        assert (cancelled.value.balance.available, cancelled.value.balance.held) == (0, 0)
        await assert_lots_match(ledger, m)


async def test_a_referral_claw_back_follows_the_policy(db_url: str) -> None:
    ledger = await Ledger.open(db_url)
    async with ledger:
        data = referral_program()
        data["program"]["return_policy"] = "NEGATIVE_BALANCE"
        await apply_program(ledger.uow, ledger.clock, data)
        ann = await ledger.enroll("ann")
        bob = (
            await enroll_referred(ledger, "bob", await referral_code_of(ledger, ann))
        ).value.member_id
        assert (await ledger.purchase(bob, "o-first", "30")).value.referral_points == 200
        assert (await ledger.adjust(ann, -450)).ok  # ann spent most of her 500
        out = await ledger.return_("o-first", "30")
        assert out.value.referral_points_reversed == 700
        assert (await ledger.balance(ann))["available"] == -450
        assert (await ledger.balance(bob))["available"] == 0
        for member in (ann, bob):
            await assert_lots_match(ledger, member)
