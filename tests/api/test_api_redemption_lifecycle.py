"""The redemption lifecycle over GraphQL: a 3PL moves goods along with updateRedemption
(tracking in Redemption.delivery, each change in Redemption.history), an illegal move is a
userError INVALID_TRANSITION, a till finds a redemption by its code and fulfils it by code,
and a member token can neither update redemptions nor look codes up."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.api import ops
from tests.api.client import Api, make_settings, open_api
from tests.ledger.harness import program_data

UPDATE = """
mutation($id: ID!, $status: RedemptionStatus!, $key: String!, $carrier: String,
         $tracking: String, $url: String, $note: String) {
  updateRedemption(redemptionId: $id, status: $status, idempotencyKey: $key, carrier: $carrier,
                   trackingNumber: $tracking, trackingUrl: $url, note: $note) {
    redemption { status kind resolvedAt
      delivery { carrier trackingNumber trackingUrl note codes }
      history { status actor detail version } }
    balance { available held }
    userErrors { field code message }
  }
}"""

BY_CODE = """
query($code: String!) {
  redemptionByCode(code: $code) { id status kind points delivery { codes codeValue } }
}"""

FULFIL_BY_CODE = """
mutation($code: String!, $key: String!) {
  fulfillRedemption(code: $code, idempotencyKey: $key) {
    redemption { status history { status actor } }
    balance { available held }
    userErrors { field code message }
  }
}"""


@pytest.fixture
async def api(db_url: str, tmp_path: Path) -> AsyncIterator[Api]:
    program = program_data()
    program["rewards"].append(
        {"key": "mug", "name": "Mug", "cost": 30, "stock": 5, "kind": "PHYSICAL"}
    )
    async with open_api(make_settings(db_url, tmp_path), program=program) as opened:
        yield opened


async def _update(api: Api, redemption: str, status: str, **extra: Any) -> dict[str, Any]:
    body = await api.data(UPDATE, {"id": redemption, "status": status, "key": ops.key(), **extra})
    return dict(body["updateRedemption"])


async def test_a_3pl_ships_goods_with_tracking_and_the_member_sees_it(api: Api) -> None:
    member = await ops.enroll(api, "shopper")
    await ops.purchase(api, member, "o-1", "100")
    mug = (await ops.redeem(api, member, "mug", shipping_address=ops.ADDRESS))["id"]
    picked = await _update(api, mug, "FULFILLING", note="picked at bay 4")
    assert picked["userErrors"] == []
    assert picked["balance"] == {"available": 70, "held": 30}
    shipped = await _update(
        api, mug, "SHIPPED", carrier="DHL", tracking="00340434", url="https://t.example/1"
    )
    assert shipped["userErrors"] == []
    redemption = shipped["redemption"]
    assert (redemption["status"], redemption["kind"]) == ("SHIPPED", "PHYSICAL")
    assert redemption["resolvedAt"] is not None
    assert redemption["delivery"] == {
        "carrier": "DHL",
        "trackingNumber": "00340434",
        "trackingUrl": "https://t.example/1",
        "note": "picked at bay 4",
        "codes": [],
    }
    assert [h["status"] for h in redemption["history"]] == ["HELD", "FULFILLING", "SHIPPED"]
    assert [h["version"] for h in redemption["history"]] == [1, 2, 3]
    assert shipped["balance"] == {"available": 70, "held": 0}

    viewer = api.token(member="shopper")
    seen = await api.data(
        "{ viewer { redemptions(first: 5) { edges { node { status delivery { trackingNumber } "
        "history { status } } } } } }",
        token=viewer,
    )
    [edge] = seen["viewer"]["redemptions"]["edges"]
    assert edge["node"]["delivery"]["trackingNumber"] == "00340434"
    assert len(edge["node"]["history"]) == 3


async def test_an_illegal_move_is_a_user_error_that_changes_nothing(api: Api) -> None:
    member = await ops.enroll(api, "mover")
    await ops.purchase(api, member, "o-1", "100")
    mug = (await ops.redeem(api, member, "mug", shipping_address=ops.ADDRESS))["id"]
    jumped = await _update(api, mug, "DELIVERED")
    assert jumped["redemption"] is None
    [error] = jumped["userErrors"]
    assert (error["code"], error["field"]) == ("INVALID_TRANSITION", "status")
    assert "cannot go from HELD to DELIVERED" in error["message"]
    untracked = await _update(api, mug, "SHIPPED", carrier="DHL")
    assert ops.codes(untracked) == ["INVALID_INPUT"]
    coffee = (await ops.redeem(api, member, "coffee"))["id"]
    assert ops.codes(await _update(api, coffee, "FULFILLING")) == ["INVALID_TRANSITION"]
    assert await ops.redemption_status(api, mug) == "HELD"
    assert (await ops.balance(api, member))["held"] == 40


async def test_a_till_scans_a_code_finds_the_redemption_and_fulfils_it(api: Api) -> None:
    member = await ops.enroll(api, "regular")
    await ops.purchase(api, member, "o-1", "100")
    coffee = await ops.redeem(api, member, "coffee")
    [code] = coffee["codes"]
    found = (await api.data(BY_CODE, {"code": code}))["redemptionByCode"]
    assert (found["id"], found["status"], found["kind"]) == (coffee["id"], "HELD", "DISCOUNT_CODE")
    assert found["delivery"] == {"codes": [code], "codeValue": "1 coffee"}
    assert (await api.data(BY_CODE, {"code": "TLY-NONE-NONE-NONE"}))["redemptionByCode"] is None
    bad = await api.gql(BY_CODE, {"code": "TLY\x00"})
    assert ops.error_codes(bad) == ["INVALID_INPUT"]

    used = (await api.data(FULFIL_BY_CODE, {"code": code, "key": ops.key()}))["fulfillRedemption"]
    assert used["userErrors"] == []
    assert used["redemption"]["history"][-1] == {"status": "FULFILLED", "actor": "client:partner-1"}
    again = (await api.data(FULFIL_BY_CODE, {"code": code, "key": ops.key()}))["fulfillRedemption"]
    assert ops.codes(again) == ["INVALID_STATE"]
    both = await api.gql(
        'mutation { fulfillRedemption(idempotencyKey: "k", code: "x", redemptionId: "y") '
        "{ userErrors { code } } }"
    )
    assert ops.error_codes(both) == ["INVALID_INPUT"]


async def test_a_member_token_can_neither_look_codes_up_nor_move_redemptions(api: Api) -> None:
    member = await ops.enroll(api, "curious")
    await ops.purchase(api, member, "o-1", "100")
    mug = (await ops.redeem(api, member, "mug", shipping_address=ops.ADDRESS))["id"]
    token = api.token(member="curious")
    looked = await api.gql(BY_CODE, {"code": "TLY-0000-0000-0000"}, token=token)
    assert ops.error_codes(looked) == ["FORBIDDEN"]
    moved = await api.gql(UPDATE, {"id": mug, "status": "CANCELLED", "key": ops.key()}, token=token)
    assert ops.error_codes(moved) == ["FORBIDDEN"]
    assert await ops.redemption_status(api, mug) == "HELD"
