"""Every user-error code reachable over the API, and idempotent replay."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from app.graphql.ids import to_global_id
from app.services.program import apply_program
from tests.api import ops
from tests.api.client import Api
from tests.api.ops import (
    ADJUST,
    CANCEL,
    ENROLL,
    PURCHASE,
    REDEEM,
    RETURN,
    codes,
    member_gid,
)
from tests.ledger.harness import program_data


async def redeem_as_partner(
    api: Api, member_pk: int, reward_id: str, quantity: int = 1, key: str | None = None
) -> dict[str, Any]:
    variables = {
        "key": key if key is not None else ops.key(),
        "input": {"rewardId": reward_id, "memberId": member_gid(member_pk), "quantity": quantity},
    }
    return dict((await api.data(REDEEM, variables))["redeemReward"])


def purchase_input(order: str = "o-1", **changes: Any) -> dict[str, Any]:
    return {
        "externalId": "alice",
        "orderId": order,
        "amount": "10",
        "currency": "EUR",
        "occurredAt": ops.just_now(),
        **changes,
    }


# --- redemption blockers --------------------------------------------------------------------


async def test_insufficient_points_to_redeem_or_to_debit(api: Api) -> None:
    pk = await ops.enroll(api, "alice")
    await ops.adjust(api, pk, 49)
    tote = (await ops.reward_ids(api))["tote"]

    redeemed = await redeem_as_partner(api, pk, tote)
    debited = (
        await api.data(
            ADJUST, {"key": "a-1", "input": {"externalId": "alice", "points": -50, "reason": "x"}}
        )
    )["adjustPoints"]

    assert codes(redeemed) == ["INSUFFICIENT_POINTS"]
    assert redeemed["redemption"] is None
    assert codes(debited) == ["INSUFFICIENT_POINTS"]
    assert await ops.balance(api, pk) == {
        "available": 49,
        "pending": 0,
        "held": 0,
        "lifetimeEarned": 0,
        "version": 1,
    }


async def test_out_of_stock_once_the_stock_is_gone(api: Api) -> None:
    rich = await ops.enroll(api, "rich")
    late = await ops.enroll(api, "late")
    await ops.adjust(api, rich, 600)
    await ops.adjust(api, late, 100)
    tote = (await ops.reward_ids(api))["tote"]

    all_of_it = await redeem_as_partner(api, rich, tote, quantity=10)
    one_more = await redeem_as_partner(api, late, tote)
    available = (
        await api.data(
            "query($id: ID!) { member(id: $id) { availableRewards { edges { node {"
            " reason reward { key remainingStock } } } } } }",
            {"id": member_gid(late)},
        )
    )["member"]["availableRewards"]["edges"]

    assert all_of_it["userErrors"] == []
    assert codes(one_more) == ["OUT_OF_STOCK"]
    assert (await ops.balance(api, late))["available"] == 100
    tote_view = next(e["node"] for e in available if e["node"]["reward"]["key"] == "tote")
    assert tote_view == {"reason": "OUT_OF_STOCK", "reward": {"key": "tote", "remainingStock": 0}}


async def test_tier_required_below_the_rewards_minimum_tier(api: Api) -> None:
    pk = await ops.enroll(api, "alice")
    await ops.purchase(api, pk, "o-1", "999")  # one point short of gold
    lounge = (await ops.reward_ids(api))["lounge"]

    out = await redeem_as_partner(api, pk, lounge)

    assert codes(out) == ["TIER_REQUIRED"]
    assert (await ops.balance(api, pk))["held"] == 0


async def test_limit_reached_past_the_per_member_limit(api: Api) -> None:
    pk = await ops.enroll(api, "goldie")
    await ops.purchase(api, pk, "o-1", "1000")
    lounge = (await ops.reward_ids(api))["lounge"]

    first = await redeem_as_partner(api, pk, lounge)
    second = await redeem_as_partner(api, pk, lounge)
    two_at_once = await redeem_as_partner(api, pk, lounge, quantity=2)

    assert first["userErrors"] == []
    assert codes(second) == ["LIMIT_REACHED"]
    assert codes(two_at_once) == ["LIMIT_REACHED"]
    assert (await ops.balance(api, pk))["held"] == 5


async def test_reward_unavailable_when_the_program_drops_it(api: Api) -> None:
    pk = await ops.enroll(api, "alice")
    await ops.adjust(api, pk, 100)
    coffee = (await ops.reward_ids(api))["coffee"]
    data = program_data()
    data["rewards"] = [r for r in data["rewards"] if r["key"] != "coffee"]
    await apply_program(api.runtime.services.uow, api.runtime.services.clock, data)

    out = await redeem_as_partner(api, pk, coffee)
    node = (await api.data(ops.NODE, {"id": coffee}))["node"]

    assert codes(out) == ["REWARD_UNAVAILABLE"]
    assert node["active"] is False
    assert "coffee" not in await ops.reward_ids(api)
    assert (await ops.balance(api, pk))["available"] == 100


async def test_reward_unavailable_after_its_active_until(api: Api) -> None:
    pk = await ops.enroll(api, "alice")
    await ops.adjust(api, pk, 100)
    data = program_data()
    ended = (datetime.now(UTC) - timedelta(days=1)).replace(microsecond=0)
    data["rewards"][0]["active_from"] = (ended - timedelta(days=30)).isoformat()
    data["rewards"][0]["active_until"] = ended.isoformat()
    await apply_program(api.runtime.services.uow, api.runtime.services.clock, data)
    coffee = (await ops.reward_ids(api))["coffee"]

    out = await redeem_as_partner(api, pk, coffee)
    reasons = (
        await api.data(
            "query($id: ID!) { member(id: $id) { availableRewards { edges { node {"
            " canRedeem reason reward { key } } } } } }",
            {"id": member_gid(pk)},
        )
    )["member"]["availableRewards"]["edges"]

    assert codes(out) == ["REWARD_UNAVAILABLE"]
    assert {"canRedeem": False, "reason": "REWARD_UNAVAILABLE", "reward": {"key": "coffee"}} in [
        e["node"] for e in reasons
    ]


async def test_reward_not_found(api: Api) -> None:
    pk = await ops.enroll(api, "alice")
    await ops.adjust(api, pk, 100)

    out = await redeem_as_partner(api, pk, to_global_id("Reward", 999))

    assert codes(out) == ["REWARD_NOT_FOUND"]
    assert out["userErrors"][0]["field"] == "rewardId"


# --- members, orders, redemptions -----------------------------------------------------------


async def test_member_not_found_for_every_member_write(api: Api) -> None:
    coffee = (await ops.reward_ids(api))["coffee"]
    ghost = member_gid(999)

    purchase = (await api.data(PURCHASE, {"key": "k-1", "input": purchase_input()}))[
        "recordPurchase"
    ]
    adjust = (
        await api.data(
            ADJUST, {"key": "k-2", "input": {"memberId": ghost, "points": 5, "reason": "x"}}
        )
    )["adjustPoints"]
    redeem = (
        await api.data(
            REDEEM, {"key": "k-3", "input": {"rewardId": coffee, "externalId": "nobody"}}
        )
    )["redeemReward"]
    unenrolled = (
        await api.data(
            REDEEM, {"key": "k-4", "input": {"rewardId": coffee}}, api.token(member="nobody")
        )
    )["redeemReward"]

    assert codes(purchase) == ["MEMBER_NOT_FOUND"]
    assert codes(adjust) == ["MEMBER_NOT_FOUND"]
    assert codes(redeem) == ["MEMBER_NOT_FOUND"]
    assert codes(unenrolled) == ["MEMBER_NOT_FOUND"]


async def test_member_exists(api: Api) -> None:
    await ops.enroll(api, "alice")

    out = (await api.data(ENROLL, {"key": "e-2", "input": {"externalId": "alice"}}))["enrollMember"]

    assert codes(out) == ["MEMBER_EXISTS"]
    assert out["userErrors"][0]["field"] == "externalId"
    assert out["member"] is None


async def test_order_exists_and_order_not_found(api: Api) -> None:
    pk = await ops.enroll(api, "alice")
    await ops.purchase(api, pk, "o-1", "10")

    again = (await api.data(PURCHASE, {"key": "k-1", "input": purchase_input("o-1")}))[
        "recordPurchase"
    ]
    unknown = (await api.data(RETURN, {"key": "k-2", "input": {"orderId": "nope", "amount": "1"}}))[
        "recordReturn"
    ]

    assert codes(again) == ["ORDER_EXISTS"]
    assert codes(unknown) == ["ORDER_NOT_FOUND"]
    assert (await ops.balance(api, pk))["available"] == 10


async def test_redemption_not_found_and_invalid_state(api: Api) -> None:
    pk = await ops.enroll(api, "alice")
    await ops.adjust(api, pk, 10)
    held = await ops.redeem(api, pk, "coffee")
    await api.data(CANCEL, {"key": "c-1", "id": held["id"]})

    missing = (await api.data(CANCEL, {"key": "c-2", "id": to_global_id("Redemption", 999)}))[
        "cancelRedemption"
    ]
    resolved = (await api.data(ops.FULFILL, {"key": "f-1", "id": held["id"]}))["fulfillRedemption"]

    assert codes(missing) == ["REDEMPTION_NOT_FOUND"]
    assert codes(resolved) == ["INVALID_STATE"]
    assert (await ops.balance(api, pk))["available"] == 10


# --- INVALID_INPUT --------------------------------------------------------------------------

FUTURE = (datetime.now(UTC) + timedelta(days=2)).isoformat()
BAD_PURCHASES = {
    "negative-amount": ("k-1", purchase_input(amount="-1"), "amount"),
    "too-precise": ("k-2", purchase_input(amount="1.00001"), "amount"),
    "too-large": ("k-3", purchase_input(amount="1000000000000"), "amount"),
    "wrong-currency": ("k-4", purchase_input(currency="USD"), "currency"),
    "future-occurred-at": ("k-5", purchase_input(occurredAt=FUTURE), "occurredAt"),
    "naive-occurred-at": ("k-6", purchase_input(occurredAt="2026-01-01T10:00:00"), "occurredAt"),
    "empty-order-id": ("k-7", purchase_input(order=" "), "orderId"),
    "empty-idempotency-key": ("", purchase_input(), "idempotencyKey"),
    "blank-idempotency-key": ("   ", purchase_input(), "idempotencyKey"),
}


async def test_bad_purchases_are_invalid_input_and_write_nothing(api: Api) -> None:
    pk = await ops.enroll(api, "alice")

    for case, (key, given, field) in BAD_PURCHASES.items():
        out = (await api.data(PURCHASE, {"key": key, "input": given}))["recordPurchase"]

        assert codes(out) == ["INVALID_INPUT"], case
        assert out["userErrors"][0]["field"] == field, case
        assert out["balance"] is None, case
        assert out["pointsEarned"] is None, case
    assert (await ops.balance(api, pk))["version"] == 0


async def test_other_invalid_input_user_errors(api: Api) -> None:
    pk = await ops.enroll(api, "alice")
    await ops.adjust(api, pk, 500)
    coffee = (await ops.reward_ids(api))["coffee"]

    bad_email = (
        await api.data(ENROLL, {"key": "e-1", "input": {"externalId": "bob", "email": "nope"}})
    )["enrollMember"]
    blank_external_id = (await api.data(ENROLL, {"key": "e-2", "input": {"externalId": ""}}))[
        "enrollMember"
    ]
    zero_points = (
        await api.data(
            ADJUST, {"key": "a-1", "input": {"externalId": "alice", "points": 0, "reason": "x"}}
        )
    )["adjustPoints"]
    zero_quantity = await redeem_as_partner(api, pk, coffee, quantity=0)
    too_many = await redeem_as_partner(api, pk, coffee, quantity=21)
    zero_return = (
        await api.data(RETURN, {"key": "r-1", "input": {"orderId": "o", "amount": "0"}})
    )["recordReturn"]
    empty_key = await redeem_as_partner(api, pk, coffee, key="")

    assert [
        (codes(out), out["userErrors"][0]["field"])
        for out in (
            bad_email,
            blank_external_id,
            zero_points,
            zero_quantity,
            too_many,
            zero_return,
            empty_key,
        )
    ] == [
        (["INVALID_INPUT"], "email"),
        (["INVALID_INPUT"], "externalId"),
        (["INVALID_INPUT"], "points"),
        (["INVALID_INPUT"], "quantity"),
        (["INVALID_INPUT"], "quantity"),
        (["INVALID_INPUT"], "amount"),
        (["INVALID_INPUT"], "idempotencyKey"),
    ]
    assert (await ops.balance(api, pk))["version"] == 1
    assert (await api.data(ops.MEMBER, {"ext": "bob"}))["member"] is None


BAD_IDS: dict[str, tuple[str, dict[str, Any]]] = {
    "reward-id-garbage": (REDEEM, {"input": {"rewardId": "%%%", "externalId": "alice"}}),
    "reward-id-of-a-member": (REDEEM, {"input": {"rewardId": member_gid(1), "externalId": "a"}}),
    "member-id-of-a-reward": (
        ADJUST,
        {"input": {"memberId": to_global_id("Reward", 1), "points": 1, "reason": "x"}},
    ),
    "redemption-id-garbage": (CANCEL, {"id": "bm9wZQ"}),
    "fulfill-member-id": (ops.FULFILL, {"id": member_gid(1)}),
}


async def test_bad_ids_are_invalid_input_errors(api: Api) -> None:
    pk = await ops.enroll(api, "alice")
    await ops.adjust(api, pk, 100)

    for case, (operation, variables) in BAD_IDS.items():
        body = await api.gql(operation, {"key": ops.key(), **variables})

        assert body["data"] is None, case
        assert ops.error_codes(body) == ["INVALID_INPUT"], case
    assert (await ops.balance(api, pk))["version"] == 1


# --- idempotency ----------------------------------------------------------------------------


async def test_same_key_different_input_is_an_idempotency_conflict(api: Api) -> None:
    pk = await ops.enroll(api, "alice")
    first = (await api.data(PURCHASE, {"key": "p-1", "input": purchase_input("o-1")}))[
        "recordPurchase"
    ]

    other = (await api.data(PURCHASE, {"key": "p-1", "input": purchase_input("o-2", amount="99")}))[
        "recordPurchase"
    ]
    other_operation = (
        await api.data(
            ADJUST, {"key": "p-1", "input": {"externalId": "alice", "points": 5, "reason": "x"}}
        )
    )["adjustPoints"]

    assert first["userErrors"] == []
    assert codes(other) == ["IDEMPOTENCY_CONFLICT"]
    assert other["userErrors"][0]["field"] == "idempotencyKey"
    assert codes(other_operation) == ["IDEMPOTENCY_CONFLICT"]
    assert await ops.balance(api, pk) == first["balance"]


async def test_replay_returns_the_identical_payload_and_writes_once(api: Api) -> None:
    pk = await ops.enroll(api, "alice")
    given = {"key": "p-1", "input": purchase_input("o-1", amount="33.30")}
    first = await api.data(PURCHASE, given)

    again = await api.data(PURCHASE, given)
    redeem_first = await redeem_as_partner(
        api, pk, (await ops.reward_ids(api))["coffee"], key="r-1"
    )
    redeem_again = await redeem_as_partner(
        api, pk, (await ops.reward_ids(api))["coffee"], key="r-1"
    )

    assert again == first
    assert first["recordPurchase"]["balance"]["version"] == 1
    assert redeem_again == redeem_first
    assert await ops.balance(api, pk) == {
        "available": 23,
        "pending": 0,
        "held": 10,
        "lifetimeEarned": 33,
        "version": 2,
    }


async def test_replay_returns_the_first_failure_even_when_it_would_now_succeed(api: Api) -> None:
    pk = await ops.enroll(api, "alice")
    coffee = (await ops.reward_ids(api))["coffee"]
    failed = await redeem_as_partner(api, pk, coffee, key="r-1")
    await ops.adjust(api, pk, 100)

    replayed = await redeem_as_partner(api, pk, coffee, key="r-1")

    assert codes(failed) == ["INSUFFICIENT_POINTS"]
    assert replayed == failed
    assert (await ops.balance(api, pk))["held"] == 0


async def test_idempotency_keys_belong_to_the_caller(api: Api) -> None:
    one = (
        await api.data(
            ENROLL,
            {"key": "same", "input": {"externalId": "alice"}},
            api.token(client="pos-1", scopes={"members:write"}),
        )
    )["enrollMember"]
    two = (
        await api.data(
            ENROLL,
            {"key": "same", "input": {"externalId": "bob"}},
            api.token(client="pos-2", scopes={"members:write"}),
        )
    )["enrollMember"]

    assert one["userErrors"] == []
    assert two["userErrors"] == []
    assert one["member"]["externalId"] == "alice"
    assert two["member"]["externalId"] == "bob"
