"""A member's whole journey through the API: enroll, earn, look, redeem, cancel, return."""

from __future__ import annotations

from tests.api import ops
from tests.api.client import Api

ENROLL = """
mutation($key: String!, $input: EnrollMemberInput!) {
  enrollMember(idempotencyKey: $key, input: $input) {
    member { id externalId }
    userErrors { field code message }
  }
}"""

PURCHASE = """
mutation($key: String!, $input: RecordPurchaseInput!) {
  recordPurchase(idempotencyKey: $key, input: $input) {
    pointsEarned pending
    balance { available pending held version }
    userErrors { field code message }
  }
}"""

VIEWER = """
{ viewer { externalId
    balance { available pending held lifetimeEarned version expiringSoon { points expiresAt } }
    tier { current { key } next { key } qualifyingPoints pointsToNext progress }
    availableRewards(first: 10) { edges { node { canRedeem reason reward { key cost } } } }
    activity(first: 10) { edges { node { kind account points balanceAfter reference } } }
} }"""


async def test_member_journey(api: Api) -> None:
    enrolled = await api.data(ENROLL, {"key": "e1", "input": {"externalId": "alice"}})
    member = enrolled["enrollMember"]["member"]
    assert member["externalId"] == "alice"

    bought = await api.data(
        PURCHASE,
        {
            "key": "p1",
            "input": {
                "memberId": member["id"],
                "orderId": "o-1",
                "amount": "42.90",
                "currency": "EUR",
                "channel": "ONLINE",
                "occurredAt": ops.just_now(),
            },
        },
    )
    assert bought["recordPurchase"]["userErrors"] == []
    assert bought["recordPurchase"]["pointsEarned"] == 42
    assert bought["recordPurchase"]["balance"]["available"] == 42

    me = (await api.data(VIEWER, token=api.token(member="alice")))["viewer"]
    assert me["balance"]["available"] == 42
    assert me["tier"]["current"]["key"] == "member"
    assert me["tier"]["pointsToNext"] == 1000 - 42
    rewards = {e["node"]["reward"]["key"]: e["node"] for e in me["availableRewards"]["edges"]}
    assert rewards["coffee"]["canRedeem"] is True
    assert rewards["tote"]["canRedeem"] is False
    assert rewards["tote"]["reason"] == "INSUFFICIENT_POINTS"
    assert rewards["lounge"]["reason"] == "TIER_REQUIRED"
    assert me["activity"]["edges"][0]["node"] == {
        "kind": "EARN",
        "account": "AVAILABLE",
        "points": 42,
        "balanceAfter": 42,
        "reference": "o-1",
    }
