"""Points stay in range (issue 8): no write may leave a member with a value the API
cannot show (GraphQL Int), a program's values have sane ranges, amounts and dates are
refused rather than guessed. Each refusal writes nothing."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, update

from app.domain.errors import ErrorCode, ProgramInvalid
from app.domain.points import POINTS_LIMIT
from app.domain.program import parse_program
from app.ledger.tables import balances, lots, orders, program_versions
from app.services import purchase
from app.services.common import MemberRef
from app.services.program import apply_program
from app.services.sweeps import run_sweeps
from tests.ledger.audit import audit
from tests.ledger.harness import Ledger, program_data


async def _orders(ledger: Ledger) -> int:
    async with ledger.db.read_engine.connect() as conn:
        return int((await conn.execute(select(func.count()).select_from(orders))).scalar_one())


async def _buy(ledger: Ledger, member: int, order: str, amount: str, **cmd: Any) -> Any:
    return await purchase.record_purchase(
        ledger.uow,
        ledger.clock,
        principal=ledger.principal,
        idempotency_key=ledger.key(),
        cmd=purchase.RecordPurchase(
            MemberRef(id=member),
            order,
            amount,
            cmd.pop("currency", "EUR"),
            "POS",
            cmd.pop("occurred_at", ledger.clock.now()),
            **cmd,
        ),
    )


async def test_a_purchase_earning_past_the_int_limit_is_refused_and_writes_nothing(
    db_url: str,
) -> None:
    ledger = await Ledger.open(db_url, points_per_unit="10")
    async with ledger:
        m = await ledger.enroll("whale")
        before = await ledger.balance(m)
        out = await _buy(ledger, m, "o-1", "1000000000")  # 10,000,000,000 points
        assert [e.code for e in out.errors] == [ErrorCode.LIMIT_REACHED]
        assert "2,147,483,647" in out.errors[0].message
        assert out.errors[0].field == "amount"
        assert await _orders(ledger) == 0
        assert await ledger.balance(m) == before
        assert (await _buy(ledger, m, "o-2", "100")).ok  # the member still works


async def test_earns_and_adjustments_stop_at_the_limit_of_what_a_member_may_hold(
    db_url: str,
) -> None:
    """The attack that made a member unreadable: many big credits. Each one that would
    pass the limit is refused; the member stays readable and exact."""
    ledger = await Ledger.open(db_url, points_per_unit="1000")
    async with ledger:
        m = await ledger.enroll("adjusted")
        assert (await _buy(ledger, m, "o-1", "1000000")).ok  # 1,000,000,000 points: gold
        assert (await _buy(ledger, m, "o-2", "500000")).ok  # x2: as many again
        refused = await _buy(ledger, m, "o-3", "500000")
        assert [e.code for e in refused.errors] == [ErrorCode.LIMIT_REACHED]
        for _ in range(14):
            assert (await ledger.adjust(m, 10_000_000)).ok
        over = await ledger.adjust(m, 10_000_000)
        assert [e.code for e in over.errors] == [ErrorCode.LIMIT_REACHED]
        balance = await ledger.balance(m)
        assert (balance["available"], balance["lifetimeEarned"]) == (2_140_000_000, 2 * 10**9)
        assert await _orders(ledger) == 2
        async with ledger.uow.read() as r:
            assert await audit(r).transfer_imbalances() == 0
            assert (await audit(r).lot_remainders(m))["AVAILABLE"] == 2_140_000_000


async def test_pending_and_available_together_stay_in_range_so_a_release_cannot_overflow(
    db_url: str,
) -> None:
    ledger = await Ledger.open(db_url, pending_days=14, points_per_unit="1000")
    async with ledger:
        m = await ledger.enroll("pending")
        assert (await _buy(ledger, m, "o-1", "1500000")).ok  # 1,500,000,000 pending: gold
        out = await _buy(ledger, m, "o-2", "350000")  # 700,000,000 more (x2): too many
        assert [e.code for e in out.errors] == [ErrorCode.LIMIT_REACHED]
        assert (await _buy(ledger, m, "o-3", "300000")).ok  # 600,000,000
        ledger.clock.advance(days=15)
        await run_sweeps(ledger.uow, ledger.clock)
        balance = await ledger.balance(m)
        assert (balance["available"], balance["pending"]) == (2_100_000_000, 0)


async def test_a_member_already_at_or_past_the_limit_can_be_brought_back_by_staff(
    db_url: str, backend: str
) -> None:
    """A database written before the limit: a member at it (past it, on SQLite, whose
    columns are not 32-bit) refuses credits, and a negative adjustment brings it back."""
    ledger = await Ledger.open(db_url)
    async with ledger:
        m = await ledger.enroll("old")
        assert (await ledger.adjust(m, 1000)).ok
        stuck = POINTS_LIMIT + 500 if backend == "sqlite" else POINTS_LIMIT
        async with ledger.db.write_engine.begin() as conn:
            await conn.execute(
                update(balances).where(balances.c.member_id == m).values(available=stuck)
            )
            await conn.execute(update(lots).where(lots.c.member_id == m).values(remaining=stuck))
        assert (await ledger.adjust(m, 5)).errors[0].code is ErrorCode.LIMIT_REACHED
        assert (await ledger.adjust(m, -1000)).ok
        assert (await ledger.balance(m))["available"] == stuck - 1000


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"points_per_unit": "1e308"}, "program.points_per_unit: must be at most 1,000"),
        ({"points_per_unit": "0.0000001"}, "program.points_per_unit: at most 6 decimal places"),
        ({"pending_days": 100000}, "program.pending_days: must be at most 365"),
        ({"points_expiry_days": 10**12}, "program.points_expiry_days: must be at most 3,660"),
        ({"max_backdate_days": 99999}, "program.max_backdate_days: must be at most 3,660"),
        ({"tier_grace_days": 10**6}, "program.tier_grace_days: must be at most 365"),
    ],
)
def test_program_values_have_sane_ranges(change: dict[str, Any], problem: str) -> None:
    with pytest.raises(ProgramInvalid) as refused:
        parse_program(program_data(**change))
    assert problem in refused.value.problems


def test_rules_tiers_rewards_and_referrals_have_sane_ranges() -> None:
    data = program_data()
    data["tiers"][1]["multiplier"] = "1000"
    data["tiers"][1]["threshold"] = 2**40
    data["rewards"][0]["cost"] = 10**9
    data["rules"] = [
        {"key": "base", "name": "Base", "priority": 1, "effect": "PER_UNIT", "value": "5000"},
        {"key": "x", "name": "X", "priority": 2, "effect": "MULTIPLIER", "value": "1e300"},
        {"key": "b", "name": "B", "priority": 3, "effect": "BONUS", "value": "99999999"},
    ]
    data["referral"] = {"referrer_points": 10**9, "referee_points": 1}
    with pytest.raises(ProgramInvalid) as refused:
        parse_program(data)
    assert set(refused.value.problems) >= {
        "tiers[1].multiplier: must be at most 100",
        "tiers[1].threshold: must be at most 2,147,483,647",
        "rewards[0].cost: must be at most 10,000,000",
        "rules[0].value: a PER_UNIT is at most 1,000",
        "rules[1].value: a MULTIPLIER is at most 100",
        "rules[2].value: a BONUS is at most 1,000,000",
        "referral.referrer_points: must be at most 1,000,000",
    }


async def test_a_stored_version_from_before_the_ranges_still_loads(db_url: str) -> None:
    """A program activated before the ranges existed is read back as it was."""
    ledger = await Ledger.open(db_url)
    async with ledger:
        async with ledger.db.write_engine.begin() as conn:
            stored = (await conn.execute(select(program_versions.c.definition))).scalar_one()
            stored["program"]["points_per_unit"] = "5000"
            await conn.execute(update(program_versions).values(definition=stored, checksum="x"))
        m = await ledger.enroll("loaded")
        out = await ledger.purchase(m, "o-1", "2")
        assert out.ok, out.errors
        assert out.value.points == 10000


@pytest.mark.parametrize(
    "amount",
    ["1_000", "\u0661\u0662", "  5  ", "5 ", "1e3", "0x10", "+5", "1,5", "NaN", "Infinity", ""],
)
async def test_amounts_are_plain_ascii_decimals_never_guessed(db_url: str, amount: str) -> None:
    ledger = await Ledger.open(db_url)
    async with ledger:
        m = await ledger.enroll("guess")
        out = await _buy(ledger, m, "o-1", amount)
        assert [(e.code, e.field) for e in out.errors] == [(ErrorCode.INVALID_INPUT, "amount")]
        assert "plain decimal" in out.errors[0].message
        assert await _orders(ledger) == 0


async def test_amounts_have_at_most_the_currencys_decimals(db_url: str) -> None:
    ledger = await Ledger.open(db_url)
    async with ledger:
        m = await ledger.enroll("decimals")
        euros = await _buy(ledger, m, "o-1", "12.345")
        assert euros.errors[0].message == "amount: at most 2 decimal places for EUR"
        assert (await _buy(ledger, m, "o-2", "12.50")).ok
        assert (await _buy(ledger, m, "o-3", "12.500")).ok  # the same amount
        negative = await _buy(ledger, m, "o-4", "-5")
        assert negative.errors[0].message == "amount must be zero or more"
        await apply_program(ledger.uow, ledger.clock, program_data(currency="JPY"))
        refused = await _buy(ledger, m, "y-1", "12.5", currency="JPY")
        assert refused.errors[0].message == "amount: at most 0 decimal places for JPY"
        assert (await _buy(ledger, m, "y-2", "1200", currency="JPY")).ok


async def test_occurred_at_is_never_before_2000_nor_past_the_programs_backdating(
    db_url: str,
) -> None:
    ledger = await Ledger.open(db_url)
    async with ledger:
        m = await ledger.enroll("dated")
        now = ledger.clock.now()
        old = await _buy(ledger, m, "o-1", "10", occurred_at=now.replace(year=1900))
        assert old.errors[0].message == "occurredAt may not be before 2000-01-01"
        late = await _buy(ledger, m, "o-2", "10", occurred_at=now - timedelta(days=91))
        assert late.errors[0].field == "occurredAt"
        assert "at most 90 days ago" in late.errors[0].message
        assert (await _buy(ledger, m, "o-3", "10", occurred_at=now - timedelta(days=89))).ok
        await apply_program(ledger.uow, ledger.clock, program_data(max_backdate_days=400))
        assert (await _buy(ledger, m, "o-4", "10", occurred_at=now - timedelta(days=300))).ok
        assert await _orders(ledger) == 2
