"""Program files: validated with one clear message per problem; diffs for `program apply`."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.domain.errors import ProgramInvalid
from app.domain.program import parse_program, program_to_data
from app.services.program import (
    DEMO_PROGRAM,
    diff_programs,
    load_program_file,
    parse_program_text,
)
from tests.ledger.harness import program_data


def test_the_demo_program_is_valid_and_round_trips() -> None:
    data = load_program_file(DEMO_PROGRAM)
    program = parse_program(data)
    assert [t.key for t in program.tiers] == ["green", "gold", "reserve"]
    assert program_to_data(program) == data


def test_every_problem_is_reported_with_its_place() -> None:
    data = program_data()
    data["program"]["currency"] = "euro"
    data["program"]["time_zone"] = "Mars/Olympus"
    data["tiers"][1]["threshold"] = 0
    data["rewards"][0]["cost"] = 0
    data["rewards"][2]["min_tier"] = "platinum"
    data["rewards"].append(dict(data["rewards"][1]))
    with pytest.raises(ProgramInvalid) as caught:
        parse_program(data)
    problems = "\n".join(caught.value.problems)
    for expected in (
        "program.currency",
        "program.time_zone",
        "tiers[1].threshold",
        "rewards[0].cost",
        "rewards[2].min_tier",
        "reward key 'tote'",
    ):
        assert expected in problems


def test_a_file_that_is_not_toml_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[program\nname = 1", encoding="utf-8")
    with pytest.raises(ProgramInvalid, match="not valid TOML"):
        load_program_file(bad)


def test_diff_names_changed_settings_tiers_and_rewards() -> None:
    old = program_to_data(parse_program(program_data()))
    changed = program_data(points_per_unit="2")
    changed["rewards"] = changed["rewards"][1:] + [{"key": "mug", "name": "Mug", "cost": 99}]
    new = program_to_data(parse_program(changed))
    assert diff_programs(old, new) == [
        "~ program.points_per_unit: '1' -> '2'",
        "- rewards.coffee",
        "+ rewards.mug",
    ]


def test_rules_round_trip_and_ties_in_priority_are_rejected() -> None:
    data = program_data()
    data["rules"] = [
        {"key": "base", "name": "Base", "priority": 10, "effect": "PER_UNIT", "value": "1"},
        {
            "key": "tue",
            "name": "Tuesday",
            "priority": 20,
            "effect": "multiplier",
            "value": "2",
            "conditions": {
                "weekdays": ["TUE"],
                "time_from": "07:00",
                "time_until": "11:00",
                "tiers": ["gold"],
                "channels": ["POS"],
            },
            "cap": {"points": 500, "period": "week"},
            "stop": True,
        },
    ]
    program = parse_program(data)
    assert [r.key for r in program.rules] == ["base", "tue"]
    assert parse_program(program_to_data(program)) == program

    data["rules"][1]["priority"] = 10
    data["rules"][1]["conditions"]["weekdays"] = ["TUESDAY"]
    data["rules"][1]["conditions"]["tiers"] = ["platinum"]
    data["rules"][1]["conditions"]["colour"] = "red"
    data["rules"][1]["cap"]["period"] = "fortnight"
    data["rules"][0]["value"] = "-1"
    with pytest.raises(ProgramInvalid) as caught:
        parse_program(data)
    problems = "\n".join(caught.value.problems)
    for expected in (
        "rule priority (no ties) 10 is used more than once",
        "rules[1].conditions.weekdays",
        "rules[1].conditions.tiers",
        "rules[1].conditions.colour",
        "rules[1].cap.period",
        "rules[0].value",
    ):
        assert expected in problems


def test_a_program_without_rules_earns_by_its_base_rate() -> None:
    program = parse_program(program_data(points_per_unit="3"))
    (rule,) = program.earning_rules
    assert (rule.effect.value, rule.value) == ("PER_UNIT", 3)


def test_diff_names_changed_rules() -> None:
    from tests.ledger.harness import rules_program

    old = program_to_data(parse_program(program_data()))
    new = program_to_data(parse_program(rules_program()))
    assert "+ rules.tuesday" in diff_programs(old, new)


def test_rule_times_and_dates_must_be_iso() -> None:
    data = program_data()
    data["rules"] = [
        {
            "key": "r",
            "name": "R",
            "priority": 1,
            "effect": "BONUS",
            "value": "5",
            "conditions": {"time_from": "7h", "time_until": "11:00", "date_from": "tomorrow"},
        }
    ]
    with pytest.raises(ProgramInvalid) as caught:
        parse_program(data)
    problems = "\n".join(caught.value.problems)
    assert "rules[0].conditions.time_from: '7h' is not a time such as 07:30" in problems
    assert "rules[0].conditions.date_from: 'tomorrow' is not a date such as 2026-12-24" in problems


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("a=" + "[" * 1000 + "]" * 1000, "definition: nested too deeply"),
        ("a=" + "{b=" * 1000 + "1" + "}" * 1000, "definition: nested too deeply"),
        ("# " + "x" * 300_000, "definition: 300,002 characters; at most 262,144"),
        ('[program]\nname = "a\x00b"', "definition: contains a NUL character"),
    ],
)
def test_deep_huge_or_binary_definitions_are_refused_with_a_reason(text: str, problem: str) -> None:
    with pytest.raises(ProgramInvalid) as refused:
        parse_program_text(text)
    assert refused.value.problems == [problem]
