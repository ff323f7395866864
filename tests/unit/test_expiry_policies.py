"""Expiry policies: lot expiry dates in the program's time zone; required settings."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from app.domain.errors import ProgramInvalid
from app.domain.expiry import Expiry, ExpiryPolicy
from app.domain.program import parse_program, program_to_data
from tests.ledger.harness import program_data

PARIS = ZoneInfo("Europe/Paris")
EARNED = datetime(2026, 1, 31, 23, 30, tzinfo=UTC)  # 1 February, 00:30 in Paris


@pytest.mark.parametrize(
    ("expiry", "expected"),
    [
        (Expiry(ExpiryPolicy.ROLLING, days=10), datetime(2026, 2, 10, 23, 30, tzinfo=UTC)),
        (Expiry(ExpiryPolicy.END_OF_MONTH, months=0), datetime(2026, 3, 1, tzinfo=PARIS)),
        (Expiry(ExpiryPolicy.END_OF_MONTH, months=12), datetime(2027, 3, 1, tzinfo=PARIS)),
        (Expiry(ExpiryPolicy.END_OF_YEAR, months=0), datetime(2027, 1, 1, tzinfo=PARIS)),
        (Expiry(ExpiryPolicy.END_OF_YEAR, months=11), datetime(2028, 1, 1, tzinfo=PARIS)),
        (Expiry(ExpiryPolicy.INACTIVITY, days=30), None),
        (Expiry(), None),
    ],
)
def test_lot_expiry_per_policy(expiry: Expiry, expected: datetime | None) -> None:
    assert expiry.lot_expires_at(EARNED, PARIS) == expected


def test_a_policy_needs_its_setting_and_round_trips() -> None:
    data = program_data(expiry_policy="END_OF_YEAR")
    del data["program"]["points_expiry_days"]
    with pytest.raises(ProgramInvalid, match="expiry_months"):
        parse_program(data)
    data["program"]["expiry_months"] = 12
    data["program"]["expiry_warning_days"] = 14
    program = parse_program(data)
    assert program.expiry == Expiry(ExpiryPolicy.END_OF_YEAR, None, 12, 14)
    assert parse_program(program_to_data(program)) == program


def test_existing_programs_keep_rolling_expiry() -> None:
    assert parse_program(program_data()).expiry == Expiry(ExpiryPolicy.ROLLING, 365, None, 30)
