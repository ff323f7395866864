"""EXPERIENCE rewards over GraphQL: the date is required (and only allowed there), shown as
Reward.experienceAt and in Redemption.delivery next to the booking reference that
updateRedemption sets; once the date has passed the experience is REWARD_UNAVAILABLE."""

from __future__ import annotations

from typing import Any

from tests.api import ops
from tests.api.client import Api

CREATE = """
mutation($input: RewardInput!, $key: String!) {
  createReward(input: $input, idempotencyKey: $key) {
    reward { id key experienceAt } userErrors { field code message }
  }
}"""
BOOK = """
mutation($id: ID!, $key: String!, $ref: String) {
  updateRedemption(redemptionId: $id, status: FULFILLED, idempotencyKey: $key,
                   bookingReference: $ref) {
    redemption { status delivery { bookingReference experienceAt codes } }
    userErrors { field code message }
  }
}"""
REDEEM = """
mutation($input: RedeemRewardInput!, $key: String!) {
  redeemReward(input: $input, idempotencyKey: $key) {
    redemption { id } userErrors { field code message }
  }
}"""
FUTURE = "2099-06-01T17:00:00+00:00"


async def _create(api: Api, **fields: Any) -> dict[str, Any]:
    base = {"key": "tasting", "name": "Tasting", "kind": "EXPERIENCE", "cost": 40, "stock": 5}
    body = await api.data(CREATE, {"input": {**base, **fields}, "key": ops.key()})
    return dict(body["createReward"])


async def test_an_experience_has_its_date_and_its_booking_in_the_delivery(api: Api) -> None:
    undated = await _create(api)
    assert [(e["code"], e["field"]) for e in undated["userErrors"]] == [
        ("INVALID_INPUT", "experience_at")
    ]
    stray = await _create(api, key="mug", kind="PHYSICAL", experienceAt=FUTURE)
    assert [(e["code"], e["field"]) for e in stray["userErrors"]] == [
        ("INVALID_INPUT", "experience_at")
    ]
    made = await _create(api, experienceAt="2099-06-01T19:00:00+02:00")
    assert made["userErrors"] == []
    assert made["reward"]["experienceAt"] == FUTURE
    member = await ops.enroll(api, "guest")
    await ops.adjust(api, member, 100)
    seat = await ops.redeem(api, member, "tasting")
    booked = (await api.data(BOOK, {"id": seat["id"], "key": ops.key(), "ref": "BK-42"}))[
        "updateRedemption"
    ]
    assert booked["userErrors"] == []
    assert booked["redemption"] == {
        "status": "FULFILLED",
        "delivery": {"bookingReference": "BK-42", "experienceAt": FUTURE, "codes": []},
    }


async def test_a_past_experience_cannot_be_redeemed(api: Api) -> None:
    made = await _create(api, key="yesterday", experienceAt="2020-01-01T10:00:00+00:00")
    assert made["userErrors"] == []
    member = await ops.enroll(api, "latecomer")
    await ops.adjust(api, member, 100)
    input_ = {"rewardId": made["reward"]["id"], "memberId": ops.member_gid(member)}
    late = (await api.data(REDEEM, {"input": input_, "key": ops.key()}))["redeemReward"]
    assert late["redemption"] is None
    assert [(e["code"], e["field"]) for e in late["userErrors"]] == [
        ("REWARD_UNAVAILABLE", "rewardId")
    ]
    assert (await ops.balance(api, member))["held"] == 0
