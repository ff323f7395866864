"""Activities earn by activity rules, once each: birthdays once a year, reviews per reference."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from app.domain.errors import ErrorCode
from app.services.activity import RecordActivity, record_activity
from app.services.common import MemberRef
from app.services.program import apply_program
from tests.ledger.harness import Ledger
from tests.ledger.programs import activity_program


async def test_activities_earn_once_and_purchases_ignore_activity_rules(db_url: str) -> None:
    ledger = await Ledger.open(db_url)
    async with ledger:
        await apply_program(ledger.uow, ledger.clock, activity_program())
        m = await ledger.enroll("active")

        async def did(
            kind: str,
            key: str,
            *,
            reference: str | None = None,
            name: str | None = None,
            at: datetime | None = None,
        ) -> Any:
            return await record_activity(
                ledger.uow,
                ledger.clock,
                principal="client:t",
                idempotency_key=key,
                cmd=RecordActivity(
                    MemberRef(id=m), kind, at or ledger.clock.now(), name, reference
                ),
            )

        assert (await did("SIGNUP", "a1")).value.points == 100
        assert (await did("SIGNUP", "a2")).errors[0].code == ErrorCode.LIMIT_REACHED
        assert (await did("BIRTHDAY", "a3")).value.points == 250
        assert (await did("BIRTHDAY", "a4")).errors[0].code == ErrorCode.LIMIT_REACHED
        next_year = ledger.clock.now() + timedelta(days=366)
        ledger.clock.current = next_year
        assert (await did("BIRTHDAY", "a5")).value.points == 250  # a new calendar year
        assert (await did("REVIEW", "a6", reference="r-1")).value.points == 20
        assert (await did("REVIEW", "a7", reference="r-1")).errors[
            0
        ].code == ErrorCode.LIMIT_REACHED
        assert (await did("CUSTOM", "a8", name="STORE_VISIT", reference="v-1")).value.points == 20
        assert (await did("REVIEW", "a9", reference="r-2")).value.points == 0  # monthly cap
        unknown = await did("CUSTOM", "a10", name="SKYDIVING", reference="x")
        assert unknown.errors[0].code == ErrorCode.INVALID_INPUT
        assert (await did("REVIEW", "a11")).errors[0].field == "reference"
        assert (await ledger.purchase(m, "o-1", "10")).value.points == 10  # base only
        assert (await ledger.balance(m))["available"] == 100 + 250 + 250 + 20 + 20 + 10


def test_activity_rules_must_name_known_activities_and_give_a_bonus() -> None:
    import pytest

    from app.domain.errors import ProgramInvalid
    from app.domain.program import parse_program

    data = activity_program()
    data["rules"][1]["conditions"]["activities"] = ["CUSTOM:SKYDIVING"]
    data["rules"][2]["effect"] = "PER_UNIT"
    with pytest.raises(ProgramInvalid) as caught:
        parse_program(data)
    problems = "\n".join(caught.value.problems)
    assert "rules[1].conditions.activities: unknown activities ['CUSTOM:SKYDIVING']" in problems
    assert "rules[2].effect: a rule on activities gives a BONUS" in problems
