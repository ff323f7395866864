"""Pure rules: earning, proportional reversal, lots, reward eligibility, tier progress."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.domain.errors import DomainError, ErrorCode
from app.domain.lots import Allocation, Lot, allocate
from app.domain.points import parse_amount, reversal_due
from app.domain.rewards import RewardState, redeem_blocker
from app.domain.tiers.progress import MeasuredTier, tier_progress
from tests.ledger.harness import program_data

NOW = datetime(2026, 3, 1, tzinfo=UTC)


@pytest.mark.parametrize("raw", ["-1", "abc", "NaN", "1.00001", "1e12", "Infinity"])
def test_bad_amounts_are_invalid_input(raw: str) -> None:
    with pytest.raises(DomainError) as caught:
        parse_amount(raw)
    assert caught.value.code == ErrorCode.INVALID_INPUT


@given(
    earned=st.integers(0, 100_000),
    order=st.decimals(min_value=Decimal("0.01"), max_value=Decimal(10_000), places=2),
    parts=st.lists(
        st.decimals(min_value=Decimal("0.01"), max_value=Decimal(5_000), places=2), max_size=8
    ),
)
def test_partial_returns_never_reverse_more_than_earned(
    earned: int, order: Decimal, parts: list[Decimal]
) -> None:
    returned = Decimal(0)
    reversed_total = 0
    for part in parts:
        if returned + part > order:
            break
        returned += part
        step = reversal_due(
            earned=earned,
            order_amount=order,
            returned_total=returned,
            reversed_so_far=reversed_total,
        )
        assert step >= 0
        reversed_total += step
        assert reversed_total <= earned
    if returned == order:
        assert reversed_total == earned


def test_full_return_reverses_exactly_what_was_earned() -> None:
    assert (
        reversal_due(
            earned=7, order_amount=Decimal("3"), returned_total=Decimal("3"), reversed_so_far=2
        )
        == 5
    )


def test_allocate_takes_earliest_expiry_first_and_never_expiring_last() -> None:
    lots = [
        Lot(1, 10, None),
        Lot(2, 10, NOW + timedelta(days=30)),
        Lot(3, 10, NOW + timedelta(days=5)),
    ]
    assert allocate(lots, 25) == [Allocation(3, 10), Allocation(2, 10), Allocation(1, 5)]
    assert allocate(lots, 5, prefer=1) == [Allocation(1, 5)]
    with pytest.raises(ValueError, match="needed"):
        allocate(lots, 31)


def _reward(**changes: object) -> RewardState:
    base: dict[str, object] = dict(
        cost=10,
        stock=None,
        redeemed=0,
        min_tier_rank=-1,
        per_member_limit=None,
        active=True,
        active_from=None,
        active_until=None,
    )
    base.update(changes)
    return RewardState(**base)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("reward", "tier", "already", "available", "expected"),
    [
        (_reward(), 0, 0, 10, None),
        (_reward(active=False), 0, 0, 100, ErrorCode.REWARD_UNAVAILABLE),
        (_reward(active_until=NOW), 0, 0, 100, ErrorCode.REWARD_UNAVAILABLE),
        (_reward(active_from=NOW + timedelta(days=1)), 0, 0, 100, ErrorCode.REWARD_UNAVAILABLE),
        (_reward(min_tier_rank=1), 0, 0, 100, ErrorCode.TIER_REQUIRED),
        (_reward(per_member_limit=1), 0, 1, 100, ErrorCode.LIMIT_REACHED),
        (_reward(stock=5, redeemed=5), 0, 0, 100, ErrorCode.OUT_OF_STOCK),
        (_reward(), 0, 0, 9, ErrorCode.INSUFFICIENT_POINTS),
    ],
)
def test_redeem_blocker_names_the_first_reason(
    reward: RewardState, tier: int, already: int, available: int, expected: ErrorCode | None
) -> None:
    assert (
        redeem_blocker(
            reward,
            now=NOW,
            quantity=1,
            tier_rank=tier,
            already_redeemed=already,
            available=available,
        )
        == expected
    )


def test_tier_progress_between_tiers_and_at_the_top() -> None:
    from app.domain.program import parse_program

    program = parse_program(program_data())
    halfway = tier_progress(program, None, MeasuredTier(500, None))
    assert (halfway.current.key, halfway.next and halfway.next.key) == ("member", "gold")
    assert halfway.points_to_next == 500
    assert halfway.progress == 0.5
    top = tier_progress(program, None, MeasuredTier(5000, None))
    assert (top.current.key, top.next, top.progress, top.points_to_next) == ("gold", None, 1.0, 0)


def test_a_third_returned_reverses_exactly_a_third() -> None:
    assert (
        reversal_due(
            earned=30,
            order_amount=Decimal("30.00"),
            returned_total=Decimal("10.00"),
            reversed_so_far=0,
        )
        == 10
    )
