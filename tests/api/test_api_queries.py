"""Every root query and the Member fields, over ASGI: what each token may see, and paging."""

from __future__ import annotations

from typing import Any

from app.graphql.ids import to_global_id
from tests.api import ops
from tests.api.client import Api
from tests.api.ops import (
    ESTIMATE,
    MEMBER,
    NODE,
    PROGRAM,
    REWARDS,
    VIEWER,
    member_gid,
)

MEMBER_VIEW = """
query($id: ID!, $first: Int, $after: String) {
  member(id: $id) {
    balance { available pending held lifetimeEarned version }
    tier { current { key } next { key } qualifyingPoints pointsToNext progress }
    availableRewards(first: $first) {
      edges { node { canRedeem reason reward { key } } }
      pageInfo { hasNextPage }
    }
    activity(first: $first, after: $after) {
      edges { cursor node { kind account points balanceAfter reason } }
      pageInfo { hasNextPage endCursor }
    }
    redemptions(first: $first, after: $after) {
      edges { cursor node { id points status reward { key } } }
      pageInfo { hasNextPage endCursor }
    }
  }
}"""


# --- viewer ---------------------------------------------------------------------------------


async def test_viewer_is_the_member_behind_a_member_token(api: Api) -> None:
    pk = await ops.enroll(api, "alice")

    viewer = (await api.data(VIEWER, token=api.token(member="alice")))["viewer"]

    assert viewer == {"id": member_gid(pk), "externalId": "alice"}


async def test_viewer_is_null_for_a_partner_token_and_an_unenrolled_member(api: Api) -> None:
    await ops.enroll(api, "alice")

    as_partner = await api.data(VIEWER, token=api.token(scopes={"loyalty:read", "members:read"}))
    as_stranger = await api.data(VIEWER, token=api.token(member="nobody"))

    assert as_partner["viewer"] is None
    assert as_stranger["viewer"] is None


# --- member ---------------------------------------------------------------------------------


async def test_partner_reads_a_member_by_id_and_by_external_id(api: Api) -> None:
    pk = await ops.enroll(api, "alice", email="alice@example.com")
    await ops.adjust(api, pk, 15)

    by_id = (await api.data(MEMBER, {"id": member_gid(pk)}))["member"]
    by_ext = (await api.data(MEMBER, {"ext": "alice"}))["member"]

    assert by_id == by_ext
    assert by_id["externalId"] == "alice"
    assert by_id["email"] == "alice@example.com"
    assert by_id["balance"]["available"] == 15


async def test_unknown_member_is_null(api: Api) -> None:
    by_ext = await api.data(MEMBER, {"ext": "ghost"})
    by_id = await api.data(MEMBER, {"id": member_gid(999)})

    assert by_ext["member"] is None
    assert by_id["member"] is None


async def test_member_token_reads_itself_and_never_another_member(api: Api) -> None:
    alice = await ops.enroll(api, "alice")
    bob = await ops.enroll(api, "bob", email="bob-secret@example.com")
    await ops.adjust(api, bob, 777)
    token = api.token(member="alice")

    own = (await api.data(MEMBER, {"id": member_gid(alice)}, token))["member"]
    own_ext = (await api.data(MEMBER, {"ext": "alice"}, token))["member"]
    other = await api.gql(MEMBER, {"id": member_gid(bob)}, token)
    other_ext = await api.gql(MEMBER, {"ext": "bob"}, token)

    assert own["externalId"] == "alice"
    assert own_ext == own
    for body in (other, other_ext):
        assert body["data"]["member"] is None
        assert "bob-secret" not in str(body)
        assert "777" not in str(body)


async def test_member_needs_exactly_one_of_id_and_external_id(api: Api) -> None:
    await ops.enroll(api, "alice")

    neither = await api.gql(MEMBER, {})
    both = await api.gql(MEMBER, {"id": member_gid(1), "ext": "alice"})

    for body in (neither, both):
        assert body["data"]["member"] is None
        assert ops.error_codes(body) == ["INVALID_INPUT"]


# --- node -----------------------------------------------------------------------------------


