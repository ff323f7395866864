"""Store webhooks in, end to end: a live Tally answers Shopify at once and its background
worker records the order by line, then the refund by line; a webhook Shopify sends twice
changes nothing."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from app.domain.shopify import sign_hmac
from app.ledger.database import open_database
from app.ledger.uow import UnitOfWork
from app.services.clock import SystemClock
from app.services.inbound import save_source
from tests.e2e.conftest import ServerPool
from tests.e2e.giftcard_sandbox import eventually
from tests.e2e.helpers import execute, now_iso

pytestmark = pytest.mark.parametrize("backend", ["sqlite", "postgres"])

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
SECRET = "shpss_e2e_0123456789abcdef"
BALANCE = '{ member(externalId: "207119551") { balance { available } } }'


async def test_shopify_orders_and_refunds_arrive_and_count_once(
    db_url: str, servers: ServerPool
) -> None:
    db = open_database(db_url)
    try:
        await save_source(
            UnitOfWork(db), SystemClock(), name="shop", kind="shopify", secret=SECRET,
            enroll_unknown=True,
        )  # fmt: skip
    finally:
        await db.dispose()
    [tally] = await servers.astart(env={"TALLY_INBOUND_INTERVAL": "0.1"})
    order = json.loads((FIXTURES / "shopify_order_paid.json").read_text())
    order["processed_at"] = now_iso()
    bodies = [
        ("orders/paid", json.dumps(order).encode(), "e2e-1"),
        ("orders/paid", json.dumps(order).encode(), "e2e-1"),  # the same delivery again
        ("refunds/create", (FIXTURES / "shopify_refund_create.json").read_bytes(), "e2e-2"),
    ]
    async with httpx.AsyncClient(base_url=tally.base_url, timeout=10) as client:
        for topic, body, delivery in bodies[:2]:
            answer = await client.post(
                "/hooks/shopify/shop",
                content=body,
                headers={
                    "X-Shopify-Hmac-Sha256": sign_hmac(SECRET, body),
                    "X-Shopify-Topic": topic,
                    "X-Shopify-Webhook-Id": delivery,
                },
            )
            assert answer.status_code == 200
        partner = tally.partner_token()

        async def earned() -> bool:
            found = await execute(tally, partner, BALANCE)
            return bool(found["member"] and found["member"]["balance"]["available"] == 389)

        await eventually(earned, within=15)
        topic, body, delivery = bodies[2]
        refund = await client.post(
            "/hooks/shopify/shop",
            content=body,
            headers={
                "X-Shopify-Hmac-Sha256": sign_hmac(SECRET, body),
                "X-Shopify-Topic": topic,
                "X-Shopify-Webhook-Id": delivery,
            },
        )
        assert refund.status_code == 200

        async def refunded() -> bool:
            found = await execute(tally, partner, BALANCE)
            return bool(found["member"]["balance"]["available"] == 190)

        await eventually(refunded, within=15)
        forged = await client.post(
            "/hooks/shopify/shop",
            content=body,
            headers={"X-Shopify-Hmac-Sha256": "AAAA", "X-Shopify-Topic": topic,
                     "X-Shopify-Webhook-Id": "e2e-3"},
        )  # fmt: skip
        assert forged.status_code == 401
