"""Why a member earned what they earned: explanations on activity and estimatePoints."""

from __future__ import annotations

from app.services.program import apply_program
from tests.api import ops
from tests.api.client import Api
from tests.ledger.harness import rules_program

WEDNESDAY = ops.recent(weekday=2)

PURCHASE = """
mutation($key: String!, $input: RecordPurchaseInput!) {
  recordPurchase(idempotencyKey: $key, input: $input) { pointsEarned userErrors { code } }
}"""

ACTIVITY = """
query($ext: String!) { member(externalId: $ext) { activity(first: 5) { edges { node {
  kind account points explanation { rule name points cappedBy } } } } } }"""

ESTIMATE = """
query($amount: Decimal!) { estimatePoints(amount: $amount, currency: "EUR") {
  points basePoints breakdown { rule name points cappedBy } } }"""


async def _with_rules(api: Api) -> None:
    services = api.runtime.services
    await apply_program(services.uow, services.clock, rules_program())
    await api.data(
        'mutation { enrollMember(idempotencyKey: "e", input: {externalId: "ex"}) '
        "{ userErrors { code } } }"
    )


async def test_an_earn_shows_which_rules_gave_its_points(api: Api) -> None:
    await _with_rules(api)
    tuesday = ops.recent(weekday=1)
    bought = await api.data(
        PURCHASE,
        {
            "key": "p",
            "input": {
                "externalId": "ex",
                "orderId": "o-1",
                "amount": "120",
                "currency": "EUR",
                "occurredAt": tuesday,
            },
        },
    )
    assert bought["recordPurchase"]["pointsEarned"] == 290

    edges = (await api.data(ACTIVITY, {"ext": "ex"}))["member"]["activity"]["edges"]
    (earn,) = [e["node"] for e in edges if e["node"]["kind"] == "EARN"]
    assert earn["explanation"] == [
        {"rule": "base", "name": "Base", "points": 120, "cappedBy": 0},
        {"rule": "tuesday", "name": "Double points Tuesday", "points": 120, "cappedBy": 0},
        {"rule": "big-basket", "name": "Big basket bonus", "points": 50, "cappedBy": 0},
    ]


async def test_estimate_returns_the_same_breakdown_and_writes_nothing(api: Api) -> None:
    await _with_rules(api)
    estimate = (await api.data(ESTIMATE, {"amount": "150"}))["estimatePoints"]
    rules = [a["rule"] for a in estimate["breakdown"]]
    assert rules[0] == "base"
    assert rules[-1] == "big-basket"
    assert estimate["points"] == sum(a["points"] for a in estimate["breakdown"])
    assert (await api.data(ACTIVITY, {"ext": "ex"}))["member"]["activity"]["edges"] == []


async def test_entries_other_than_earns_have_no_explanation(api: Api) -> None:
    await _with_rules(api)
    await api.data(
        'mutation { adjustPoints(idempotencyKey: "a", input: {externalId: "ex", '
        'points: 5, reason: "goodwill"}) { userErrors { code } } }'
    )
    edges = (await api.data(ACTIVITY, {"ext": "ex"}))["member"]["activity"]["edges"]
    assert [e["node"]["explanation"] for e in edges] == [None]


ESTIMATE_LINES = """
query($lines: [OrderLineInput!]) { estimatePoints(amount: "27.00", currency: "EUR",
  channel: POS, lines: $lines) { points breakdown { rule points } } }"""


async def test_purchase_and_estimate_with_lines(api: Api) -> None:
    await _with_rules(api)
    lines = [
        {"sku": "espresso", "category": "drinks", "quantity": 2, "unitPrice": "3.50"},
        {
            "sku": "beans",
            "category": "retail",
            "quantity": 1,
            "unitPrice": "24.90",
            "discount": "4.90",
        },
    ]
    estimate = (await api.data(ESTIMATE_LINES, {"lines": lines}))["estimatePoints"]
    assert estimate["points"] >= 27
    bought = await api.data(
        PURCHASE,
        {
            "key": "l",
            "input": {
                "externalId": "ex",
                "orderId": "o-l",
                "amount": "27.00",
                "currency": "EUR",
                "occurredAt": WEDNESDAY,
                "lines": lines,
            },
        },
    )
    assert bought["recordPurchase"] == {"pointsEarned": 27, "userErrors": []}
    mismatch = await api.data(
        PURCHASE,
        {
            "key": "m",
            "input": {
                "externalId": "ex",
                "orderId": "o-m",
                "amount": "99.00",
                "currency": "EUR",
                "occurredAt": WEDNESDAY,
                "lines": lines,
            },
        },
    )
    assert mismatch["recordPurchase"]["userErrors"][0]["code"] == "INVALID_INPUT"


RETURN = """
mutation($key: String!, $input: RecordReturnInput!) {
  recordReturn(idempotencyKey: $key, input: $input) {
    pointsReversed shortfall userErrors { field code } } }"""


async def test_return_by_line_over_the_api(api: Api) -> None:
    await _with_rules(api)
    lines = [
        {"sku": "espresso", "quantity": 2, "unitPrice": "3.50"},
        {"sku": "beans", "quantity": 1, "unitPrice": "20.00"},
    ]
    await api.data(
        PURCHASE,
        {
            "key": "p",
            "input": {
                "externalId": "ex",
                "orderId": "o-r",
                "amount": "27.00",
                "currency": "EUR",
                "occurredAt": WEDNESDAY,
                "lines": lines,
            },
        },
    )
    back = await api.data(
        RETURN,
        {"key": "r", "input": {"orderId": "o-r", "lines": [{"sku": "espresso", "quantity": 1}]}},
    )
    assert back["recordReturn"] == {"pointsReversed": 3, "shortfall": 0, "userErrors": []}
    both = await api.data(RETURN, {"key": "b", "input": {"orderId": "o-r"}})
    assert both["recordReturn"]["userErrors"] == [{"field": "amount", "code": "INVALID_INPUT"}]


async def test_the_program_shows_its_earning_rules(api: Api) -> None:
    await _with_rules(api)
    rules = await api.data(
        "{ program { rules { key effect value weekdays cap { points period } } } }"
    )
    assert rules["program"]["rules"] == [
        {"key": "base", "effect": "PER_UNIT", "value": "1", "weekdays": None, "cap": None},
        {"key": "tuesday", "effect": "MULTIPLIER", "value": "2", "weekdays": ["TUE"], "cap": None},
        {
            "key": "big-basket",
            "effect": "BONUS",
            "value": "50",
            "weekdays": None,
            "cap": {"points": 60, "period": "DAY"},
        },
    ]