async def test_node_resolves_a_member_a_reward_and_a_redemption(api: Api) -> None:
    pk = await ops.enroll(api, "alice")
    await ops.adjust(api, pk, 30)
    redemption = await ops.redeem(api, pk, "coffee")
    coffee = (await ops.reward_ids(api))["coffee"]

    member = (await api.data(NODE, {"id": member_gid(pk)}))["node"]
    reward = (await api.data(NODE, {"id": coffee}))["node"]
    held = (await api.data(NODE, {"id": redemption["id"]}))["node"]

    assert member == {"__typename": "Member", "id": member_gid(pk), "externalId": "alice"}
    assert reward == {
        "__typename": "Reward",
        "id": coffee,
        "key": "coffee",
        "cost": 10,
        "active": True,
    }
    assert held == {
        "__typename": "Redemption",
        "id": redemption["id"],
        "status": "HELD",
        "points": 10,
    }


async def test_member_token_cannot_read_another_members_nodes(api: Api) -> None:
    alice = await ops.enroll(api, "alice")
    bob = await ops.enroll(api, "bob")
    await ops.adjust(api, alice, 20)
    await ops.adjust(api, bob, 20)
    alices = await ops.redeem(api, alice, "coffee")
    bobs = await ops.redeem(api, bob, "coffee")
    token = api.token(member="alice")

    own = (await api.data(NODE, {"id": member_gid(alice)}, token))["node"]
    own_redemption = (await api.data(NODE, {"id": alices["id"]}, token))["node"]
    other = await api.data(NODE, {"id": member_gid(bob)}, token)
    other_redemption = await api.data(NODE, {"id": bobs["id"]}, token)

    assert own["externalId"] == "alice"
    assert own_redemption["status"] == "HELD"
    assert other["node"] is None
    assert other_redemption["node"] is None


async def test_node_with_a_bad_id_is_invalid_input_and_an_unknown_type_is_null(api: Api) -> None:
    bad = await api.gql(NODE, {"id": "not-an-id!"})
    unknown = await api.data(NODE, {"id": to_global_id("Spaceship", 1)})
    missing = await api.data(NODE, {"id": to_global_id("Reward", 999)})

    assert ops.error_codes(bad) == ["INVALID_INPUT"]
    assert unknown["node"] is None
    assert missing["node"] is None


# --- program and rewards --------------------------------------------------------------------


async def test_program_shows_name_currency_and_tiers(api: Api) -> None:
    program = (await api.data(PROGRAM))["program"]

    assert program["name"] == "Test Club"
    assert program["currency"] == "EUR"
    assert program["version"] == 1
    assert program["pendingDays"] == 0
    assert program["pointsExpiryDays"] == 365
    assert [(t["key"], t["threshold"], float(t["multiplier"])) for t in program["tiers"]] == [
        ("member", 0, 1.0),
        ("gold", 1000, 2.0),
    ]


async def test_rewards_connection_pages_with_first_and_after(api: Api) -> None:
    first = (await api.data(REWARDS, {"first": 2}))["rewards"]
    rest = (await api.data(REWARDS, {"first": 2, "after": first["pageInfo"]["endCursor"]}))[
        "rewards"
    ]

    assert [e["node"]["key"] for e in first["edges"]] == ["coffee", "tote"]
    assert first["pageInfo"] == {"hasNextPage": True, "endCursor": first["edges"][-1]["cursor"]}
    assert [e["node"]["key"] for e in rest["edges"]] == ["lounge"]
    assert rest["pageInfo"]["hasNextPage"] is False
    tote = first["edges"][1]["node"]
    assert (tote["cost"], tote["stock"], tote["remainingStock"]) == (50, 10, 10)
    lounge = rest["edges"][0]["node"]
    assert (lounge["minTier"], lounge["perMemberLimit"]) == ("gold", 1)


BAD_PAGING: dict[str, dict[str, Any]] = {
    "zero": {"first": 0},
    "over-100": {"first": 101},
    "negative": {"first": -1},
    "bad-cursor": {"first": 5, "after": "garbage"},
}


