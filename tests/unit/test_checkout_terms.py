"""The [checkout] section and the arithmetic of points at checkout."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.domain.checkout import CheckoutTerms, offer, parse_checkout, spread_discount
from app.domain.definition_reader import Reader
from app.domain.errors import DomainError, ProgramInvalid
from app.domain.program import parse_program, program_to_data
from app.domain.rules import Line
from tests.ledger.harness import program_data


def _parse(raw: object) -> tuple[CheckoutTerms | None, list[str]]:
    read = Reader()
    return parse_checkout(read, raw), read.problems


def test_a_checkout_section_is_read_and_written_back() -> None:
    data = program_data()
    data["checkout"] = {"points_value": "0.01", "min_points": 200, "step": 100, "hold_minutes": 15}
    program = parse_program(data)
    assert program.checkout == CheckoutTerms(Decimal("0.01"), 200, 100, 15)
    assert parse_program(program_to_data(program)).checkout == program.checkout
    assert parse_program(program_data()).checkout is None


def test_defaults_are_one_point_steps_and_a_30_minute_hold() -> None:
    terms, problems = _parse({"points_value": "0.05"})
    assert problems == []
    assert terms == CheckoutTerms(Decimal("0.05"), 1, 1, 30)


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        ({}, "checkout.points_value: what one point is worth is required"),
        ({"points_value": "0"}, "checkout.points_value: must be greater than zero"),
        ({"points_value": "abc"}, "checkout.points_value: 'abc' is not a number"),
        ({"points_value": "0.01", "step": 0}, "checkout.step: must be at least 1"),
        ({"points_value": "0.01", "step": 100, "min_points": 150}, "checkout.min_points: must"),
        ({"points_value": "0.01", "hold_minutes": 5000}, "checkout.hold_minutes: must be at"),
        ({"points_value": "0.01", "rate": 2}, "checkout.rate: unknown setting"),
        ("0.01", "checkout: a [checkout] table is required"),
    ],
)
def test_a_bad_checkout_section_names_its_problem(raw: object, problem: str) -> None:
    _, problems = _parse(raw)
    assert any(p.startswith(problem) for p in problems), problems


def test_points_are_worth_their_value_rounded_down_to_the_currency() -> None:
    terms = CheckoutTerms(Decimal("0.015"), 1, 1)
    assert terms.discount(333, 2) == Decimal("4.99")  # 4.995 rounds down
    assert terms.discount(333, 0) == Decimal("4")  # JPY has no minor unit
    assert CheckoutTerms(Decimal("0.01"), 100, 100).refusal(150) is not None
    assert CheckoutTerms(Decimal("0.01"), 200, 100).refusal(100) is not None
    assert CheckoutTerms(Decimal("0.01"), 200, 100).refusal(300) is None


def test_an_offer_is_the_balance_in_steps_capped_by_the_order() -> None:
    terms = CheckoutTerms(Decimal("0.01"), 200, 100)
    assert offer(terms, "EUR", 2, available=1234).points == 1200
    assert offer(terms, "EUR", 2, available=1234).value == Decimal("12.00")
    assert offer(terms, "EUR", 2, available=1234, amount=Decimal("7.99")).points == 700
    assert offer(terms, "EUR", 2, available=150).points == 0  # below the minimum
    assert offer(terms, "EUR", 2, available=-40).points == 0  # a negative balance
    assert offer(terms, "EUR", 2, available=None, amount=Decimal("3.50")).points == 300


def test_the_discount_is_spread_over_the_lines_and_adds_up() -> None:
    lines = (Line("A", 1, Decimal("10.00")), Line("B", 2, Decimal("5.00"), discount=Decimal("1")))
    spread = spread_discount(lines, Decimal("3.80"), 2)
    assert sum((line.net for line in spread), Decimal(0)) == Decimal("15.20")
    assert [line.discount for line in spread] == [Decimal("2.00"), Decimal("2.80")]
    with pytest.raises(DomainError):
        spread_discount(lines, Decimal("19.01"), 2)  # more than the 19.00 of the lines


@given(
    nets=st.lists(st.integers(min_value=0, max_value=100_000), min_size=1, max_size=8),
    share=st.fractions(min_value=0, max_value=1),
)
def test_a_spread_never_leaves_a_line_below_zero_and_always_adds_up(
    nets: list[int], share: object
) -> None:
    lines = tuple(Line(f"S{n}", 1, Decimal(c) / 100) for n, c in enumerate(nets))
    total = sum((line.net for line in lines), Decimal(0))
    discount = (total * Decimal(str(float(share)))).quantize(Decimal("0.01"), rounding="ROUND_DOWN")  # type: ignore[arg-type]
    spread = spread_discount(lines, discount, 2)
    assert all(line.net >= 0 for line in spread)
    assert sum((line.net for line in spread), Decimal(0)) == total - discount


def test_a_step_must_be_worth_whole_minor_units_of_the_currency() -> None:
    data = program_data()
    data["checkout"] = {"points_value": "0.001", "step": 1}
    with pytest.raises(ProgramInvalid) as refused:
        parse_program(data)
    assert any("checkout.points_value: a step of 1 points" in p for p in refused.value.problems)
    data["checkout"] = {"points_value": "0.001", "step": 10, "min_points": 10}
    assert parse_program(data).checkout == CheckoutTerms(Decimal("0.001"), 10, 10)
