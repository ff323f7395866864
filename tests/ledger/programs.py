"""Programs and small helpers the ledger and API tests share: a referral program, an
activity program, a tiered program, and the reads their tests make."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from app.ledger.tiers.standings import TierStore
from app.services import enroll
from app.services.program import apply_program
from tests.ledger.harness import Ledger, program_data


def referral_program(**terms: Any) -> dict[str, Any]:
    data = program_data()
    data["referral"] = {
        "referrer_points": 500,
        "referee_points": 200,
        "min_order_amount": "20",
        **terms,
    }
    return data


async def enroll_referred(ledger: Ledger, external_id: str, code: str | None) -> Any:
    return await enroll.enroll_member(
        ledger.uow,
        ledger.clock,
        principal="client:t",
        idempotency_key=f"e-{external_id}",
        cmd=enroll.EnrollMember(external_id=external_id, referral_code=code),
    )


async def referral_code_of(ledger: Ledger, member_id: int) -> str:
    member = (await ledger.queries.members([member_id]))[member_id]
    assert member.referral_code is not None
    return member.referral_code


def activity_program() -> dict[str, Any]:
    data = program_data()
    data["program"]["custom_activities"] = ["STORE_VISIT"]
    data["rules"] = [
        {"key": "base", "name": "Base", "priority": 10, "effect": "PER_UNIT", "value": "1"},
        {
            "key": "welcome",
            "name": "Welcome",
            "priority": 20,
            "effect": "BONUS",
            "value": "100",
            "conditions": {"activities": ["SIGNUP"]},
        },
        {
            "key": "birthday",
            "name": "Birthday",
            "priority": 30,
            "effect": "BONUS",
            "value": "250",
            "conditions": {"activities": ["BIRTHDAY"]},
        },
        {
            "key": "review",
            "name": "Review",
            "priority": 40,
            "effect": "BONUS",
            "value": "20",
            "conditions": {"activities": ["REVIEW", "CUSTOM:STORE_VISIT"]},
            "cap": {"points": 40, "period": "MONTH"},
        },
    ]
    return data


YEAR = timedelta(days=365)


def tiered(*, flat: bool = False, top: str = "platinum", **head: Any) -> dict[str, Any]:
    """1 point per EUR; silver at 500 (x1), gold at 1000 (x2), platinum at 2000 (x3);
    `flat`: every multiplier x1; `top`: the highest tier kept."""
    data = program_data(**head)
    data["tiers"] = [
        {"key": "member", "name": "Member", "threshold": 0, "multiplier": "1"},
        {"key": "silver", "name": "Silver", "threshold": 500, "multiplier": "1"},
        {"key": "gold", "name": "Gold", "threshold": 1000, "multiplier": "1" if flat else "2"},
        {
            "key": "platinum",
            "name": "Platinum",
            "threshold": 2000,
            "multiplier": "1" if flat else "3",
        },
    ]
    keys = [t["key"] for t in data["tiers"]]
    data["tiers"] = data["tiers"][: keys.index(top) + 1]
    return data


async def open_tiered(db_url: str, data: dict[str, Any] | None = None) -> Ledger:
    ledger = await Ledger.open(db_url)
    await apply_program(ledger.uow, ledger.clock, data or tiered())
    return ledger


async def tier_of(ledger: Ledger, member: int) -> Any:
    return (await ledger.queries.tiers([member]))[member]


async def tier_changes(ledger: Ledger, member: int) -> list[dict[str, Any]]:
    async with ledger.uow.read() as r:
        return await TierStore(r.conn).changes(member)


async def review_after_a_quiet_year(db_url: str, **head: Any) -> tuple[Ledger, int]:
    ledger = await open_tiered(db_url, tiered(**head))
    m = await ledger.enroll("quiet")
    await ledger.purchase(m, "o-1", "2500")  # platinum
    ledger.clock.advance(days=300)
    await ledger.purchase(m, "o-2", "200")  # 600 points (x3) in the window: silver
    ledger.clock.advance(days=66)
    return ledger, m
