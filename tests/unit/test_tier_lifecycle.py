"""The tier lifecycle as pure rules: upgrades, returned upgrades, reviews, grace, policies."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from app.domain.errors import ProgramInvalid
from app.domain.program import Program, parse_program, program_to_data
from app.domain.tier_lifecycle import (
    Standing,
    TierChangeReason,
    after_earn,
    after_return,
    downgrade_target,
    period_end,
    points_to_keep,
    review,
    review_window,
)

T0 = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
YEAR = timedelta(days=365)


def program(**head: Any) -> Program:
    """Four tiers: base, silver 500, gold 1000 (never downgrades), platinum 2000."""
    tiers: list[dict[str, Any]] = [
        {"key": "base", "name": "Base", "threshold": 0, "multiplier": "1"},
        {"key": "silver", "name": "Silver", "threshold": 500, "multiplier": "1.25"},
        {"key": "gold", "name": "Gold", "threshold": 1000, "multiplier": "1.5"},
        {"key": "platinum", "name": "Platinum", "threshold": 2000, "multiplier": "2"},
    ]
    if head.pop("gold_never_downgrades", False):
        tiers[2]["never_downgrade"] = True
    return parse_program(
        {
            "program": {"name": "P", "currency": "EUR", "time_zone": "UTC", **head},
            "tiers": tiers,
        }
    )


def tier(p: Program, key: str) -> Any:
    found = p.tier_by_key(key)
    assert found is not None
    return found


def holding(p: Program, key: str, since: datetime = T0, floor: str | None = None) -> Standing:
    return Standing(key, floor or key, since, period_end(p, tier(p, key), since))


# --- periods ---


def test_a_rolling_period_lasts_the_qualifying_window_from_the_upgrade() -> None:
    p = program()
    assert period_end(p, tier(p, "gold"), T0) == T0 + YEAR


def test_a_calendar_period_ends_at_the_new_year_in_the_program_time_zone() -> None:
    p = program(tier_window="CALENDAR_YEAR", time_zone="Europe/Paris")
    ends = period_end(p, tier(p, "gold"), datetime(2026, 12, 31, 22, 30, tzinfo=UTC))
    # 23:30 in Paris on 31 December 2026 is still 2026 there: the period ends at midnight
    assert ends == datetime(2026, 12, 31, 23, 0, tzinfo=UTC)
    late = period_end(p, tier(p, "gold"), datetime(2026, 12, 31, 23, 30, tzinfo=UTC))
    assert late == datetime(2027, 12, 31, 23, 0, tzinfo=UTC)  # already 2027 in Paris


def test_the_first_tier_and_never_downgrade_tiers_are_never_reviewed() -> None:
    p = program(gold_never_downgrades=True)
    assert period_end(p, tier(p, "base"), T0) is None
    assert period_end(p, tier(p, "gold"), T0) is None
    assert period_end(p, tier(p, "platinum"), T0) == T0 + YEAR


def test_the_review_window_is_the_period_measure_window_extended_by_the_grace() -> None:
    p = program()
    standing = holding(p, "gold")
    tick = timedelta(microseconds=1)  # rolling: after the upgrade's instant, to the end
    assert review_window(p, standing) == (T0 + tick, T0 + YEAR + tick)
    graced = Standing("gold", "gold", T0, T0 + YEAR, T0 + YEAR + timedelta(days=30))
    assert review_window(p, graced) == (T0 + tick, T0 + YEAR + timedelta(days=30) + tick)
    calendar = program(tier_window="CALENDAR_YEAR")
    ends = datetime(2027, 1, 1, tzinfo=UTC)
    year = Standing("gold", "gold", T0, ends)
    assert review_window(calendar, year) == (datetime(2026, 1, 1, tzinfo=UTC), ends)


# --- upgrades after an earn ---


def test_an_earn_that_reaches_a_higher_tier_upgrades_and_starts_a_period() -> None:
    p = program()
    later = T0 + timedelta(days=40)
    settled = after_earn(p, holding(p, "silver"), tier(p, "gold"), later)
    assert settled is not None
    assert (settled.moved_from, settled.reason) == ("silver", TierChangeReason.EARN)
    assert settled.standing == Standing("gold", "silver", later, later + YEAR)


def test_an_earn_within_the_tier_changes_nothing() -> None:
    p = program()
    assert after_earn(p, holding(p, "gold"), tier(p, "silver"), T0) is None
    assert after_earn(p, holding(p, "gold"), tier(p, "gold"), T0) is None


def test_a_newcomer_is_stored_at_the_first_tier_or_upgraded_from_it() -> None:
    p = program()
    newcomer = Standing(None, None, T0)
    stored = after_earn(p, newcomer, tier(p, "base"), T0)
    assert stored is not None
    assert stored.moved_from is None
    assert stored.standing == Standing("base", "base", T0)
    jumped = after_earn(p, newcomer, tier(p, "platinum"), T0)
    assert jumped is not None
    assert jumped.moved_from == "base"
    assert jumped.standing.tier == "platinum"
    assert jumped.standing.floor is None


def test_a_tier_the_program_dropped_is_evaluated_silently() -> None:
    p = program()
    settled = after_earn(p, Standing("diamond", "diamond", T0), tier(p, "silver"), T0)
    assert settled is not None
    assert settled.moved_from is None
    assert settled.standing == Standing("silver", "silver", T0, T0 + YEAR)


def test_in_grace_reaching_the_threshold_keeps_the_tier_for_a_new_period() -> None:
    p = program(tier_grace_days=30)
    ends = T0 + YEAR
    graced = Standing("gold", "gold", T0, ends, ends + timedelta(days=30))
    assert after_earn(p, graced, tier(p, "silver"), ends + timedelta(days=5)) is None
    kept = after_earn(p, graced, tier(p, "silver"), ends + timedelta(days=5), keeps=True)
    assert kept is not None
    assert kept.moved_from is None
    assert kept.standing == Standing("gold", "gold", T0, ends + YEAR)


# --- returns ---


def test_a_return_undoes_an_upgrade_of_this_period_as_far_as_the_measure_falls() -> None:
    p = program()
    upgraded = Standing("platinum", "silver", T0, T0 + YEAR)
    to_gold = after_return(p, upgraded, tier(p, "gold"), T0 + timedelta(days=1))
    assert to_gold is not None
    assert (to_gold.moved_from, to_gold.reason) == ("platinum", TierChangeReason.RETURN)
    assert to_gold.standing.tier == "gold"
    assert to_gold.standing.period_ends_at == T0 + YEAR
    to_floor = after_return(p, upgraded, tier(p, "base"), T0 + timedelta(days=1))
    assert to_floor is not None
    assert to_floor.standing.tier == "silver"


def test_a_return_never_touches_a_tier_held_since_the_period_began() -> None:
    p = program()
    assert after_return(p, holding(p, "gold"), tier(p, "base"), T0) is None
    upgraded = Standing("platinum", "silver", T0, T0 + YEAR)
    assert after_return(p, upgraded, tier(p, "platinum"), T0) is None


def test_a_return_to_the_first_tier_leaves_no_period() -> None:
    p = program()
    settled = after_return(p, Standing("gold", None, T0, T0 + YEAR), tier(p, "base"), T0)
    assert settled is not None
    assert settled.standing.tier == "base"
    assert settled.standing.period_ends_at is None


# --- reviews at the end of a period ---


def test_a_review_keeps_a_supported_tier_for_a_period_that_starts_where_the_last_ended() -> None:
    p = program()
    ends = T0 + YEAR
    settled = review(p, holding(p, "gold", floor="silver"), tier(p, "gold"), ends)
    assert settled.moved_from is None
    assert settled.standing == Standing("gold", "gold", T0, ends + YEAR)


def test_a_review_before_the_period_ends_changes_nothing() -> None:
    p = program()
    standing = holding(p, "gold")
    assert review(p, standing, tier(p, "base"), T0 + timedelta(days=100)).standing == standing


def test_a_review_upgrades_a_member_a_lowered_threshold_now_supports() -> None:
    p = program()
    settled = review(p, holding(p, "silver"), tier(p, "gold"), T0 + timedelta(days=3))
    assert (settled.moved_from, settled.reason) == ("silver", TierChangeReason.REVIEW)
    assert settled.standing.floor == "silver"


@pytest.mark.parametrize(
    ("policy", "supported", "expected"),
    [
        ("SUPPORTED", "base", "base"),
        ("SUPPORTED", "silver", "silver"),
        ("ONE_LEVEL", "base", "gold"),
        ("ONE_LEVEL", "silver", "gold"),
    ],
)
def test_downgrade_policies(policy: str, supported: str, expected: str) -> None:
    p = program(tier_downgrade=policy)
    ends = T0 + YEAR
    settled = review(p, holding(p, "platinum"), tier(p, supported), ends)
    assert (settled.moved_from, settled.standing.tier) == ("platinum", expected)
    assert settled.standing.since == ends
    assert settled.standing.floor == expected
    assert settled.standing.period_ends_at == period_end(p, tier(p, expected), ends)


def test_never_downgrade_tiers_are_a_floor_once_held_or_passed() -> None:
    p = program(gold_never_downgrades=True)
    target = downgrade_target(p, tier(p, "platinum"), tier(p, "base"))
    assert target.key == "gold"
    assert downgrade_target(p, tier(p, "silver"), tier(p, "base")).key == "base"


def test_a_grace_period_delays_the_downgrade_then_moves_down_from_the_period_end() -> None:
    p = program(tier_grace_days=60)
    ends = T0 + YEAR
    first = review(p, holding(p, "gold"), tier(p, "base"), ends)
    assert first.moved_from is None
    assert first.standing.grace_until == ends + timedelta(days=60)
    assert first.standing.review_at == ends + timedelta(days=60)
    # Still short when the grace ends: down, as of the grace's end; the next period is
    # counted from the original period end.
    second = review(p, first.standing, tier(p, "silver"), ends + timedelta(days=61))
    assert (second.moved_from, second.standing.tier) == ("gold", "silver")
    assert second.standing.since == ends + timedelta(days=60)
    assert second.standing.period_ends_at == ends + YEAR
    assert second.standing.grace_until is None


def test_reaching_the_threshold_during_the_grace_renews_at_its_end() -> None:
    p = program(tier_grace_days=60)
    ends = T0 + YEAR
    graced = review(p, holding(p, "gold"), tier(p, "base"), ends).standing
    renewed = review(p, graced, tier(p, "gold"), ends + timedelta(days=60))
    assert renewed.moved_from is None
    assert renewed.standing == Standing("gold", "gold", T0, ends + YEAR)


def test_points_to_keep_is_what_the_review_window_still_needs() -> None:
    p = program()
    gold = tier(p, "gold")
    assert points_to_keep(p, holding(p, "gold"), gold, 400) == 600
    assert points_to_keep(p, holding(p, "gold"), gold, 1400) == 0
    assert points_to_keep(p, holding(p, "base"), tier(p, "base"), 0) == 0


# --- the definition ---


def test_tier_settings_are_validated_with_one_message_each() -> None:
    with pytest.raises(ProgramInvalid) as raised:
        parse_program(
            {
                "program": {
                    "name": "P",
                    "currency": "EUR",
                    "tier_downgrade": "SOMETIMES",
                    "tier_grace_days": -1,
                    "return_policy": "FORGIVE",
                },
                "tiers": [
                    {"key": "a", "name": "A", "threshold": 0, "never_downgrade": "yes"},
                ],
            }
        )
    problems = raised.value.problems
    assert any(p.startswith("program.tier_downgrade:") for p in problems)
    assert any(p.startswith("program.tier_grace_days:") for p in problems)
    assert any(p.startswith("program.return_policy:") for p in problems)
    assert any(p.startswith("tiers[0].never_downgrade:") for p in problems)


def test_tier_settings_survive_a_round_trip() -> None:
    p = program(
        tier_downgrade="ONE_LEVEL",
        tier_grace_days=45,
        gold_never_downgrades=True,
        return_policy="NEGATIVE_BALANCE",
    )
    again = parse_program(program_to_data(p))
    assert again == p
    assert again.tier_grace_days == 45
    assert tier(again, "gold").never_downgrade
