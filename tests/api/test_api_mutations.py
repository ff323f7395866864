"""Every mutation's happy path over ASGI, and who may act on whose points."""

from __future__ import annotations

from typing import Any

from tests.api import ops
from tests.api.client import Api
from tests.api.ops import (
    ADJUST,
    CANCEL,
    ENROLL,
    FULFILL,
    MEMBER,
    PURCHASE,
    REDEEM,
    RETURN,
    REWARDS,
    codes,
    just_now,
    member_gid,
)

# --- enrollMember ---------------------------------------------------------------------------


async def test_enroll_member_creates_a_readable_member_with_a_zero_balance(api: Api) -> None:
    out = (
        await api.data(
            ENROLL,
            {
                "key": "e-1",
                "input": {
                    "externalId": "alice",
                    "email": "alice@example.com",
                    "displayName": "Alice",
                },
            },
        )
    )["enrollMember"]

    assert out["userErrors"] == []
    assert out["member"]["externalId"] == "alice"
    assert (out["member"]["email"], out["member"]["displayName"]) == (
        "alice@example.com",
        "Alice",
    )
    read = (await api.data(MEMBER, {"ext": "alice"}))["member"]
    assert read["id"] == out["member"]["id"]
    assert read["balance"] == {
        "available": 0,
        "pending": 0,
        "held": 0,
        "lifetimeEarned": 0,
        "version": 0,
    }


# --- recordPurchase -------------------------------------------------------------------------


async def test_record_purchase_by_member_id_and_by_external_id(api: Api) -> None:
    pk = await ops.enroll(api, "alice")
    base = {"currency": "EUR", "channel": "ONLINE", "occurredAt": just_now()}

    by_id = (
        await api.data(
            PURCHASE,
            {
                "key": "p-1",
                "input": {**base, "memberId": member_gid(pk), "orderId": "o-1", "amount": "42.90"},
            },
        )
    )["recordPurchase"]
    by_ext = (
        await api.data(
            PURCHASE,
            {
                "key": "p-2",
                "input": {**base, "externalId": "alice", "orderId": "o-2", "amount": "8"},
            },
        )
    )["recordPurchase"]

    assert by_id["userErrors"] == []
    assert (by_id["pointsEarned"], by_id["pending"]) == (42, False)
    assert by_id["member"] == {"id": member_gid(pk), "externalId": "alice"}
    assert by_id["balance"]["available"] == 42
    assert by_ext["userErrors"] == []
    assert by_ext["pointsEarned"] == 8
    assert by_ext["balance"] == {
        "available": 50,
        "pending": 0,
        "held": 0,
        "lifetimeEarned": 50,
        "version": 2,
    }


async def test_record_purchase_needs_exactly_one_member_reference(api: Api) -> None:
    await ops.enroll(api, "alice")
    body = await api.gql(
        PURCHASE,
        {
            "key": "p-1",
            "input": {
                "orderId": "o-1",
                "amount": "10",
                "currency": "EUR",
                "occurredAt": just_now(),
            },
        },
    )

    assert body["data"] is None
    assert ops.error_codes(body) == ["INVALID_INPUT"]


# --- recordReturn ---------------------------------------------------------------------------


async def test_record_return_partial_twice_then_full_then_more_is_rejected(api: Api) -> None:
    pk = await ops.enroll(api, "alice")
    await ops.purchase(api, pk, "o-1", "100")

    async def give_back(amount: str) -> dict[str, Any]:
        variables = {"key": ops.key(), "input": {"orderId": "o-1", "amount": amount}}
        return dict((await api.data(RETURN, variables))["recordReturn"])

    first = await give_back("25")
    second = await give_back("25.50")
    rest = await give_back("49.50")
    too_much = await give_back("0.01")

    assert (first["pointsReversed"], first["shortfall"]) == (25, 0)
    assert first["balance"]["available"] == 75
    assert first["member"] == {"id": member_gid(pk)}
    assert second["pointsReversed"] == 25  # floor(100 x 50.50 / 100) - 25
    assert rest["pointsReversed"] == 50  # a full return reverses exactly what was earned
    assert rest["balance"]["available"] == 0
    assert codes(too_much) == ["INVALID_INPUT"]
    assert too_much["balance"] is None
    assert (await ops.balance(api, pk))["version"] == 4


