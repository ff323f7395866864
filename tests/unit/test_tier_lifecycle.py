"""The tier lifecycle as pure rules: upgrades, returned upgrades, reviews, grace, policies."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from app.domain.errors import ProgramInvalid
from app.domain.program import Program, parse_program, program_to_data
from app.domain.tiers.lifecycle import (
    PriorStanding,
    Standing,
    TierChangeReason,
    after_earn,
    after_return,
    changes_since,
    downgrade_target,
    evaluate,
    period_end,
    points_to_keep,
    review,
    review_window,
)

T0 = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
YEAR = timedelta(days=365)
DAY = timedelta(days=1)


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


def holding(p: Program, key: str, since: datetime = T0) -> Standing:
    """A settled standing: `key` held since `since`, nothing passed through since."""
    return Standing(key, since, since, period_end(p, tier(p, key), since))


def returned(
    p: Program, standing: Standing, without: Any, recorded_at: datetime, now: datetime
) -> Any:
    """A return of the earn recorded at `recorded_at`: undo from the first change since."""
    changes = changes_since(standing, recorded_at)
    return after_return(p, standing, changes[0], without, now) if changes else None


def climbed(p: Program, *steps: tuple[str, datetime]) -> Standing:
    """StandingUpdate at the first step, then upgraded by earns at each later one."""
    standing = holding(p, steps[0][0], steps[0][1])
    for key, at in steps[1:]:
        settled = after_earn(p, standing, tier(p, key), at)
        assert settled is not None
        standing = settled.standing
    return standing


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
    graced = Standing("gold", T0, T0, T0 + YEAR, T0 + YEAR + timedelta(days=30))
    assert review_window(p, graced) == (T0 + tick, T0 + YEAR + timedelta(days=30) + tick)
    calendar = program(tier_window="CALENDAR_YEAR")
    ends = datetime(2027, 1, 1, tzinfo=UTC)
    year = Standing("gold", T0, T0, ends)
    assert review_window(calendar, year) == (datetime(2026, 1, 1, tzinfo=UTC), ends)


# --- upgrades after an earn ---


def test_an_earn_that_reaches_a_higher_tier_upgrades_and_starts_a_period() -> None:
    p = program()
    later = T0 + timedelta(days=40)
    settled = after_earn(p, holding(p, "silver"), tier(p, "gold"), later)
    assert settled is not None
    assert (settled.moved_from, settled.reason) == ("silver", TierChangeReason.EARN)
    assert settled.standing == Standing(
        "gold",
        later,
        T0,
        later + YEAR,
        earlier=(PriorStanding("silver", T0, T0 + YEAR, None, later),),
    )


def test_an_earn_within_the_tier_changes_nothing() -> None:
    p = program()
    assert after_earn(p, holding(p, "gold"), tier(p, "silver"), T0) is None
    assert after_earn(p, holding(p, "gold"), tier(p, "gold"), T0) is None


def test_a_first_evaluation_starts_from_what_the_member_was_shown() -> None:
    p = program()
    old = Standing(None, T0, T0)
    first = evaluate(p, old, tier(p, "gold"), T0 + timedelta(days=9))
    assert first == Standing("gold", T0, T0, T0 + timedelta(days=9) + YEAR)
    assert after_earn(p, old, tier(p, "platinum"), T0) is None  # evaluate first


def test_in_grace_reaching_the_threshold_keeps_the_tier_for_a_new_period() -> None:
    p = program(tier_grace_days=30)
    ends = T0 + YEAR
    graced = Standing("gold", T0, ends, ends, ends + timedelta(days=30))
    assert after_earn(p, graced, tier(p, "silver"), ends + timedelta(days=5)) is None
    at = ends + timedelta(days=5)
    kept = after_earn(p, graced, tier(p, "silver"), at, keeps=True)
    assert kept is not None
    assert kept.moved_from is None
    was = PriorStanding("gold", T0, ends, ends + timedelta(days=30), at)  # the earn may come back
    assert kept.standing == Standing("gold", T0, ends, ends + YEAR, earlier=(was,))
    # returned in full: in grace again, as before
    back = returned(p, kept.standing, tier(p, "silver"), at, at + DAY)
    assert back is not None
    assert back.moved_from is None
    assert back.standing == graced
    late = ends + timedelta(days=31)  # the grace is over; only the sweep decides now
    assert after_earn(p, graced, tier(p, "silver"), late, keeps=True) is None


# --- returns ---


def test_a_return_takes_back_the_tiers_its_earn_helped_reach_as_far_as_the_measure_falls() -> None:
    p = program()
    up = climbed(p, ("silver", T0), ("platinum", T0 + 10 * DAY))
    to_gold = returned(p, up, tier(p, "gold"), T0 + 10 * DAY, T0 + 11 * DAY)
    assert to_gold is not None
    assert (to_gold.moved_from, to_gold.reason) == ("platinum", TierChangeReason.RETURN)
    assert (to_gold.standing.tier, to_gold.standing.since) == ("gold", T0 + 11 * DAY)
    back = returned(p, up, tier(p, "base"), T0 + 10 * DAY, T0 + 11 * DAY)
    assert back is not None
    # back where the member was, review date and all: not below the tier held before
    assert back.standing == holding(p, "silver")


def test_a_return_of_an_earn_made_after_the_tier_was_reached_moves_no_one() -> None:
    p = program()
    up = climbed(p, ("silver", T0), ("gold", T0 + 10 * DAY))
    assert returned(p, up, tier(p, "base"), T0 + 20 * DAY, T0 + 30 * DAY) is None


def test_a_return_of_an_earn_from_before_the_standing_was_settled_moves_no_one() -> None:
    p = program()
    settled = holding(p, "gold", T0 + YEAR)  # say, renewed at a review
    assert returned(p, settled, tier(p, "base"), T0, T0 + YEAR + DAY) is None


def test_a_tier_held_before_the_returned_earn_stays_even_never_reviewed_ones() -> None:
    p = program(gold_never_downgrades=True)
    up = climbed(p, ("base", T0), ("gold", T0 + DAY), ("platinum", T0 + 400 * DAY))
    back = returned(p, up, tier(p, "base"), T0 + 400 * DAY, T0 + 401 * DAY)
    assert back is not None
    assert (back.standing.tier, back.standing.since, back.standing.period_ends_at) == (
        "gold",
        T0 + DAY,
        None,
    )
    # the earn that reached gold came back too: down to the first tier
    again = returned(p, back.standing, tier(p, "base"), T0 + DAY, T0 + 402 * DAY)
    assert again is not None
    assert again.standing.tier == "base"
    assert again.standing.period_ends_at is None


# --- reviews at the end of a period ---


def test_a_review_keeps_a_supported_tier_for_a_period_that_starts_where_the_last_ended() -> None:
    p = program()
    ends = T0 + YEAR
    up = climbed(p, ("silver", T0 - YEAR), ("gold", T0))
    settled = review(p, up, tier(p, "gold"), ends)
    assert settled.moved_from is None
    assert settled.standing == Standing("gold", T0, ends, ends + YEAR)  # settled there


def test_a_review_before_the_period_ends_changes_nothing() -> None:
    p = program()
    standing = holding(p, "gold")
    assert review(p, standing, tier(p, "base"), T0 + timedelta(days=100)).standing == standing


def test_a_review_upgrades_a_member_a_lowered_threshold_now_supports() -> None:
    p = program()
    now = T0 + timedelta(days=3)
    settled = review(p, holding(p, "silver"), tier(p, "gold"), now)
    assert (settled.moved_from, settled.reason) == ("silver", TierChangeReason.REVIEW)
    was = PriorStanding("silver", T0, T0 + YEAR, None, now)
    assert settled.standing == Standing("gold", now, T0, now + YEAR, earlier=(was,))
    # an earn recorded before it and returned: back to silver if the measure falls
    back = returned(p, settled.standing, tier(p, "base"), T0 + DAY, now + DAY)
    assert back is not None
    assert back.standing == holding(p, "silver")


def test_a_review_evaluates_a_member_never_evaluated() -> None:
    p = program()
    now = T0 + YEAR
    settled = review(p, Standing(None, T0, T0), tier(p, "gold"), now)
    assert settled.moved_from is None
    assert settled.standing == Standing("gold", T0, now, now + YEAR)


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
    assert (settled.standing.since, settled.standing.settled_at) == (ends, ends)
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
    assert renewed.standing == Standing("gold", T0, ends, ends + YEAR)


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
