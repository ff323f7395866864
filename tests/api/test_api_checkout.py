"""Points at checkout over GraphQL: a cart's points are held with a code and the discount
they are worth, an order paying the cart spends them and earns on what was paid, applying
again replaces the hold, releasing gives the points back, and every refusal is a user
error that changes nothing."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.api import ops
from tests.api.client import Api, make_settings, open_api
from tests.ledger.harness import program_data

APPLY = """
mutation($input: ApplyPointsAtCheckoutInput!, $key: String!) {
  applyPointsAtCheckout(input: $input, idempotencyKey: $key) {
    checkout { cartId points discount currency code expiresAt
      redemption { id status points kind reward { id key }
        delivery { codes codeValue value { type level amount currency } }
        history { status detail } } }
    replaced { id status }
    balance { available held }
    userErrors { field code message }
  }
}"""

RELEASE = """
mutation($input: ReleaseCheckoutPointsInput!, $key: String!) {
  releaseCheckoutPoints(input: $input, idempotencyKey: $key) {
    redemption { status history { status detail } }
    points
    balance { available held }
    userErrors { field code message }
  }
}"""

PAY = """
mutation($input: RecordPurchaseInput!, $key: String!) {
  recordPurchase(input: $input, idempotencyKey: $key) {
    pointsEarned pointsDiscount
    balance { available held }
    userErrors { field code message }
  }
}"""

OFFER = """
query($id: ID!) {
  member(id: $id) { checkout { points value currency terms { pointsValue minPoints step
    holdMinutes } } }
  program { checkout { pointsValue minPoints step holdMinutes } }
}"""


def checkout_program() -> dict[str, Any]:
    data = program_data()
    data["checkout"] = {"points_value": "0.01", "min_points": 100, "step": 100}
    return data


@pytest.fixture
async def api(db_url: str, tmp_path: Path) -> AsyncIterator[Api]:
    async with open_api(make_settings(db_url, tmp_path), program=checkout_program()) as opened:
        yield opened


async def _apply(
    api: Api, member: int, cart: str, points: int, token: str | None = None, **extra: Any
) -> dict[str, Any]:
    given: dict[str, Any] = {"cartId": cart, "points": points, **extra}
    if token is None:
        given["memberId"] = ops.member_gid(member)
    body = await api.data(APPLY, {"input": given, "key": ops.key()}, token=token)
    return dict(body["applyPointsAtCheckout"])


async def _release(api: Api, member: int, cart: str) -> dict[str, Any]:
    given = {"cartId": cart, "memberId": ops.member_gid(member)}
    return dict(
        (await api.data(RELEASE, {"input": given, "key": ops.key()}))["releaseCheckoutPoints"]
    )


async def _pay(api: Api, member: int, order: str, amount: str, cart: str | None) -> dict[str, Any]:
    given: dict[str, Any] = {
        "memberId": ops.member_gid(member),
        "orderId": order,
        "amount": amount,
        "currency": "EUR",
        "occurredAt": ops.just_now(),
    }
    if cart is not None:
        given["cartId"] = cart
    return dict((await api.data(PAY, {"input": given, "key": ops.key()}))["recordPurchase"])


async def test_points_pay_part_of_a_cart_and_the_order_earns_on_the_rest(api: Api) -> None:
    member = await ops.enroll(api, "payer")
    await ops.adjust(api, member, 1000)
    held = await _apply(api, member, "cart-1", 500)
    assert held["userErrors"] == []
    hold = held["checkout"]
    assert (hold["points"], hold["discount"], hold["currency"]) == (500, "5.00", "EUR")
    redemption = hold["redemption"]
    assert redemption["status"] == "HELD"
    assert redemption["points"] == 500
    assert redemption["reward"]["key"] == "points-at-checkout"
    assert redemption["delivery"] == {
        "codes": [hold["code"]],
        "codeValue": "5.00 EUR off",
        "value": {"type": "FIXED_AMOUNT", "level": "CHECK", "amount": "5.00", "currency": "EUR"},
    }
    assert held["balance"] == {"available": 500, "held": 500}

    paid = await _pay(api, member, "order-1", "20.00", "cart-1")
    assert paid["userErrors"] == []
    assert (paid["pointsEarned"], paid["pointsDiscount"]) == (15, "5.00")  # 1/EUR on 15.00
    assert paid["balance"] == {"available": 515, "held": 0}
    assert await ops.redemption_status(api, redemption["id"]) == "FULFILLED"

    again = await _pay(api, member, "order-2", "20.00", "cart-1")
    assert ops.codes(again) == ["INVALID_STATE"]  # a cart is paid once
    reapplied = await _apply(api, member, "cart-1", 100)
    assert ops.codes(reapplied) == ["INVALID_STATE"]
    assert (await ops.balance(api, member))["available"] == 515


async def test_applying_again_replaces_the_hold_and_a_cart_never_holds_twice(api: Api) -> None:
    member = await ops.enroll(api, "changer")
    await ops.adjust(api, member, 1000)
    first = await _apply(api, member, "cart-2", 300)
    second = await _apply(api, member, "cart-2", 800)  # more than is left beside the first
    assert second["userErrors"] == []
    assert second["replaced"] == {
        "id": first["checkout"]["redemption"]["id"],
        "status": "CANCELLED",
    }
    assert second["balance"] == {"available": 200, "held": 800}
    too_much = await _apply(api, member, "cart-2", 1100)
    assert ops.codes(too_much) == ["INSUFFICIENT_POINTS"]
    assert await ops.balance(api, member) == {**await ops.balance(api, member), "held": 800}
    assert await ops.redemption_status(api, second["checkout"]["redemption"]["id"]) == "HELD"


async def test_released_points_come_back_and_the_cart_then_pays_no_order(api: Api) -> None:
    member = await ops.enroll(api, "leaver")
    await ops.adjust(api, member, 400)
    await _apply(api, member, "cart-3", 400)
    released = await _release(api, member, "cart-3")
    assert released["userErrors"] == []
    assert released["points"] == 400
    assert released["balance"] == {"available": 400, "held": 0}
    assert [h["status"] for h in released["redemption"]["history"]] == ["HELD", "CANCELLED"]
    assert ops.codes(await _release(api, member, "cart-3")) == ["INVALID_STATE"]
    refused = await _pay(api, member, "order-3", "10.00", "cart-3")
    assert ops.codes(refused) == ["INVALID_STATE"]
    # Nothing was recorded: the same order goes through without the cart.
    assert (await _pay(api, member, "order-3", "10.00", None))["pointsEarned"] == 10


async def test_refusals_are_user_errors_that_change_nothing(api: Api) -> None:
    member = await ops.enroll(api, "careful")
    other = await ops.enroll(api, "someone-else")
    await ops.adjust(api, member, 1000)
    await ops.adjust(api, other, 1000)
    for points, code in ((150, "INVALID_INPUT"), (50, "INVALID_INPUT"), (0, "INVALID_INPUT")):
        refused = await _apply(api, member, "cart-4", points)
        assert ops.codes(refused) == [code]
        assert refused["userErrors"][0]["field"] == "points"
    over = await _apply(api, member, "cart-4", 700, cartTotal="6.50")
    assert ops.codes(over) == ["INVALID_INPUT"]
    assert ops.codes(await _apply(api, member, "cart-4", 2000)) == ["INSUFFICIENT_POINTS"]
    assert ops.codes(await _apply(api, member, "", 100)) == ["INVALID_INPUT"]
    assert await ops.balance(api, member) == {**await ops.balance(api, member), "held": 0}

    assert (await _apply(api, member, "cart-5", 100))["userErrors"] == []
    taken = await _apply(api, other, "cart-5", 100)  # another member's cart id
    assert ops.codes(taken) == ["INVALID_INPUT"]
    assert ops.codes(await _release(api, other, "cart-5")) == ["CART_NOT_FOUND"]
    assert ops.codes(await _pay(api, other, "order-5", "10", "cart-5")) == ["CART_NOT_FOUND"]
    assert ops.codes(await _pay(api, member, "order-6", "10", "no-such-cart")) == ["CART_NOT_FOUND"]
    small = await _pay(api, member, "order-7", "0.50", "cart-5")  # less than the 1.00 off
    assert ops.codes(small) == ["INVALID_INPUT"]
    assert (await ops.balance(api, other))["held"] == 0
    assert (await ops.balance(api, member))["held"] == 100


async def test_a_member_pays_with_its_own_points_and_sees_what_they_are_worth(api: Api) -> None:
    member = await ops.enroll(api, "app-user")
    await ops.adjust(api, member, 1234)
    offer = await api.data(OFFER, {"id": ops.member_gid(member)})
    terms = {"pointsValue": "0.01", "minPoints": 100, "step": 100, "holdMinutes": 30}
    assert offer["program"]["checkout"] == terms
    assert offer["member"]["checkout"] == {
        "points": 1200,
        "value": "12.00",
        "currency": "EUR",
        "terms": terms,
    }
    token = api.token(member="app-user")
    mine = await _apply(api, member, "app-cart", 200, token=token)
    assert mine["userErrors"] == []
    assert mine["checkout"]["discount"] == "2.00"
    estimate = await api.data(
        '{ estimatePoints(amount: "7.50", currency: "EUR") { points checkout { points value } } }',
        token=token,
    )
    # 1034 available, but a 7.50 order takes at most 700 points (7.00 off).
    assert estimate["estimatePoints"]["checkout"] == {"points": 700, "value": "7.00"}


async def test_the_checkout_reward_is_neither_listed_nor_redeemable(api: Api) -> None:
    member = await ops.enroll(api, "curious")
    await ops.adjust(api, member, 500)
    held = await _apply(api, member, "cart-6", 100)
    system_id = held["checkout"]["redemption"]["reward"]["id"]
    assert "points-at-checkout" not in await ops.reward_ids(api)
    redeem = await api.data(
        "mutation($id: ID!, $m: ID!, $key: String!) { redeemReward(input: {rewardId: $id, "
        "memberId: $m}, idempotencyKey: $key) { userErrors { code } } }",
        {"id": system_id, "m": ops.member_gid(member), "key": ops.key()},
    )
    assert ops.codes(redeem["redeemReward"]) == ["REWARD_NOT_FOUND"]


async def test_a_program_without_checkout_takes_no_points(db_url: str, tmp_path: Path) -> None:
    async with open_api(make_settings(db_url, tmp_path)) as api:
        member = await ops.enroll(api, "plain")
        await ops.adjust(api, member, 500)
        refused = await _apply(api, member, "cart-7", 100)
        assert ops.codes(refused) == ["INVALID_STATE"]
        offer = await api.data(OFFER, {"id": ops.member_gid(member)})
        assert offer == {"member": {"checkout": None}, "program": {"checkout": None}}