async def test_record_return_of_more_than_the_order_is_invalid_input(api: Api) -> None:
    pk = await ops.enroll(api, "alice")
    await ops.purchase(api, pk, "o-1", "30")

    out = (await api.data(RETURN, {"key": "r-1", "input": {"orderId": "o-1", "amount": "30.01"}}))[
        "recordReturn"
    ]

    assert codes(out) == ["INVALID_INPUT"]
    assert out["userErrors"][0]["field"] == "amount"
    assert (await ops.balance(api, pk))["available"] == 30


async def test_record_return_after_spending_reports_a_shortfall(api: Api) -> None:
    pk = await ops.enroll(api, "alice")
    await ops.purchase(api, pk, "o-1", "60")
    await ops.redeem(api, pk, "tote")  # 50 of the 60 points are held

    out = (await api.data(RETURN, {"key": "r-1", "input": {"orderId": "o-1", "amount": "60"}}))[
        "recordReturn"
    ]

    assert out["userErrors"] == []
    assert (out["pointsReversed"], out["shortfall"]) == (10, 50)
    assert out["balance"]["available"] == 0


# --- redeemReward ---------------------------------------------------------------------------


async def test_member_redeems_for_themself(api: Api) -> None:
    pk = await ops.enroll(api, "alice")
    await ops.adjust(api, pk, 25)
    coffee = (await ops.reward_ids(api))["coffee"]

    out = (
        await api.data(
            REDEEM,
            {"key": "r-1", "input": {"rewardId": coffee, "quantity": 2}},
            api.token(member="alice"),
        )
    )["redeemReward"]

    assert out["userErrors"] == []
    redemption = out["redemption"]
    assert (redemption["quantity"], redemption["points"], redemption["status"]) == (2, 20, "HELD")
    assert len(redemption["codes"]) == 2
    assert redemption["reward"] == {"key": "coffee"}
    assert redemption["resolvedAt"] is None
    assert (out["balance"]["available"], out["balance"]["held"]) == (5, 20)


async def test_partner_redeems_naming_member_id_or_external_id(api: Api) -> None:
    pk = await ops.enroll(api, "alice")
    await ops.adjust(api, pk, 30)
    coffee = (await ops.reward_ids(api))["coffee"]
    partner = api.token(scopes={"redemptions:write"})

    by_id = (
        await api.data(
            REDEEM,
            {"key": "r-1", "input": {"rewardId": coffee, "memberId": member_gid(pk)}},
            partner,
        )
    )["redeemReward"]
    by_ext = (
        await api.data(
            REDEEM, {"key": "r-2", "input": {"rewardId": coffee, "externalId": "alice"}}, partner
        )
    )["redeemReward"]

    assert by_id["userErrors"] == []
    assert by_ext["userErrors"] == []
    assert by_id["redemption"]["status"] == "HELD"
    assert by_ext["balance"]["available"] == 10
    assert by_ext["balance"]["held"] == 20


async def test_member_token_naming_another_member_gets_member_not_found(api: Api) -> None:
    await ops.enroll(api, "alice")
    bob = await ops.enroll(api, "bob")
    await ops.adjust(api, bob, 100)
    coffee = (await ops.reward_ids(api))["coffee"]
    token = api.token(member="alice")

    by_id = (
        await api.data(
            REDEEM,
            {"key": "r-1", "input": {"rewardId": coffee, "memberId": member_gid(bob)}},
            token,
        )
    )["redeemReward"]
    by_ext = (
        await api.data(
            REDEEM, {"key": "r-2", "input": {"rewardId": coffee, "externalId": "bob"}}, token
        )
    )["redeemReward"]

    for out in (by_id, by_ext):
        assert codes(out) == ["MEMBER_NOT_FOUND"]
        assert out["redemption"] is None
        assert out["balance"] is None
    assert (await ops.balance(api, bob))["version"] == 1


# --- cancelRedemption and fulfillRedemption -------------------------------------------------


