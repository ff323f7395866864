"""A DISCOUNT_CODE's typed value in a program file: each type reads back as written, a
display text follows from it when the reward gives none, and every bad value is refused
with its key path."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from app.domain.discount_values import DiscountLevel, DiscountValue, DiscountValueType
from app.domain.errors import ProgramInvalid
from app.domain.program import parse_program, program_to_data
from tests.ledger.harness import program_data

BASE = {"key": "deal", "name": "Deal", "cost": 10}


def _read(currency: str = "EUR", **value: Any) -> DiscountValue | None:
    data = program_data(currency=currency)
    data["rewards"].append({**BASE, **value})
    program = parse_program(data)
    assert parse_program(program_to_data(program)) == program  # reads back as written
    return program.rewards[-1].value


def _problems(**value: Any) -> list[str]:
    data = program_data()
    data["rewards"].append({**BASE, **value})
    with pytest.raises(ProgramInvalid) as raised:
        parse_program(data)
    return raised.value.problems


def test_each_type_reads_back_with_its_level_and_text() -> None:
    fixed = _read(value_type="FIXED_AMOUNT", value_amount="5")
    assert fixed == DiscountValue(
        DiscountValueType.FIXED_AMOUNT, DiscountLevel.CHECK, amount=Decimal("5"), currency="EUR"
    )
    assert fixed.text() == "5.00 EUR off"
    percent = _read(value_type="percentage", value_amount="12.5", value_sku="SKU-9")
    assert percent is not None
    assert (percent.percentage, percent.level, percent.sku, percent.amount) == (
        Decimal("12.5"),
        DiscountLevel.ITEM,
        "SKU-9",
        None,
    )
    assert percent.text() == "12.5% off SKU-9"
    shipping = _read(value_type="FREE_SHIPPING")
    assert shipping is not None
    assert (shipping.level, shipping.text()) == (DiscountLevel.CHECK, "Free shipping")
    item = _read(value_type="FREE_ITEM", value_sku="SKU-123")
    assert item is not None
    assert (item.level, item.sku, item.text()) == (DiscountLevel.ITEM, "SKU-123", "Free SKU-123")
    yen = _read(currency="JPY", value_type="FIXED_AMOUNT", value_amount=500)
    assert yen is not None
    assert yen.text() == "500 JPY off"
    assert _read() is None  # no value_type: only the discount text, as before


def test_a_reward_without_discount_text_shows_its_value() -> None:
    data = program_data()
    data["rewards"].append({**BASE, "value_type": "PERCENTAGE", "value_amount": 10})
    rewards = parse_program(data).rewards
    assert rewards[-1].discount == ""  # stored as given; the text is said when shown
    assert rewards[-1].value is not None
    assert rewards[-1].value.text() == "10% off"


@pytest.mark.parametrize(
    ("value", "where", "says"),
    [
        ({"value_amount": "5"}, "value_type", "is required with value_amount"),
        ({"value_type": "BOGOF"}, "value_type", "one of"),
        ({"value_type": "FIXED_AMOUNT"}, "value_amount", "the amount off is required"),
        ({"value_type": "FIXED_AMOUNT", "value_amount": "0"}, "value_amount", "greater than"),
        ({"value_type": "FIXED_AMOUNT", "value_amount": "-2"}, "value_amount", "greater than"),
        ({"value_type": "FIXED_AMOUNT", "value_amount": "abc"}, "value_amount", "not a number"),
        ({"value_type": "FIXED_AMOUNT", "value_amount": "1.005"}, "value_amount", "2 decimal"),
        ({"value_type": "PERCENTAGE"}, "value_amount", "the percent is required"),
        ({"value_type": "PERCENTAGE", "value_amount": "100.5"}, "value_amount", "at most 100"),
        ({"value_type": "PERCENTAGE", "value_amount": 0}, "value_amount", "greater than"),
        ({"value_type": "PERCENTAGE", "value_amount": "9.999"}, "value_amount", "2 decimal"),
        ({"value_type": "FREE_ITEM"}, "value_sku", "names its SKU"),
        ({"value_type": "FREE_ITEM", "value_sku": " "}, "value_sku", "printable"),
        ({"value_type": "FREE_ITEM", "value_sku": "A\nB"}, "value_sku", "printable"),
        ({"value_type": "FREE_ITEM", "value_sku": "x" * 101}, "value_sku", "1 to 100"),
        (
            {"value_type": "FREE_ITEM", "value_sku": "S", "value_level": "CHECK"},
            "value_level",
            "ITEM-level",
        ),
        (
            {"value_type": "FREE_ITEM", "value_sku": "S", "value_amount": "1"},
            "value_amount",
            "has no amount",
        ),
        ({"value_type": "FREE_SHIPPING", "value_amount": "1"}, "value_amount", "has no amount"),
        ({"value_type": "FREE_SHIPPING", "value_sku": "S"}, "value_sku", "no SKU"),
        (
            {"value_type": "FREE_SHIPPING", "value_level": "ITEM"},
            "value_level",
            "CHECK-level",
        ),
        (
            {"value_type": "PERCENTAGE", "value_amount": 5, "value_level": "ITEM"},
            "value_sku",
            "names its SKU",
        ),
        (
            {
                "value_type": "PERCENTAGE",
                "value_amount": 5,
                "value_level": "CHECK",
                "value_sku": "S",
            },
            "value_sku",
            "ITEM-level discount",
        ),
        (
            {"value_type": "PERCENTAGE", "value_amount": 5, "value_level": "ROW"},
            "value_level",
            "one of",
        ),
        ({"kind": "PHYSICAL", "value_type": "FREE_SHIPPING"}, "value_type", "only a DISCOUNT_CODE"),
    ],
)
def test_a_bad_value_is_refused_at_its_key(value: dict[str, Any], where: str, says: str) -> None:
    [problem] = _problems(**value)
    assert problem.startswith(f"rewards[3].{where}: "), problem
    assert says in problem