async def test_rewards_rejects_bad_paging(api: Api) -> None:
    for case, variables in BAD_PAGING.items():
        body = await api.gql(REWARDS, variables)

        assert body["data"] is None, case
        assert ops.error_codes(body) == ["INVALID_INPUT"], case


async def test_rewards_accepts_first_100(api: Api) -> None:
    page = (await api.data(REWARDS, {"first": 100}))["rewards"]

    assert len(page["edges"]) == 3
    assert page["pageInfo"]["hasNextPage"] is False


# --- estimatePoints -------------------------------------------------------------------------


async def test_estimate_points_base_rate_without_a_member(api: Api) -> None:
    estimate = (await api.data(ESTIMATE, {"amount": "42.90", "currency": "EUR"}))["estimatePoints"]

    assert estimate["points"] == 42
    assert estimate["basePoints"] == 42
    assert float(estimate["multiplier"]) == 1.0
    assert estimate["tier"] is None
    assert estimate["currency"] == "EUR"


async def test_estimate_points_applies_a_gold_members_multiplier_and_writes_nothing(
    api: Api,
) -> None:
    pk = await ops.enroll(api, "goldie")
    await ops.purchase(api, pk, "big-order", "1000")
    before = await ops.balance(api, pk)

    as_partner = (
        await api.data(ESTIMATE, {"amount": "10.50", "currency": "EUR", "memberId": member_gid(pk)})
    )["estimatePoints"]
    as_member = (
        await api.data(ESTIMATE, {"amount": "10.50", "currency": "EUR"}, api.token(member="goldie"))
    )["estimatePoints"]

    assert as_partner["points"] == 21
    assert as_partner["basePoints"] == 10
    assert float(as_partner["multiplier"]) == 2.0
    assert as_partner["tier"] == {"key": "gold"}
    assert as_member == as_partner
    assert await ops.balance(api, pk) == before


async def test_estimate_points_for_another_member_never_uses_their_tier(api: Api) -> None:
    gold = await ops.enroll(api, "goldie")
    await ops.enroll(api, "alice")
    await ops.purchase(api, gold, "big-order", "1000")

    estimate = (
        await api.data(
            ESTIMATE,
            {"amount": "10", "currency": "EUR", "memberId": member_gid(gold)},
            api.token(member="alice"),
        )
    )["estimatePoints"]

    assert estimate["tier"] is None
    assert estimate["points"] == 10


BAD_ESTIMATES = {
    "wrong-currency": ("10", "USD"),
    "negative": ("-1", "EUR"),
    "too-precise": ("1.00001", "EUR"),
}


async def test_estimate_points_rejects_bad_input(api: Api) -> None:
    for case, (amount, currency) in BAD_ESTIMATES.items():
        body = await api.gql(ESTIMATE, {"amount": amount, "currency": currency})

        assert body["data"] is None, case
        assert ops.error_codes(body) == ["INVALID_INPUT"], case


# --- Member fields --------------------------------------------------------------------------


async def test_member_balance_and_tier_progress(api: Api) -> None:
    pk = await ops.enroll(api, "alice")
    await ops.purchase(api, pk, "o-1", "250.99")

    member = (await api.data(MEMBER_VIEW, {"id": member_gid(pk)}))["member"]

    assert member["balance"] == {
        "available": 250,
        "pending": 0,
        "held": 0,
        "lifetimeEarned": 250,
        "version": 1,
    }
    assert member["tier"] == {
        "current": {"key": "member"},
        "next": {"key": "gold"},
        "qualifyingPoints": 250,
        "pointsToNext": 750,
        "progress": 0.25,
    }


async def test_top_tier_has_no_next_and_full_progress(api: Api) -> None:
    pk = await ops.enroll(api, "goldie")
    await ops.purchase(api, pk, "o-1", "1200")

    tier = (await api.data(MEMBER_VIEW, {"id": member_gid(pk)}))["member"]["tier"]

    assert tier == {
        "current": {"key": "gold"},
        "next": None,
        "qualifyingPoints": 1200,
        "pointsToNext": 0,
        "progress": 1.0,
    }


