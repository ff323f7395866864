"""PHYSICAL rewards are shipped to the address given with redeemReward: required there,
refused elsewhere, checked as any stored text, part of the idempotent request, shown in
Redemption.delivery, and wiped when the member is erased."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.api import ops
from tests.api.client import Api, make_settings, open_api
from tests.ledger.harness import program_data

REDEEM = """
mutation($input: RedeemRewardInput!, $key: String!) {
  redeemReward(input: $input, idempotencyKey: $key) {
    redemption { id delivery { shippingAddress {
      name line1 line2 city region postalCode country phone } } }
    userErrors { field code message }
  }
}"""
DELIVERY = """query($id: ID!) { node(id: $id) { ... on Redemption {
  delivery { shippingAddress { city } } } } }"""
ERASE = """mutation($key: String!, $input: MemberStandingInput!) {
  eraseMember(idempotencyKey: $key, input: $input) { userErrors { code } }
}"""
HOME = {**ops.ADDRESS, "line2": "c/o Lovelace", "region": "BE", "phone": "+49 30 1234"}


@pytest.fixture
async def api(db_url: str, tmp_path: Path) -> AsyncIterator[Api]:
    program = program_data()
    program["rewards"].append({"key": "mug", "name": "Mug", "cost": 30, "kind": "PHYSICAL"})
    async with open_api(make_settings(db_url, tmp_path), program=program) as opened:
        yield opened


async def _redeem(
    api: Api, member: int, reward: str, key: str | None = None, **input_: Any
) -> dict[str, Any]:
    rewards = await ops.reward_ids(api)
    variables = {
        "key": key or ops.key(),
        "input": {"rewardId": rewards[reward], "memberId": ops.member_gid(member), **input_},
    }
    return dict((await api.data(REDEEM, variables))["redeemReward"])


def _errors(payload: dict[str, Any]) -> list[tuple[str, str]]:
    return [(e["code"], e["field"]) for e in payload["userErrors"]]


async def test_goods_ship_to_the_address_given_and_only_goods_take_one(api: Api) -> None:
    member = await ops.enroll(api, "shipper")
    await ops.adjust(api, member, 100)
    missing = await _redeem(api, member, "mug")
    assert _errors(missing) == [("INVALID_INPUT", "shippingAddress")]
    coffee = await _redeem(api, member, "coffee", shippingAddress=ops.ADDRESS)
    assert _errors(coffee) == [("INVALID_INPUT", "shippingAddress")]
    for bad, field in (
        ({"country": "XX"}, "shippingAddress.country"),
        ({"country": "de"}, "shippingAddress.country"),
        ({"city": "Ber\x00lin"}, "shippingAddress.city"),
        ({"name": " "}, "shippingAddress.name"),
        ({"postalCode": "1" * 21}, "shippingAddress.postalCode"),
        ({"line2": "x\ny"}, "shippingAddress.line2"),
    ):
        refused = await _redeem(api, member, "mug", shippingAddress={**ops.ADDRESS, **bad})
        assert _errors(refused) == [("INVALID_INPUT", field)], bad
    assert (await ops.balance(api, member))["held"] == 0  # nothing was redeemed

    key = ops.key()
    done = await _redeem(api, member, "mug", key=key, shippingAddress=HOME)
    assert done["userErrors"] == []
    assert done["redemption"]["delivery"]["shippingAddress"] == {
        "name": "Ada Member",
        "line1": "Hauptstr. 1",
        "line2": "c/o Lovelace",
        "city": "Berlin",
        "region": "BE",
        "postalCode": "10115",
        "country": "DE",
        "phone": "+49 30 1234",
    }
    again = await _redeem(api, member, "mug", key=key, shippingAddress=HOME)
    assert again["redemption"]["id"] == done["redemption"]["id"]  # the first answer
    elsewhere = await _redeem(api, member, "mug", key=key, shippingAddress=ops.ADDRESS)
    assert _errors(elsewhere)[0][0] == "IDEMPOTENCY_CONFLICT"
    assert (await ops.balance(api, member))["held"] == 30


async def test_erasing_the_member_wipes_their_shipping_addresses(api: Api) -> None:
    member = await ops.enroll(api, "private")
    other = await ops.enroll(api, "neighbour")
    for m in (member, other):
        await ops.adjust(api, m, 100)
    mine = (await _redeem(api, member, "mug", shippingAddress=ops.ADDRESS))["redemption"]["id"]
    theirs = (await _redeem(api, other, "mug", shippingAddress=ops.ADDRESS))["redemption"]["id"]
    request = {"key": ops.key(), "input": {"externalId": "private", "reason": "request 12"}}
    assert (await api.data(ERASE, request))["eraseMember"]["userErrors"] == []
    gone = (await api.data(DELIVERY, {"id": mine}))["node"]
    assert gone == {"delivery": {"shippingAddress": None}}
    kept = (await api.data(DELIVERY, {"id": theirs}))["node"]
    assert kept == {"delivery": {"shippingAddress": {"city": "Berlin"}}}
