"""Typed discount values over the API: createReward with each type, updateReward, bad
input refused as a user error on its field with nothing changed, and a till that scans a
code learns what to apply (redemptionByCode's delivery)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api import ops
from tests.api.client import Api

VALUE = "value { type level amount currency percentage sku }"
CREATE = f"""
mutation($input: RewardInput!, $key: String!) {{
  createReward(input: $input, idempotencyKey: $key) {{
    reward {{ id key discount {VALUE} }}
    userErrors {{ field code message }}
  }}
}}"""
UPDATE = f"""
mutation($id: ID!, $input: RewardChangesInput!, $key: String!) {{
  updateReward(rewardId: $id, input: $input, idempotencyKey: $key) {{
    reward {{ discount {VALUE} }} userErrors {{ field code message }}
  }}
}}"""
REWARD = f"query($id: ID!) {{ node(id: $id) {{ ... on Reward {{ discount {VALUE} }} }} }}"
BY_CODE = f"""
query($code: String!) {{
  redemptionByCode(code: $code) {{ delivery {{ codes codeValue {VALUE} }} }}
}}"""


async def _create(api: Api, key: str, **fields: Any) -> dict[str, Any]:
    base = {"key": key, "name": key.title(), "kind": "DISCOUNT_CODE", "cost": 10}
    body = await api.data(CREATE, {"input": {**base, **fields}, "key": ops.key()})
    return dict(body["createReward"])


def _value(type_: str, level: str, **fields: Any) -> dict[str, Any]:
    base = {"amount": None, "currency": None, "percentage": None, "sku": None}
    return {"type": type_, "level": level, **base, **fields}


@pytest.mark.parametrize(
    ("fields", "discount", "value"),
    [
        (
            {"valueType": "FIXED_AMOUNT", "valueAmount": "5"},
            "5.00 EUR off",
            _value("FIXED_AMOUNT", "CHECK", amount="5", currency="EUR"),
        ),
        (
            {"valueType": "PERCENTAGE", "valueAmount": "10", "valueSku": "SKU-7"},
            "10% off SKU-7",
            _value("PERCENTAGE", "ITEM", percentage="10", sku="SKU-7"),
        ),
        ({"valueType": "FREE_SHIPPING"}, "Free shipping", _value("FREE_SHIPPING", "CHECK")),
        (
            {"valueType": "FREE_ITEM", "valueSku": "SKU-123"},
            "Free SKU-123",
            _value("FREE_ITEM", "ITEM", sku="SKU-123"),
        ),
        (
            {"valueType": "FREE_SHIPPING", "discount": "Ships free!"},
            "Ships free!",  # the reward's own text wins
            _value("FREE_SHIPPING", "CHECK"),
        ),
        ({"discount": "a smile"}, "a smile", None),  # no typed value, as before
    ],
)
async def test_create_a_reward_of_each_value_type(
    api: Api, fields: dict[str, Any], discount: str, value: dict[str, Any] | None
) -> None:
    made = await _create(api, "deal", **fields)
    assert made["userErrors"] == []
    assert (made["reward"]["discount"], made["reward"]["value"]) == (discount, value)


async def test_update_changes_the_value_and_bad_input_changes_nothing(api: Api) -> None:
    made = await _create(api, "deal", valueType="PERCENTAGE", valueAmount="10")
    reward = made["reward"]["id"]

    async def update(**changes: Any) -> dict[str, Any]:
        body = await api.data(UPDATE, {"id": reward, "input": changes, "key": ops.key()})
        return dict(body["updateReward"])

    raised = await update(valueAmount="15")
    assert raised["reward"]["value"] == _value("PERCENTAGE", "CHECK", percentage="15")
    for bad, field in (
        ({"valueAmount": "150"}, "value_amount"),
        ({"valueAmount": "0"}, "value_amount"),
        ({"valueLevel": "ITEM"}, "value_sku"),
        ({"valueType": "FIXED_AMOUNT", "valueAmount": "2.555"}, "value_amount"),
        ({"valueType": "FREE_ITEM"}, "value_sku"),
        ({"valueType": "FREE_ITEM", "valueSku": "A\u0007"}, "value_sku"),
        ({"valueType": "FREE_SHIPPING", "valueLevel": "ITEM"}, "value_level"),
    ):
        refused = await update(**bad)
        assert refused["reward"] is None
        [error] = refused["userErrors"]
        assert (error["code"], error["field"]) == ("INVALID_INPUT", field), (bad, error)
    after = (await api.data(REWARD, {"id": reward}))["node"]
    assert after == {"discount": "15% off", "value": _value("PERCENTAGE", "CHECK", percentage="15")}
    replaced = await update(valueType="FREE_ITEM", valueSku="MUG-1")  # the old percent goes
    assert replaced["reward"]["value"] == _value("FREE_ITEM", "ITEM", sku="MUG-1")
    cleared = await update(valueType=None)
    assert cleared["reward"] == {"discount": "", "value": None}


async def test_a_value_is_refused_on_other_kinds_and_nothing_is_made(api: Api) -> None:
    refused = await _create(api, "poster", kind="PHYSICAL", valueType="FREE_SHIPPING")
    [error] = refused["userErrors"]
    assert (error["code"], error["field"]) == ("INVALID_INPUT", "value_type")
    assert "only a DISCOUNT_CODE" in error["message"]
    no_amount = await _create(api, "five", valueType="FIXED_AMOUNT")
    assert [(e["code"], e["field"]) for e in no_amount["userErrors"]] == [
        ("INVALID_INPUT", "value_amount")
    ]
    assert "poster" not in await ops.reward_ids(api)
    assert "five" not in await ops.reward_ids(api)


async def test_a_till_scanning_a_code_learns_what_to_apply(api: Api) -> None:
    made = await _create(api, "five-off", valueType="FIXED_AMOUNT", valueAmount="5.50")
    assert made["userErrors"] == []
    member = await ops.enroll(api, "shopper")
    await ops.adjust(api, member, 100)
    [code] = (await ops.redeem(api, member, "five-off"))["codes"]
    found = (await api.data(BY_CODE, {"code": code}))["redemptionByCode"]
    assert found["delivery"] == {
        "codes": [code],
        "codeValue": "5.50 EUR off",
        "value": _value("FIXED_AMOUNT", "CHECK", amount="5.50", currency="EUR"),
    }