async def test_available_rewards_say_why_a_member_cannot_redeem(api: Api) -> None:
    alice = await ops.enroll(api, "alice")
    gold = await ops.enroll(api, "goldie")
    await ops.adjust(api, alice, 20)
    await ops.purchase(api, gold, "o-1", "1000")
    await ops.redeem(api, gold, "lounge")

    def reasons(member: dict[str, Any]) -> dict[str, tuple[bool, str | None]]:
        edges = member["availableRewards"]["edges"]
        return {
            e["node"]["reward"]["key"]: (e["node"]["canRedeem"], e["node"]["reason"]) for e in edges
        }

    alices = (await api.data(MEMBER_VIEW, {"id": member_gid(alice)}))["member"]
    golds = (await api.data(MEMBER_VIEW, {"id": member_gid(gold)}))["member"]

    assert reasons(alices) == {
        "coffee": (True, None),
        "tote": (False, "INSUFFICIENT_POINTS"),
        "lounge": (False, "TIER_REQUIRED"),
    }
    assert reasons(golds) == {
        "coffee": (True, None),
        "tote": (True, None),
        "lounge": (False, "LIMIT_REACHED"),
    }


async def test_activity_is_newest_first_and_pages(api: Api) -> None:
    pk = await ops.enroll(api, "alice")
    for points in (5, 7, -3):
        await ops.adjust(api, pk, points)

    page1 = (await api.data(MEMBER_VIEW, {"id": member_gid(pk), "first": 2}))["member"]["activity"]
    after = page1["pageInfo"]["endCursor"]
    page2 = (await api.data(MEMBER_VIEW, {"id": member_gid(pk), "first": 2, "after": after}))[
        "member"
    ]["activity"]

    assert [(e["node"]["points"], e["node"]["balanceAfter"]) for e in page1["edges"]] == [
        (-3, 9),
        (7, 12),
    ]
    assert page1["pageInfo"]["hasNextPage"] is True
    assert [(e["node"]["points"], e["node"]["balanceAfter"]) for e in page2["edges"]] == [(5, 5)]
    assert page2["pageInfo"]["hasNextPage"] is False
    node = page2["edges"][0]["node"]
    assert (node["kind"], node["account"], node["reason"]) == ("ADJUST", "AVAILABLE", "test")


async def test_redemptions_are_newest_first_and_page(api: Api) -> None:
    pk = await ops.enroll(api, "alice")
    await ops.adjust(api, pk, 100)
    first = await ops.redeem(api, pk, "coffee")
    second = await ops.redeem(api, pk, "tote")

    page1 = (await api.data(MEMBER_VIEW, {"id": member_gid(pk), "first": 1}))["member"][
        "redemptions"
    ]
    after = page1["pageInfo"]["endCursor"]
    page2 = (await api.data(MEMBER_VIEW, {"id": member_gid(pk), "first": 1, "after": after}))[
        "member"
    ]["redemptions"]

    assert [e["node"]["id"] for e in page1["edges"]] == [second["id"]]
    assert page1["edges"][0]["node"]["reward"] == {"key": "tote"}
    assert page1["pageInfo"]["hasNextPage"] is True
    assert [e["node"]["id"] for e in page2["edges"]] == [first["id"]]
    assert page2["pageInfo"]["hasNextPage"] is False


async def test_member_connection_rejects_first_over_100(api: Api) -> None:
    pk = await ops.enroll(api, "alice")

    body = await api.gql(MEMBER_VIEW, {"id": member_gid(pk), "first": 101})

    assert "INVALID_INPUT" in ops.error_codes(body)


async def test_node_resolves_a_ledger_entry_for_its_reader(api: Api) -> None:
    pk = await ops.enroll(api, "alice")
    await ops.adjust(api, pk, 5)
    entry = (
        await api.data(
            "query($id: ID!) { member(id: $id) { activity { edges { node { id } } } } }",
            {"id": member_gid(pk)},
        )
    )["member"]["activity"]["edges"][0]["node"]["id"]

    node = (await api.data("query($id: ID!) { node(id: $id) { __typename id } }", {"id": entry}))[
        "node"
    ]

    assert node == {"__typename": "LedgerEntry", "id": entry}
