"""Tiers and return policies over the API: upgradedTo, Member.tier's period fields, the
program's tier settings, a grace shown to the member, a negative balance after a return."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from app.services.clock import FixedClock
from app.services.program import apply_program
from app.services.sweeps import run_sweeps
from tests.api.client import Api, make_settings, open_api
from tests.api.ops import ERRORS, RETURN, enroll, key, member_gid, purchase, redeem
from tests.ledger.harness import program_data

PURCHASE = f"""
mutation($key: String!, $input: RecordPurchaseInput!) {{
  recordPurchase(idempotencyKey: $key, input: $input) {{
    pointsEarned upgradedTo {{ key name multiplier }} {ERRORS}
  }}
}}"""

TIER = """
query($id: ID!) { member(id: $id) { tier {
  current { key neverDowngrade } next { key } qualifyingPoints pointsToNext
  since reviewAt graceEndsAt pointsToKeep
} } }"""

VIEWER_TIER = "{ viewer { tier { current { key } reviewAt pointsToKeep } } }"

PROGRAM = """
{ program { tierMeasure tierWindow tierDowngrade tierGraceDays returnPolicy
  tiers { key neverDowngrade } } }"""


def buy(member: int, order: str, amount: str, at: datetime) -> dict[str, object]:
    return {
        "key": key(),
        "input": {
            "memberId": member_gid(member),
            "orderId": order,
            "amount": amount,
            "currency": "EUR",
            "occurredAt": at.isoformat(),
        },
    }


async def test_a_purchase_that_reaches_a_tier_says_so_and_the_tier_shows_its_period(
    api: Api,
) -> None:
    m = await enroll(api, "climber")
    now = datetime.now(UTC) - timedelta(minutes=1)
    below = (await api.data(PURCHASE, buy(m, "o-1", "400", now)))["recordPurchase"]
    assert below["upgradedTo"] is None
    out = (await api.data(PURCHASE, buy(m, "o-2", "700", now)))["recordPurchase"]
    assert out["upgradedTo"] == {"key": "gold", "name": "Gold", "multiplier": "2"}

    tier = (await api.data(TIER, {"id": member_gid(m)}))["member"]["tier"]
    assert tier["current"] == {"key": "gold", "neverDowngrade": False}
    assert (tier["next"], tier["qualifyingPoints"], tier["graceEndsAt"]) == (None, 1100, None)
    since = datetime.fromisoformat(tier["since"])
    assert datetime.fromisoformat(tier["reviewAt"]) == since + timedelta(days=365)
    assert tier["pointsToKeep"] == 1000  # earned before the upgrade does not keep it

    mine = (await api.data(VIEWER_TIER, token=api.token(member="climber")))["viewer"]["tier"]
    assert mine == {"current": {"key": "gold"}, "reviewAt": tier["reviewAt"], "pointsToKeep": 1000}


async def test_the_program_shows_its_tier_and_return_policies(api: Api) -> None:
    data = program_data(tier_downgrade="ONE_LEVEL", tier_grace_days=30)
    data["program"]["return_policy"] = "NEGATIVE_BALANCE"
    data["tiers"][1]["never_downgrade"] = True
    services = api.runtime.services
    await apply_program(services.uow, services.clock, data)
    program = (await api.data(PROGRAM))["program"]
    assert program == {
        "tierMeasure": "POINTS",
        "tierWindow": "ROLLING_12_MONTHS",
        "tierDowngrade": "ONE_LEVEL",
        "tierGraceDays": 30,
        "returnPolicy": "NEGATIVE_BALANCE",
        "tiers": [
            {"key": "member", "neverDowngrade": False},
            {"key": "gold", "neverDowngrade": True},
        ],
    }


async def test_a_return_of_spent_points_can_leave_the_balance_below_zero(api: Api) -> None:
    data = program_data()
    data["program"]["return_policy"] = "NEGATIVE_BALANCE"
    services = api.runtime.services
    await apply_program(services.uow, services.clock, data)
    m = await enroll(api, "spender")
    await purchase(api, m, "o-1", "100")
    await redeem(api, m, "tote")  # 50 points held
    out = (await api.data(RETURN, {"key": key(), "input": {"orderId": "o-1", "amount": "100"}}))[
        "recordReturn"
    ]
    assert (out["pointsReversed"], out["shortfall"], out["userErrors"]) == (100, 0, [])
    assert out["balance"]["available"] == -50
    assert out["balance"]["held"] == 50


async def test_a_member_in_grace_sees_when_it_ends_and_what_keeps_the_tier(
    db_url: str, tmp_path: Path
) -> None:
    clock = FixedClock(datetime(2026, 2, 1, 9, 0, tzinfo=UTC))
    async with open_api(
        make_settings(db_url, tmp_path), clock=clock, program=program_data(tier_grace_days=30)
    ) as api:
        m = await enroll(api, "graced")
        await api.data(PURCHASE, buy(m, "o-1", "1200", clock.now()))
        clock.advance(days=200)
        await api.data(PURCHASE, buy(m, "o-2", "200", clock.now()))  # 400 points (x2)
        clock.advance(days=166)
        await run_sweeps(api.runtime.services.uow, clock)
        tier = (await api.data(TIER, {"id": member_gid(m)}))["member"]["tier"]
        reviewed = datetime(2026, 2, 1, 9, 0, tzinfo=UTC) + timedelta(days=365)
        assert tier["current"]["key"] == "gold"
        assert datetime.fromisoformat(tier["graceEndsAt"]) == reviewed + timedelta(days=30)
        assert tier["pointsToKeep"] == 600
