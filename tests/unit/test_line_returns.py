"""Returns by line: each line gives back exactly what its returned units earned."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.domain.errors import DomainError
from app.domain.line_returns import ReturnLine, line_points, plan_line_return

LINES = [
    {"sku": "cup", "category": None, "quantity": 3, "unitPrice": "4.00", "discount": "0"},
    {"sku": "beans", "category": "beans", "quantity": 1, "unitPrice": "20.00", "discount": "2"},
]
EXPLANATION = [
    {"rule": "base", "lines": [[0, 12], [1, 18]]},
    {"rule": "beans", "lines": [[1, 36]]},
    {"rule": "ship", "lines": [[-1, 5]]},
]


def test_a_returned_line_takes_back_what_it_earned_and_nothing_from_the_others() -> None:
    assert line_points(EXPLANATION, 2) == [12, 54]
    plan = plan_line_return(LINES, EXPLANATION, (ReturnLine("beans", 1),))
    assert plan.due == 54
    assert plan.refunded == Decimal("18.00")
    assert plan.lines[1]["returned"] == 1
    assert "returned" not in plan.lines[0]


def test_partial_units_accumulate_exactly() -> None:
    lines = LINES
    taken = []
    for _ in range(3):
        plan = plan_line_return(lines, EXPLANATION, (ReturnLine("cup", 1),))
        taken.append(plan.due)
        lines = plan.lines
    assert taken == [4, 4, 4]
    with pytest.raises(DomainError, match="more than the order has left"):
        plan_line_return(lines, EXPLANATION, (ReturnLine("cup", 1),))


@given(
    st.lists(st.tuples(st.sampled_from(["cup", "beans"]), st.integers(1, 2)), max_size=6),
    st.integers(0, 100),
    st.integers(0, 100),
)
def test_line_returns_never_take_more_than_the_lines_earned(
    returns: list[tuple[str, int]], cup_points: int, bean_points: int
) -> None:
    explanation = [{"rule": "r", "lines": [[0, cup_points], [1, bean_points]]}]
    lines = LINES
    total = 0
    for sku, quantity in returns:
        try:
            plan = plan_line_return(lines, explanation, (ReturnLine(sku, quantity),))
        except DomainError:
            continue
        total += plan.due
        lines = plan.lines
        assert total <= cup_points + bean_points
    if all(int(line.get("returned", 0)) == int(line["quantity"]) for line in lines):
        assert total == cup_points + bean_points


def test_shipping_points_come_back_with_the_return_that_completes_the_order() -> None:
    first = plan_line_return(LINES, EXPLANATION, (ReturnLine("cup", 3),))
    assert first.due == 12
    last = plan_line_return(first.lines, EXPLANATION, (ReturnLine("beans", 1),))
    assert last.due == 54 + 5  # the order is whole returned: shipping's 5 points too
