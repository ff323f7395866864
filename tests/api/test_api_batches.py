"""POS offline batches over GraphQL: 500 items with 3 bad ones record 497 and explain 3,
in the order sent; the same batch again answers the same and records nothing twice; an
item sent alone afterwards with its key answers as it did in the batch."""

from __future__ import annotations

from typing import Any

from tests.api import ops
from tests.api.client import Api

PURCHASES = """
mutation($inputs: [RecordPurchaseBatchInput!]!) {
  recordPurchases(inputs: $inputs) {
    recorded
    results { idempotencyKey ok orderId pointsEarned pointsReversed userErrors { field code } }
    userErrors { field code message }
  }
}"""
RETURNS = """
mutation($inputs: [RecordReturnBatchInput!]!) {
  recordReturns(inputs: $inputs) {
    recorded
    results { idempotencyKey ok orderId pointsReversed userErrors { field code } }
    userErrors { code }
  }
}"""


def _sale(n: int, member: str, **extra: Any) -> dict[str, Any]:
    return {
        "idempotencyKey": f"till-7:{n}",
        "externalId": member,
        "orderId": f"till-7-{n:04}",
        "amount": "10.00",
        "currency": "EUR",
        "channel": "POS",
        "occurredAt": ops.just_now(),
        **extra,
    }


async def test_a_batch_of_500_with_3_bad_items_records_497_and_replays_the_same(
    api: Api,
) -> None:
    for n in range(5):
        await ops.enroll(api, f"shopper-{n}")
    sales = [_sale(n, f"shopper-{n % 5}") for n in range(500)]
    sales[10]["currency"] = "USD"  # the wrong currency
    sales[200]["externalId"] = "nobody"  # no such member
    sales[499]["orderId"] = sales[0]["orderId"]  # already recorded by the first item
    answer = (await api.data(PURCHASES, {"inputs": sales}))["recordPurchases"]
    assert answer["userErrors"] == []
    results = answer["results"]
    assert [r["idempotencyKey"] for r in results] == [s["idempotencyKey"] for s in sales]
    assert answer["recorded"] == 497
    bad = {i: [e["code"] for e in r["userErrors"]] for i, r in enumerate(results) if not r["ok"]}
    assert bad == {10: ["INVALID_INPUT"], 200: ["MEMBER_NOT_FOUND"], 499: ["ORDER_EXISTS"]}
    assert all(r["pointsEarned"] == 10 for i, r in enumerate(results) if i not in bad)
    balances = [(await ops.balance(api, n + 1))["available"] for n in range(5)]
    assert sum(balances) == 4970

    replay = (await api.data(PURCHASES, {"inputs": sales}))["recordPurchases"]
    assert replay == answer  # the same answer, nothing recorded twice
    assert [(await ops.balance(api, n + 1))["available"] for n in range(5)] == balances
    alone = (
        await api.data(
            ops.PURCHASE,
            {
                "key": sales[3]["idempotencyKey"],
                "input": {k: v for k, v in sales[3].items() if k != "idempotencyKey"},
            },
        )
    )["recordPurchase"]
    assert alone["pointsEarned"] == 10  # the batch's answer for that key


async def test_a_batch_over_500_is_refused_whole(api: Api) -> None:
    await ops.enroll(api, "big")
    answer = (await api.data(PURCHASES, {"inputs": [_sale(n, "big") for n in range(501)]}))[
        "recordPurchases"
    ]
    assert answer["results"] == []
    assert [e["code"] for e in answer["userErrors"]] == ["LIMIT_REACHED"]
    assert (await ops.balance(api, 1))["available"] == 0


async def test_returns_come_in_batches_too(api: Api) -> None:
    await ops.enroll(api, "returner")
    sales = [_sale(n, "returner") for n in range(3)]
    assert (await api.data(PURCHASES, {"inputs": sales}))["recordPurchases"]["recorded"] == 3
    returns = [
        {"idempotencyKey": "r-0", "orderId": sales[0]["orderId"], "amount": "10.00"},
        {"idempotencyKey": "r-1", "orderId": "no-such-order", "amount": "1.00"},
        {"idempotencyKey": "r-2", "orderId": sales[2]["orderId"], "amount": "5.00"},
    ]
    answer = (await api.data(RETURNS, {"inputs": returns}))["recordReturns"]
    assert [r["ok"] for r in answer["results"]] == [True, False, True]
    assert [r["pointsReversed"] for r in answer["results"]] == [10, None, 5]
    assert answer["results"][1]["userErrors"][0]["code"] == "ORDER_NOT_FOUND"
    assert (await ops.balance(api, 1))["available"] == 15
