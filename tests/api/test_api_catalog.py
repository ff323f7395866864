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
    redemption = await ops.redeem(api, member, "poster", shipping_address=ops.ADDRESS)
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


async def test_a_reward_for_gold_is_hidden_from_others_not_just_refused(api: Api) -> None:
    made = await _create(api, key="gold-lounge", visibleTiers=["gold"])
    assert made["userErrors"] == []
    silver = await ops.enroll(api, "plain")
    await ops.adjust(api, silver, 100)
    token = api.token(member="plain")
    listed = await api.data("{ rewards(first: 50) { edges { node { key } } } }", token=token)
    assert "gold-lounge" not in {e["node"]["key"] for e in listed["rewards"]["edges"]}
    offers = await api.data(
        "{ viewer { availableRewards(first: 50) { edges { node { reward { key } } } } } }",
        token=token,
    )
    seen = {e["node"]["reward"]["key"] for e in offers["viewer"]["availableRewards"]["edges"]}
    assert "gold-lounge" not in seen
    assert "coffee" in seen
    partner_view = await ops.reward_ids(api)  # a partner sees the whole catalog
    variables = {
        "key": ops.key(),
        "input": {"rewardId": partner_view["gold-lounge"], "memberId": ops.member_gid(silver)},
    }
    refused = (await api.data(ops.REDEEM, variables))["redeemReward"]
    assert ops.codes(refused) == ["REWARD_NOT_FOUND"]
    await ops.purchase(api, silver, "o-gold", "1200")  # gold now (threshold 1000)
    listed = await api.data("{ rewards(first: 50) { edges { node { key } } } }", token=token)
    assert "gold-lounge" in {e["node"]["key"] for e in listed["rewards"]["edges"]}


async def test_a_limit_per_day_opens_again_the_next_day(db_url: str, tmp_path: Any) -> None:
    from datetime import UTC, datetime

    from app.services.clock import FixedClock
    from tests.api.client import make_settings, open_api

    clock = FixedClock(datetime.now(UTC).replace(hour=10, minute=0, second=0, microsecond=0))
    async with open_api(make_settings(db_url, tmp_path), clock=clock) as api:
        made = await _create(api, key="daily", perMemberLimit=1, limitPeriod="DAY")
        assert made["userErrors"] == []
        member = await ops.enroll(api, "daily-fan")
        await ops.adjust(api, member, 100)
        assert (await ops.redeem(api, member, "daily", shipping_address=ops.ADDRESS))[
            "status"
        ] == "HELD"
        variables = {
            "key": ops.key(),
            "input": {"rewardId": made["reward"]["id"], "memberId": ops.member_gid(member)},
        }
        again = (await api.data(ops.REDEEM, variables))["redeemReward"]
        assert ops.codes(again) == ["LIMIT_REACHED"]
        clock.advance(hours=20)  # the next day in the program's time zone (UTC)
        assert (await ops.redeem(api, member, "daily", shipping_address=ops.ADDRESS))[
            "status"
        ] == "HELD"
        bad = await _create(api, key="weekly", perMemberLimit=1, limitPeriod="WEEK")
        assert ops.codes(bad) == ["INVALID_INPUT"]


async def test_review_findings_on_the_catalog_stay_fixed(api: Api) -> None:
    """A void keeps a pool code spent; stock can be made unlimited again; text is checked;
    a program may not drop a tier a catalog reward needs."""
    made = await _create(api, key="pool2", kind="DISCOUNT_CODE", codeSource="POOL")
    rid = made["reward"]["id"]
    await api.data(IMPORT, {"id": rid, "codes": ["ONLY-1", "ONLY-2"], "key": ops.key()})
    member = await ops.enroll(api, "pooler")
    await ops.adjust(api, member, 100)
    first = await ops.redeem(api, member, "pool2")
    cancel = (
        "mutation($id: ID!, $key: String!) { cancelRedemption(redemptionId: $id, "
        "idempotencyKey: $key) { userErrors { code } } }"
    )
    await api.data(cancel, {"id": first["id"], "key": ops.key()})
    second = await ops.redeem(api, member, "pool2")  # the other code, not the shown one
    assert second["codes"] != first["codes"]
    variables = {"key": ops.key(), "input": {"rewardId": rid, "memberId": ops.member_gid(member)}}
    assert ops.codes((await api.data(ops.REDEEM, variables))["redeemReward"]) == ["OUT_OF_STOCK"]

    poster = (await _create(api, key="poster2", stock=5))["reward"]["id"]
    unlimited = (
        await api.data(UPDATE, {"id": poster, "input": {"stock": None}, "key": ops.key()})
    )["updateReward"]
    assert unlimited["reward"]["stock"] is None
    assert ops.codes(await _create(api, key="bad\x00key")) == ["INVALID_INPUT"]
    assert ops.codes(await _create(api, key="long", name="n" * 201)) == ["INVALID_INPUT"]

    await _create(api, key="for-gold", minTier="gold")
    program = ops_program_without_gold()
    activated = (
        await api.data(
            "mutation($d: String!, $k: String!) { activateProgram(definition: $d, "
            "idempotencyKey: $k) { userErrors { code message } } }",
            {"d": program, "k": ops.key()},
        )
    )["activateProgram"]
    [error] = activated["userErrors"]
    assert "'for-gold' needs tier 'gold'" in error["message"]


def ops_program_without_gold() -> str:
    return """
[program]
name = "No gold"
currency = "EUR"
points_per_unit = "1"

[[tiers]]
key = "member"
name = "Member"
threshold = 0
"""


async def test_a_members_pages_are_full_however_many_rewards_are_hidden(api: Api) -> None:
    for n in range(5):  # five gold-only rewards between the file's and a visible one
        assert (await _create(api, key=f"gold-{n}", visibleTiers=["gold"]))["userErrors"] == []
    assert (await _create(api, key="for-all"))["userErrors"] == []
    await ops.enroll(api, "pager")
    token = api.token(member="pager")
    page = "edges { node { key } } pageInfo { hasNextPage endCursor }"
    seen: list[str] = []
    after = None
    for _ in range(10):
        body = await api.data(
            f"query($after: String) {{ rewards(first: 2, after: $after) {{ {page} }} }}",
            {"after": after},
            token=token,
        )
        got = body["rewards"]
        seen += [e["node"]["key"] for e in got["edges"]]
        if not got["pageInfo"]["hasNextPage"]:
            break
        assert len(got["edges"]) == 2  # a page short of `first` only at the end
        after = got["pageInfo"]["endCursor"]
    assert seen == ["coffee", "tote", "lounge", "for-all"]
    offers = await api.data(
        "{ viewer { availableRewards(first: 4) { edges { node { reward { key } } } "
        "pageInfo { hasNextPage } } } }",
        token=token,
    )
    listed = offers["viewer"]["availableRewards"]
    assert [e["node"]["reward"]["key"] for e in listed["edges"]] == seen
    assert listed["pageInfo"]["hasNextPage"] is False
