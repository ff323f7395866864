"""confirmOrder: a partner waives the return window; pending points become available."""

from __future__ import annotations

from pathlib import Path

from tests.api import ops
from tests.api.client import make_settings, open_api
from tests.ledger.harness import program_data

CONFIRM = """
mutation($key: String!, $order: String!) { confirmOrder(idempotencyKey: $key, orderId: $order) {
  pointsReleased balance { available pending } userErrors { code } } }"""


async def test_confirm_order_releases_pending_points_and_needs_points_write(
    db_url: str, tmp_path: Path
) -> None:
    async with open_api(
        make_settings(db_url, tmp_path), program=program_data(pending_days=14)
    ) as api:
        await api.data(
            'mutation { enrollMember(idempotencyKey: "e", input: {externalId: "p"}) '
            "{ userErrors { code } } }"
        )
        await api.data(
            'mutation { recordPurchase(idempotencyKey: "b", input: {externalId: "p", '
            'orderId: "o-1", amount: "25", currency: "EUR", occurredAt: "' + ops.just_now() + '"}) '
            "{ pending userErrors { code } } }"
        )
        refused = await api.gql(
            CONFIRM, {"key": "c0", "order": "o-1"}, token=api.token(scopes={"members:read"})
        )
        assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"

        done = (await api.data(CONFIRM, {"key": "c1", "order": "o-1"}))["confirmOrder"]
        assert done == {
            "pointsReleased": 25,
            "balance": {"available": 25, "pending": 0},
            "userErrors": [],
        }
        missing = (await api.data(CONFIRM, {"key": "c2", "order": "zz"}))["confirmOrder"]
        assert missing["userErrors"] == [{"code": "ORDER_NOT_FOUND"}]
