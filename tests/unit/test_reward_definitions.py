"""Rewards and providers in a program file: gift cards name a provider and what they send,
secrets are refused in the file (they come from TALLY_PROVIDER_<NAME>_*), and a stored
program reads back as it was written."""

from __future__ import annotations

import copy
from decimal import Decimal
from typing import Any

import pytest

from app.domain.errors import ProgramInvalid
from app.domain.program import parse_program, program_to_data
from tests.ledger.harness import program_data

GIFT = {
    "key": "gift-25",
    "name": "Gift 25",
    "cost": 100,
    "kind": "GIFT_CARD",
    "provider": "cards",
    "product_id": "ZALANDO-EUR",
    "face_value": "25",
    "face_currency": "EUR",
}


def _with(reward: dict[str, Any], providers: dict[str, Any] | None = None) -> dict[str, Any]:
    data = program_data()
    data["providers"] = (
        providers
        if providers is not None
        else {
            "cards": {"kind": "giftcard-api", "base_url": "https://cards.example", "email": "a@b.c"}
        }
    )
    data["rewards"].append(reward)
    return data


def _problems(data: dict[str, Any]) -> list[str]:
    with pytest.raises(ProgramInvalid) as raised:
        parse_program(data)
    return raised.value.problems


def test_a_gift_card_reads_back_as_written() -> None:
    program = parse_program(_with({**GIFT, "delivery": "LINK", "deadline_hours": 48}))
    gift = program.rewards[-1]
    assert (gift.provider, gift.product_id, gift.face_value, gift.delivery) == (
        "cards",
        "ZALANDO-EUR",
        Decimal("25"),
        "LINK",
    )
    assert gift.deadline == 48
    assert program.providers[0].env_name("access_token") == "TALLY_PROVIDER_CARDS_ACCESS_TOKEN"
    assert parse_program(program_to_data(program)) == program


def test_default_deadlines_follow_the_kind() -> None:
    program = parse_program(_with(GIFT))
    deadlines = {r.key: r.deadline for r in program.rewards}
    assert deadlines["gift-25"] == 72
    assert deadlines["coffee"] == 30 * 24


def test_secrets_never_go_in_the_program_file() -> None:
    providers = {
        "cards": {
            "kind": "giftcard-api",
            "base_url": "https://cards.example",
            "email": "a@b.c",
            "access_token": "s3cret",
        }
    }
    [problem] = _problems(_with(GIFT, providers))
    assert "providers.cards.access_token" in problem
    assert "TALLY_PROVIDER_CARDS_ACCESS_TOKEN" in problem


@pytest.mark.parametrize(
    ("change", "where"),
    [
        ({"provider": None}, "provider"),
        ({"provider": "nobody"}, "provider"),
        ({"face_currency": "euro"}, "face_currency"),
        ({"face_value": "-5"}, "face_value"),
        ({"delivery": "PIGEON"}, "delivery"),
        ({"product_id": ""}, "product_id"),
        ({"deadline_hours": 0}, "deadline_hours"),
    ],
)
def test_a_gift_card_that_cannot_be_ordered_is_refused(change: dict[str, Any], where: str) -> None:
    reward = {k: v for k, v in {**GIFT, **change}.items() if v is not None}
    problems = _problems(_with(reward))
    assert any("rewards[" in p and where in p for p in problems), problems


def test_a_provider_fulfils_only_its_kind_and_other_kinds_take_no_gift_fields() -> None:
    manual = {"cards": {"kind": "manual"}}
    assert any("cannot fulfil GIFT_CARD" in p for p in _problems(_with(GIFT, manual)))
    mug = {"key": "mug", "name": "Mug", "cost": 5, "kind": "PHYSICAL", "face_value": "3"}
    assert any("only a GIFT_CARD" in p for p in _problems(_with(mug)))
    broken = copy.deepcopy(_with(GIFT))
    broken["providers"]["cards"]["base_url"] = "ftp://cards.example"
    assert any("base_url" in p for p in _problems(broken))


def test_visibility_and_limit_periods_are_checked_and_read_back() -> None:
    lounge = {"key": "vip", "name": "VIP", "cost": 5, "visible_tiers": ["gold"]}
    daily = {
        "key": "daily",
        "name": "Daily",
        "cost": 5,
        "per_member_limit": 1,
        "limit_period": "day",
    }
    program = parse_program(_with(lounge) | {"rewards": [*_with(lounge)["rewards"], daily]})
    by_key = {r.key: r for r in program.rewards}
    assert by_key["vip"].visible_tiers == ("gold",)
    assert by_key["daily"].limit_period == "DAY"
    assert parse_program(program_to_data(program)) == program
    assert any("visible_tiers" in p for p in _problems(_with({**lounge, "visible_tiers": ["x"]})))
    assert any("limit_period" in p for p in _problems(_with({**daily, "limit_period": "WEEK"})))


def test_an_experience_has_its_date_and_only_an_experience_has_one() -> None:
    tasting = {"key": "tasting", "name": "Tasting", "cost": 40, "kind": "EXPERIENCE", "stock": 5}
    program = parse_program(_with({**tasting, "experience_at": "2026-06-01T19:00:00+02:00"}))
    at = program.rewards[-1].experience_at
    assert at is not None
    assert at.isoformat() == "2026-06-01T19:00:00+02:00"
    assert parse_program(program_to_data(program)) == program
    [missing] = _problems(_with(tasting))
    assert missing.startswith("rewards[3].experience_at: an EXPERIENCE reward has its date")
    [naive] = _problems(_with({**tasting, "experience_at": "2026-06-01T19:00:00"}))
    assert naive.startswith("rewards[3].experience_at: a date-time with a UTC offset")
    [garbled] = _problems(_with({**tasting, "experience_at": "soon"}))
    assert "is not an ISO 8601 date-time" in garbled
    mug = {"key": "mug", "name": "Mug", "cost": 5, "kind": "PHYSICAL"}
    [stray] = _problems(_with({**mug, "experience_at": "2026-06-01T19:00:00+02:00"}))
    assert stray.startswith("rewards[3].experience_at: only an EXPERIENCE reward has it")


def test_a_stored_experience_from_before_the_date_still_reads_back() -> None:
    data = _with({"key": "tasting", "name": "Tasting", "cost": 40, "kind": "EXPERIENCE"})
    program = parse_program(data, limits=False)
    assert program.rewards[-1].experience_at is None