async def test_cancel_gives_points_and_stock_back_once(api: Api) -> None:
    pk = await ops.enroll(api, "alice")
    await ops.adjust(api, pk, 60)
    held = await ops.redeem(api, pk, "tote")

    out = (await api.data(CANCEL, {"key": "c-1", "id": held["id"]}))["cancelRedemption"]
    again = (await api.data(CANCEL, {"key": "c-2", "id": held["id"]}))["cancelRedemption"]

    assert out["userErrors"] == []
    assert out["redemption"]["status"] == "CANCELLED"
    assert out["redemption"]["resolvedAt"] is not None
    assert (out["balance"]["available"], out["balance"]["held"]) == (60, 0)
    assert codes(again) == ["INVALID_STATE"]
    assert again["redemption"] is None
    tote = next(
        e["node"]
        for e in (await api.data(REWARDS, {"first": 10}))["rewards"]["edges"]
        if e["node"]["key"] == "tote"
    )
    assert tote["remainingStock"] == 10
    assert (await ops.balance(api, pk))["version"] == 3


async def test_member_cancels_their_own_redemption_but_not_another_members(api: Api) -> None:
    alice = await ops.enroll(api, "alice")
    bob = await ops.enroll(api, "bob")
    await ops.adjust(api, alice, 10)
    await ops.adjust(api, bob, 10)
    alices = await ops.redeem(api, alice, "coffee")
    bobs = await ops.redeem(api, bob, "coffee")
    token = api.token(member="alice")

    other = (await api.data(CANCEL, {"key": "c-1", "id": bobs["id"]}, token))["cancelRedemption"]
    own = (await api.data(CANCEL, {"key": "c-2", "id": alices["id"]}, token))["cancelRedemption"]

    assert codes(other) == ["REDEMPTION_NOT_FOUND"]
    assert other["redemption"] is None
    assert other["balance"] is None
    assert await ops.redemption_status(api, bobs["id"]) == "HELD"
    assert own["userErrors"] == []
    assert own["redemption"]["status"] == "CANCELLED"
    assert own["balance"]["available"] == 10


async def test_fulfill_posts_the_hold_once(api: Api) -> None:
    pk = await ops.enroll(api, "alice")
    await ops.adjust(api, pk, 15)
    held = await ops.redeem(api, pk, "coffee")

    out = (await api.data(FULFILL, {"key": "f-1", "id": held["id"]}))["fulfillRedemption"]
    again = (await api.data(FULFILL, {"key": "f-2", "id": held["id"]}))["fulfillRedemption"]
    cancel = (await api.data(CANCEL, {"key": "c-1", "id": held["id"]}))["cancelRedemption"]

    assert out["userErrors"] == []
    assert out["redemption"]["status"] == "FULFILLED"
    assert out["redemption"]["resolvedAt"] is not None
    assert (out["balance"]["available"], out["balance"]["held"]) == (5, 0)
    assert codes(again) == ["INVALID_STATE"]
    assert codes(cancel) == ["INVALID_STATE"]
    assert await ops.balance(api, pk) == out["balance"]


# --- adjustPoints ---------------------------------------------------------------------------


async def test_adjust_points_credits_and_debits_with_a_reason(api: Api) -> None:
    pk = await ops.enroll(api, "alice")

    def adjust(points: int, reason: str) -> dict[str, object]:
        return {
            "key": ops.key(),
            "input": {"externalId": "alice", "points": points, "reason": reason},
        }

    credit = (await api.data(ADJUST, adjust(40, "goodwill")))["adjustPoints"]
    debit = (await api.data(ADJUST, adjust(-15, "duplicate order")))["adjustPoints"]

    assert credit["userErrors"] == []
    assert debit["userErrors"] == []
    assert credit["member"] == {"id": member_gid(pk), "externalId": "alice"}
    assert credit["balance"]["available"] == 40
    assert debit["balance"]["available"] == 25
    assert debit["balance"]["version"] == 2


async def test_adjust_points_requires_a_reason(api: Api) -> None:
    pk = await ops.enroll(api, "alice")

    blank = (
        await api.data(
            ADJUST,
            {"key": "a-1", "input": {"memberId": member_gid(pk), "points": 5, "reason": "  "}},
        )
    )["adjustPoints"]
    missing = await api.gql(
        ADJUST, {"key": "a-2", "input": {"memberId": member_gid(pk), "points": 5}}
    )

    assert codes(blank) == ["INVALID_INPUT"]
    assert blank["userErrors"][0]["field"] == "reason"
    assert missing["data"] is None
    assert missing["errors"]
    assert (await ops.balance(api, pk))["version"] == 0
