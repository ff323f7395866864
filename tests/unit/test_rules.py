"""The earning-rule engine: per line, after discounts, in the program's time zone, capped."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from decimal import Decimal
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from app.domain.rules import (
    Cap,
    Conditions,
    Effect,
    Line,
    Period,
    Purchase,
    Rule,
    evaluate,
    period_start,
    share,
)

PARIS = ZoneInfo("Europe/Paris")
TUESDAY_NOON = datetime(2026, 3, 3, 11, 0, tzinfo=UTC)  # 12:00 in Paris
BASE = Rule("base", "Base", 10, Effect.PER_UNIT, Decimal(1))


def order(
    *lines: Line, at: datetime = TUESDAY_NOON, channel: str = "POS", shipping: str = "0"
) -> Purchase:
    return Purchase(channel, at, tuple(lines), Decimal(shipping))


COFFEE = Line("espresso", 2, Decimal("3.50"), "drinks")
BEANS = Line("beans-1kg", 1, Decimal("24.90"), "retail", discount=Decimal("4.90"))


def test_base_rate_applies_per_line_after_discounts_and_not_to_shipping() -> None:
    result = evaluate([BASE], order(COFFEE, BEANS, shipping="5"), tier="member", zone=PARIS)
    assert result.line_totals == (7, 20)
    assert result.shipping_points == 0
    assert result.total == 27


def test_shipping_earns_only_when_a_rule_says_so() -> None:
    rule = Rule("all", "All in", 10, Effect.PER_UNIT, Decimal(1), include_shipping=True)
    result = evaluate([rule], order(COFFEE, shipping="5"), tier="member", zone=PARIS)
    assert (result.total, result.shipping_points) == (12, 5)


def test_double_points_tuesday_follows_the_program_time_zone() -> None:
    double = Rule(
        "tue",
        "Double points Tuesday",
        20,
        Effect.MULTIPLIER,
        Decimal(2),
        Conditions(weekdays=frozenset({1})),
    )
    monday_late_utc = datetime(2026, 3, 2, 23, 30, tzinfo=UTC)  # already Tuesday in Paris
    assert (
        evaluate([BASE, double], order(COFFEE, at=monday_late_utc), tier="m", zone=PARIS).total
        == 14
    )
    assert (
        evaluate(
            [BASE, double], order(COFFEE, at=monday_late_utc), tier="m", zone=ZoneInfo("UTC")
        ).total
        == 7
    )


def test_priority_decides_order_so_a_multiplier_first_multiplies_nothing() -> None:
    early_double = Rule("x2", "Double", 5, Effect.MULTIPLIER, Decimal(2))
    result = evaluate([early_double, BASE], order(COFFEE), tier="m", zone=PARIS)
    assert [a.rule_key for a in result.awards] == ["x2", "base"]
    assert result.total == 7


def test_time_windows_may_wrap_past_midnight() -> None:
    night = Rule(
        "owl",
        "Night owl",
        20,
        Effect.BONUS,
        Decimal(50),
        Conditions(time_from=time(22), time_until=time(2)),
    )
    at_1am_paris = datetime(2026, 3, 3, 0, 0, tzinfo=UTC)
    at_noon = TUESDAY_NOON
    assert evaluate([night], order(COFFEE, at=at_1am_paris), tier="m", zone=PARIS).total == 50
    assert evaluate([night], order(COFFEE, at=at_noon), tier="m", zone=PARIS).total == 0


def test_sku_category_channel_tier_date_and_minimum_conditions() -> None:
    def only(**conditions: object) -> int:
        rule = Rule("r", "R", 1, Effect.BONUS, Decimal(10), Conditions(**conditions))  # type: ignore[arg-type]
        return evaluate([rule], order(COFFEE, BEANS), tier="gold", zone=PARIS).total

    assert only(skus=frozenset({"beans-1kg"})) == 10
    assert only(categories=frozenset({"toys"})) == 0
    assert only(channels=frozenset({"ONLINE"})) == 0
    assert only(tiers=frozenset({"gold"})) == 10
    assert only(min_order_amount=Decimal("27.01")) == 0
    assert only(min_order_amount=Decimal("27.00")) == 10
    assert only(date_from=date(2026, 3, 4)) == 0
    assert only(date_until=date(2026, 3, 3)) == 10


def test_bonus_is_shared_over_lines_by_net_amount() -> None:
    bonus = Rule("b", "Bonus", 1, Effect.BONUS, Decimal(10))
    result = evaluate([bonus], order(COFFEE, BEANS), tier="m", zone=PARIS)
    assert result.line_totals == (3, 7)  # 7.00 and 20.00 of 27.00


def test_a_cap_cuts_what_the_period_has_room_for_and_says_so() -> None:
    capped = Rule("base", "Base", 10, Effect.PER_UNIT, Decimal(1), cap=Cap(100, Period.DAY))
    result = evaluate(
        [capped], order(COFFEE, BEANS), tier="m", zone=PARIS, awarded_in_period={"base": 90}
    )
    assert result.total == 10
    assert result.awards[0].capped_by == 17


def test_stop_ends_evaluation() -> None:
    stopper = Rule("vip", "VIP only", 5, Effect.PER_UNIT, Decimal(3), stop=True)
    result = evaluate([stopper, BASE], order(COFFEE), tier="m", zone=PARIS)
    assert [a.rule_key for a in result.awards] == ["vip"]
    assert result.total == 21


def test_cap_periods_start_at_local_midnight() -> None:
    moment = datetime(2026, 3, 4, 23, 30, tzinfo=UTC)  # Thursday 00:30 in Paris
    assert period_start(moment, Period.DAY, PARIS) == datetime(2026, 3, 5, tzinfo=PARIS)
    assert period_start(moment, Period.WEEK, PARIS) == datetime(2026, 3, 2, tzinfo=PARIS)
    assert period_start(moment, Period.MONTH, PARIS) == datetime(2026, 3, 1, tzinfo=PARIS)
    assert period_start(moment, Period.YEAR, PARIS) == datetime(2026, 1, 1, tzinfo=PARIS)


prices = st.decimals(min_value=Decimal(0), max_value=Decimal(500), places=2)
lines = st.builds(
    Line,
    st.sampled_from(["a", "b", "c"]),
    st.integers(1, 5),
    prices,
    st.sampled_from([None, "x", "y"]),
    st.decimals(0, 20, places=2),
)
rules = st.builds(
    Rule,
    st.text(min_size=1, max_size=3),
    st.just("r"),
    st.integers(0, 1000),
    st.sampled_from(list(Effect)),
    st.decimals(0, 5, places=2),
    st.builds(Conditions, skus=st.none() | st.frozensets(st.sampled_from(["a", "b"]))),
    st.none() | st.builds(Cap, st.integers(0, 300), st.sampled_from(list(Period))),
    st.booleans(),
)


@given(
    st.lists(lines, min_size=1, max_size=6),
    st.lists(rules, max_size=6),
    st.dictionaries(st.text(max_size=3), st.integers(0, 400)),
)
def test_an_orders_points_are_the_sum_of_its_lines_and_of_its_awards(
    order_lines: list[Line], rule_list: list[Rule], awarded: dict[str, int]
) -> None:
    result = evaluate(
        rule_list, order(*order_lines), tier="m", zone=PARIS, awarded_in_period=awarded
    )
    assert result.total == sum(result.line_totals)
    assert result.total == sum(a.points for a in result.awards)
    assert all(p >= 0 for p in result.line_totals)
    assert all(a.points >= 0 for a in result.awards)


@given(st.integers(0, 10_000), st.lists(st.decimals(0, 1000, places=2), min_size=1, max_size=8))
def test_share_splits_exactly(total: int, weights: list[Decimal]) -> None:
    parts = share(total, weights)
    assert sum(parts) == total
    assert all(p >= 0 for p in parts)


def test_cap_periods_end_where_the_next_begins() -> None:
    from app.domain.rules import period_bounds

    moment = datetime(2026, 12, 31, 22, 30, tzinfo=UTC)  # 23:30 in Paris
    assert period_bounds(moment, Period.DAY, PARIS) == (
        datetime(2026, 12, 31, tzinfo=PARIS),
        datetime(2027, 1, 1, tzinfo=PARIS),
    )
    assert period_bounds(moment, Period.MONTH, PARIS)[1] == datetime(2027, 1, 1, tzinfo=PARIS)
    assert period_bounds(moment, Period.YEAR, PARIS)[1] == datetime(2027, 1, 1, tzinfo=PARIS)
    assert period_bounds(moment, Period.WEEK, PARIS) == (
        datetime(2026, 12, 28, tzinfo=PARIS),
        datetime(2027, 1, 4, tzinfo=PARIS),
    )
