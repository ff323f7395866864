"""The catalog over GraphQL (catalog:write): rewards created, changed and retired (its
redemptions unaffected), checked as a program file's would be; program rewards stay the
file's; code pools imported with duplicates and bad lines reported, each code given out
once, even to 60 concurrent redemptions of a pool of 10."""

from __future__ import annotations

import asyncio
from typing import Any

from tests.api import ops
from tests.api.client import Api

CREATE = """
mutation($input: RewardInput!, $key: String!) {
  createReward(input: $input, idempotencyKey: $key) {
    reward { id key kind cost stock remainingStock active deadlineHours }
    userErrors { field code message }
  }
}"""
UPDATE = """
mutation($id: ID!, $input: RewardChangesInput!, $key: String!) {
  updateReward(rewardId: $id, input: $input, idempotencyKey: $key) {
    reward { name cost stock minTier } userErrors { field code message }
  }
}"""
RETIRE = """
mutation($id: ID!, $key: String!) {
  retireReward(rewardId: $id, idempotencyKey: $key) {
    reward { active } userErrors { field code message }
  }
}"""
IMPORT = """
mutation($id: ID!, $codes: [String!]!, $key: String!) {
  importRewardCodes(rewardId: $id, codes: $codes, idempotencyKey: $key) {
    imported rejected { line code reason } reward { stock remainingStock }
    userErrors { field code message }
  }
}"""


async def _create(api: Api, **fields: Any) -> dict[str, Any]:
    base = {"key": "poster", "name": "Poster", "kind": "PHYSICAL", "cost": 10}
    body = await api.data(CREATE, {"input": {**base, **fields}, "key": ops.key()})
    return dict(body["createReward"])


async def test_staff_create_change_and_retire_a_reward(api: Api) -> None:
    made = await _create(api, stock=3)
    assert made["userErrors"] == []
    reward = made["reward"]
    assert (reward["kind"], reward["stock"], reward["deadlineHours"]) == ("PHYSICAL", 3, 720)
    changed = (
        await api.data(
            UPDATE,
            {"id": reward["id"], "input": {"cost": 12, "minTier": "gold"}, "key": ops.key()},
        )
    )["updateReward"]
    assert changed["reward"] == {"name": "Poster", "cost": 12, "stock": 3, "minTier": "gold"}

    member = await ops.enroll(api, "collector")
    await ops.adjust(api, member, 100)
    await api.data(UPDATE, {"id": reward["id"], "input": {"minTier": None}, "key": ops.key()})
    redemption = await ops.redeem(api, member, "poster")
    retired = (await api.data(RETIRE, {"id": reward["id"], "key": ops.key()}))["retireReward"]
    assert retired["reward"] == {"active": False}
    assert await ops.redemption_status(api, redemption["id"]) == "HELD"  # unaffected
    keys = await ops.reward_ids(api)
    assert "poster" not in keys  # closed: no longer listed
    again = (await api.data(RETIRE, {"id": reward["id"], "key": ops.key()}))["retireReward"]
    assert ops.codes(again) == ["INVALID_STATE"]


async def test_a_reward_is_checked_as_a_program_file_would_be(api: Api) -> None:
    assert ops.codes(await _create(api, cost=0)) == ["INVALID_INPUT"]
    bad_tier = await _create(api, minTier="platinum")
    [error] = bad_tier["userErrors"]
    assert (error["field"], error["code"]) == ("min_tier", "INVALID_INPUT")
    assert "not a tier key" in error["message"]
    gift = await _create(api, key="g", kind="GIFT_CARD", productId="X", faceValue="5")
    assert ops.codes(gift)[0] == "INVALID_INPUT"  # no provider, no currency
    assert (await _create(api))["userErrors"] == []
    assert ops.codes(await _create(api)) == ["INVALID_INPUT"]  # the key is taken
    coffee = (await ops.reward_ids(api))["coffee"]
    file_reward = (await api.data(RETIRE, {"id": coffee, "key": ops.key()}))["retireReward"]
    assert ops.codes(file_reward) == ["INVALID_STATE"]  # the program file's own


async def test_codes_are_imported_deduplicated_and_each_given_out_once(api: Api) -> None:
    made = await _create(api, key="pool", kind="DISCOUNT_CODE", codeSource="POOL")
    assert made["reward"]["stock"] == 0
    rid = made["reward"]["id"]
    codes = [f"POOL-{n:03}" for n in range(10)]
    lines = [*codes[:5], "", "POOL-000", "BAD CODE", "x" * 101, "NUL\x00", *codes[5:]]
    out = (await api.data(IMPORT, {"id": rid, "codes": lines, "key": ops.key()}))[
        "importRewardCodes"
    ]
    assert out["imported"] == 10
    assert [(r["line"], r["reason"]) for r in out["rejected"]] == [
        (7, "a repeat of an earlier line"),
        (8, "whitespace inside the code"),
        (9, "longer than 100 characters"),
        (10, "a control character"),
    ]
    assert out["reward"] == {"stock": 10, "remainingStock": 10}
    again = (await api.data(IMPORT, {"id": rid, "codes": codes[:2], "key": ops.key()}))[
        "importRewardCodes"
    ]
    assert again["imported"] == 0
    assert {r["reason"] for r in again["rejected"]} == {"already given out or imported"}

    members = [await ops.enroll(api, f"fan-{i}") for i in range(20)]
    for m in members:
        await ops.adjust(api, m, 100)
    rewards = await ops.reward_ids(api)

    async def redeem(member: int) -> dict[str, Any]:
        variables = {
            "key": ops.key(),
            "input": {"rewardId": rewards["pool"], "memberId": ops.member_gid(member)},
        }
        return dict((await api.data(ops.REDEEM, variables))["redeemReward"])

    outs = await asyncio.gather(*(redeem(m) for m in members * 3))
    won = [o["redemption"]["codes"] for o in outs if o["redemption"]]
    assert len(won) == 10
    assert sorted(c for got in won for c in got) == codes  # each pool code exactly once
    assert {ops.codes(o)[0] for o in outs if not o["redemption"]} == {"OUT_OF_STOCK"}


async def test_only_a_pool_takes_codes_and_only_staff_manage_the_catalog(api: Api) -> None:
    coffee = (await ops.reward_ids(api))["coffee"]
    out = (await api.data(IMPORT, {"id": coffee, "codes": ["A"], "key": ops.key()}))[
        "importRewardCodes"
    ]
    assert ops.codes(out) == ["INVALID_STATE"]
    member = api.token(member="someone")
    denied = await api.gql(
        CREATE,
        {"input": {"key": "k", "name": "n", "kind": "PHYSICAL", "cost": 1}, "key": "x"},
        token=member,
    )
    assert ops.error_codes(denied) == ["FORBIDDEN"]
