"""The README's complete program file is a valid program and shows every section."""

from __future__ import annotations

import re
from pathlib import Path

from app.domain.program import parse_program
from app.domain.tiers.policy import DowngradePolicy
from app.services.program import parse_program_text

README = Path(__file__).resolve().parents[2] / "README.md"


def readme_program() -> str:
    text = README.read_text(encoding="utf-8")
    section = text.split("## Designing a program", 1)[1].split("\n## ", 1)[0]
    found = re.search(r"```toml\n(.*?)```", section, re.S)
    assert found, "the Designing a program section has no TOML example"
    return found.group(1)


def test_the_readme_example_is_a_complete_valid_program() -> None:
    program = parse_program(parse_program_text(readme_program()))
    assert [t.key for t in program.tiers] == ["green", "gold", "reserve"]
    assert program.tiers[-1].never_downgrade
    assert program.tier_downgrade is DowngradePolicy.ONE_LEVEL
    assert program.tier_grace_days == 30
    assert program.pending_days == 14
    assert program.referral is not None
    assert {r.key for r in program.rules} >= {"base", "double-tuesday", "birthday"}
    assert any(r.conditions.activities for r in program.rules)
    assert program.rewards
    assert program.checkout is not None
