"""Operation strings and small set-up steps shared by the test_api_* files."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

from app.graphql.ids import from_global_id, to_global_id
from tests.api.client import Api

_keys = itertools.count(1)


def key() -> str:
    """A fresh idempotency key."""
    return f"key-{next(_keys)}"


def just_now() -> str:
    """An occurredAt a minute ago: inside the return window, tier period and expiry."""
    return (datetime.now(UTC) - timedelta(minutes=1)).isoformat()


def recent(weekday: int) -> str:
    """The latest past `weekday` (0 Monday) at 10:00 UTC: a date the program accepts (it is
    inside max_backdate_days) on the weekday an earning rule asks for."""
    now = datetime.now(UTC)
    day = now.replace(hour=10, minute=0, second=0, microsecond=0)
    day -= timedelta(days=(day.weekday() - weekday) % 7)
    if day > now - timedelta(minutes=1):
        day -= timedelta(days=7)
    return day.isoformat()


def member_gid(pk: int) -> str:
    return to_global_id("Member", pk)


ERRORS = "userErrors { field code message }"
BALANCE = "balance { available pending held lifetimeEarned version }"

ENROLL = f"""
mutation($key: String!, $input: EnrollMemberInput!) {{
  enrollMember(idempotencyKey: $key, input: $input) {{
    member {{ id externalId email displayName }}
    {ERRORS}
  }}
}}"""

PURCHASE = f"""
mutation($key: String!, $input: RecordPurchaseInput!) {{
  recordPurchase(idempotencyKey: $key, input: $input) {{
    member {{ id externalId }}
    pointsEarned pending
    {BALANCE}
    {ERRORS}
  }}
}}"""

RETURN = f"""
mutation($key: String!, $input: RecordReturnInput!) {{
  recordReturn(idempotencyKey: $key, input: $input) {{
    member {{ id }}
    pointsReversed shortfall
    {BALANCE}
    {ERRORS}
  }}
}}"""

REDEMPTION_FIELDS = "id quantity points status codes createdAt resolvedAt reward { key }"

REDEEM = f"""
mutation($key: String!, $input: RedeemRewardInput!) {{
  redeemReward(idempotencyKey: $key, input: $input) {{
    redemption {{ {REDEMPTION_FIELDS} }}
    {BALANCE}
    {ERRORS}
  }}
}}"""

CANCEL = f"""
mutation($key: String!, $id: ID!) {{
  cancelRedemption(idempotencyKey: $key, redemptionId: $id) {{
    redemption {{ {REDEMPTION_FIELDS} }}
    {BALANCE}
    {ERRORS}
  }}
}}"""

FULFILL = f"""
mutation($key: String!, $id: ID!) {{
  fulfillRedemption(idempotencyKey: $key, redemptionId: $id) {{
    redemption {{ {REDEMPTION_FIELDS} }}
    {BALANCE}
    {ERRORS}
  }}
}}"""

ADJUST = f"""
mutation($key: String!, $input: AdjustPointsInput!) {{
  adjustPoints(idempotencyKey: $key, input: $input) {{
    member {{ id externalId }}
    {BALANCE}
    {ERRORS}
  }}
}}"""

VIEWER = "{ viewer { id externalId } }"

MEMBER = f"""
query($id: ID, $ext: String) {{
  member(id: $id, externalId: $ext) {{ id externalId email {BALANCE} }}
}}"""

MEMBER_BALANCE = f"query($id: ID!) {{ member(id: $id) {{ {BALANCE} }} }}"

NODE = """
query($id: ID!) {
  node(id: $id) {
    __typename id
    ... on Member { externalId }
    ... on Reward { key cost active }
    ... on Redemption { status points }
  }
}"""

PROGRAM = """
{ program { name version currency pointsPerUnit pointsExpiryDays pendingDays activatedAt
    tiers { key name threshold multiplier benefits } } }"""

REWARDS = """
query($first: Int, $after: String) {
  rewards(first: $first, after: $after) {
    edges { cursor node { id key name cost stock remainingStock minTier perMemberLimit active } }
    pageInfo { hasNextPage endCursor }
  }
}"""

ESTIMATE = """
query($amount: Decimal!, $currency: String!, $memberId: ID) {
  estimatePoints(amount: $amount, currency: $currency, memberId: $memberId) {
    points basePoints multiplier currency tier { key }
  }
}"""


def codes(payload: dict[str, Any]) -> list[str]:
    return [e["code"] for e in payload["userErrors"]]


def error_codes(body: dict[str, Any]) -> list[str | None]:
    return [(e.get("extensions") or {}).get("code") for e in body.get("errors") or []]


async def enroll(api: Api, external_id: str, **extra: Any) -> int:
    """Enroll a member as a partner; returns its primary key."""
    out = (await api.data(ENROLL, {"key": key(), "input": {"externalId": external_id, **extra}}))[
        "enrollMember"
    ]
    assert out["userErrors"] == [], out
    return from_global_id(out["member"]["id"])[1]


async def adjust(api: Api, member_pk: int, points: int) -> dict[str, Any]:
    out = (
        await api.data(
            ADJUST,
            {
                "key": key(),
                "input": {"memberId": member_gid(member_pk), "points": points, "reason": "test"},
            },
        )
    )["adjustPoints"]
    assert out["userErrors"] == [], out
    return dict(out["balance"])


async def purchase(api: Api, member_pk: int, order: str, amount: str) -> dict[str, Any]:
    out = (
        await api.data(
            PURCHASE,
            {
                "key": key(),
                "input": {
                    "memberId": member_gid(member_pk),
                    "orderId": order,
                    "amount": amount,
                    "currency": "EUR",
                    "occurredAt": just_now(),
                },
            },
        )
    )["recordPurchase"]
    assert out["userErrors"] == [], out
    return dict(out)


async def reward_ids(api: Api) -> dict[str, str]:
    """Global ids of the active rewards, by key."""
    page = (await api.data(REWARDS, {"first": 100}))["rewards"]
    return {e["node"]["key"]: e["node"]["id"] for e in page["edges"]}


ADDRESS = {
    "name": "Ada Member",
    "line1": "Hauptstr. 1",
    "city": "Berlin",
    "postalCode": "10115",
    "country": "DE",
}


async def redeem(
    api: Api,
    member_pk: int,
    reward_key: str,
    quantity: int = 1,
    shipping_address: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Redeem as a partner (redemptions:write); returns the redemption."""
    ship = {"shippingAddress": shipping_address} if shipping_address else {}
    rewards = await reward_ids(api)
    out = (
        await api.data(
            REDEEM,
            {
                "key": key(),
                "input": {
                    "rewardId": rewards[reward_key],
                    "memberId": member_gid(member_pk),
                    "quantity": quantity,
                    **ship,
                },
            },
        )
    )["redeemReward"]
    assert out["userErrors"] == [], out
    return dict(out["redemption"])


async def balance(api: Api, member_pk: int) -> dict[str, Any]:
    return dict(
        (await api.data(MEMBER_BALANCE, {"id": member_gid(member_pk)}))["member"]["balance"]
    )


async def redemption_status(api: Api, redemption_id: str) -> str:
    node = (await api.data(NODE, {"id": redemption_id}))["node"]
    return str(node["status"])
