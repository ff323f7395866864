"""Store order webhooks in: Shopify's orders/paid and refunds/create, verified with the
shop's HMAC, stored before they are answered, de-duplicated, then processed: the member
earns by line and a refund takes back exactly its line's points; whatever arrives twice
changes nothing; a failure is visible and can be retried."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx

from app.domain.shopify import sign_hmac
from app.services.inbound import InboundProcessor, save_source
from tests.api import ops
from tests.api.client import Api

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
SECRET = "shpss_test_0123456789abcdef"
EVENTS = """
query($status: String) {
  inboundEvents(status: $status, first: 20) { edges { node { id topic status error attempts } } }
}"""
RETRY = """
mutation($id: ID!, $key: String!) {
  retryInboundEvent(eventId: $id, idempotencyKey: $key) { eventId userErrors { code } }
}"""


def _body(name: str, **changes: Any) -> bytes:
    data = json.loads((FIXTURES / name).read_text())
    data.update(changes)
    return json.dumps(data).encode()


async def _send(
    api: Api, topic: str, body: bytes, webhook_id: str, secret: str = SECRET, shop: str = "eu-shop"
) -> httpx.Response:
    return await api.http.post(
        f"/hooks/shopify/{shop}",
        content=body,
        headers={
            "X-Shopify-Hmac-Sha256": sign_hmac(secret, body),
            "X-Shopify-Topic": topic,
            "X-Shopify-Webhook-Id": webhook_id,
            "X-Shopify-Shop-Domain": "eu-shop.myshopify.com",
            "Content-Type": "application/json",
        },
    )


async def _process(api: Api) -> int:
    services = api.runtime.services
    return await InboundProcessor(services.uow, services.clock).run_due()


async def _source(api: Api, *, enroll_unknown: bool) -> None:
    services = api.runtime.services
    await save_source(
        services.uow,
        services.clock,
        name="eu-shop",
        kind="shopify",
        secret=SECRET,
        enroll_unknown=enroll_unknown,
    )


async def test_an_order_earns_by_line_and_its_refund_takes_back_exactly_its_line(
    api: Api,
) -> None:
    await _source(api, enroll_unknown=True)
    order = _body("shopify_order_paid.json", processed_at=ops.just_now())
    answered = await _send(api, "orders/paid", order, "wh-1")
    assert answered.status_code == 200
    assert answered.json()["status"] == "stored"
    assert (await _send(api, "orders/paid", order, "wh-1")).json()["status"] == "already received"
    assert await _process(api) == 1  # the duplicate was never stored
    member = (
        await api.data('{ member(externalId: "207119551") { id email balance { available } } }')
    )["member"]
    assert member["email"] == "bob.norman@mail.example.com"  # enrolled by the shop's setting
    assert member["balance"]["available"] == 389  # 1 per EUR of 389.00 after discounts

    # Shopify retries with a new webhook id: the order is recorded once.
    assert (await _send(api, "orders/paid", order, "wh-2")).status_code == 200
    refund = _body("shopify_refund_create.json")
    assert (await _send(api, "refunds/create", refund, "wh-3")).status_code == 200
    assert (await _send(api, "refunds/create", refund, "wh-4")).status_code == 200
    assert await _process(api) == 3
    after = (await api.data('{ member(externalId: "207119551") { balance { available } } }'))[
        "member"
    ]
    assert after["balance"]["available"] == 190  # the red iPod's 199 points, once
    statuses = [e["node"]["status"] for e in (await api.data(EVENTS))["inboundEvents"]["edges"]]
    assert statuses == ["PROCESSED"] * 4


async def test_a_bad_signature_is_a_401_that_stores_nothing(api: Api) -> None:
    await _source(api, enroll_unknown=True)
    order = _body("shopify_order_paid.json", processed_at=ops.just_now())
    forged = await _send(api, "orders/paid", order, "wh-9", secret="not-the-shop-secret-at-all")
    assert forged.status_code == 401
    unknown = await _send(api, "orders/paid", order, "wh-9", shop="no-such-shop")
    assert unknown.status_code == 404
    assert (await api.data(EVENTS))["inboundEvents"]["edges"] == []


async def test_a_failure_is_visible_and_retried_once_its_cause_is_fixed(api: Api) -> None:
    await _source(api, enroll_unknown=False)
    order = _body("shopify_order_paid.json", processed_at=ops.just_now())
    await _send(api, "orders/paid", order, "wh-20")
    await _process(api)
    [failed] = (await api.data(EVENTS, {"status": "FAILED"}))["inboundEvents"]["edges"]
    assert failed["node"]["error"].startswith("MEMBER_NOT_FOUND")
    await ops.enroll(api, "207119551")
    retried = (await api.data(RETRY, {"id": failed["node"]["id"], "key": ops.key()}))[
        "retryInboundEvent"
    ]
    assert retried["userErrors"] == []
    assert await _process(api) == 1
    assert (await ops.balance(api, 1))["available"] == 389
    again = (await api.data(RETRY, {"id": failed["node"]["id"], "key": ops.key()}))[
        "retryInboundEvent"
    ]
    assert [e["code"] for e in again["userErrors"]] == ["INVALID_STATE"]


async def test_only_orders_manage_sees_inbound_events(api: Api) -> None:
    await ops.enroll(api, "snoop")
    for token in (api.token(member="snoop"), api.token(scopes={"points:write"})):
        body = await api.gql(EVENTS, token=token)
        assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_another_platform_sends_orders_signed_the_standard_webhooks_way(api: Api) -> None:
    from datetime import UTC, datetime

    from standardwebhooks.webhooks import Webhook

    from app.events.webhook_client import new_secret

    services = api.runtime.services
    secret = new_secret()
    await save_source(
        services.uow, services.clock, name="wms", kind="standard", secret=secret,
        enroll_unknown=True,
    )  # fmt: skip
    signer = Webhook(secret)  # the independent implementation signs, Tally verifies

    async def send(message: dict[str, Any], msg_id: str) -> httpx.Response:
        body = json.dumps(message)
        at = datetime.now(UTC)
        return await api.http.post(
            "/hooks/orders/wms",
            content=body.encode(),
            headers={
                "webhook-id": msg_id,
                "webhook-timestamp": str(int(at.timestamp())),
                "webhook-signature": signer.sign(msg_id, at, body),
            },
        )

    paid = {
        "type": "order.paid",
        "data": {
            "orderId": "A-1001",
            "externalId": "cust-7",
            "email": "ann@example.com",
            "amount": "59.90",
            "currency": "EUR",
            "occurredAt": ops.just_now(),
            "lines": [{"sku": "TEE-M", "quantity": 2, "unitPrice": "29.95"}],
        },
    }
    assert (await send(paid, "msg-1")).status_code == 200
    assert (await send(paid, "msg-1")).json()["status"] == "already received"
    refunded = {
        "type": "order.refunded",
        "data": {
            "refundId": "R-77",
            "orderId": "A-1001",
            "lines": [{"sku": "TEE-M", "quantity": 1}],
        },
    }
    assert (await send(refunded, "msg-2")).status_code == 200
    await _process(api)
    found = (await api.data('{ member(externalId: "cust-7") { balance { available } } }'))["member"]
    assert found["balance"]["available"] == 30  # 59 earned on 59.90, 29 back with one tee
    tampered = await api.http.post(
        "/hooks/orders/wms",
        content=b'{"type": "order.paid", "data": {}}',
        headers={"webhook-id": "msg-3", "webhook-timestamp": str(int(datetime.now(UTC).timestamp())),
                 "webhook-signature": "v1,AAAA"},
    )  # fmt: skip
    assert tampered.status_code == 401


async def test_review_findings_on_orders_in_stay_fixed(api: Api) -> None:
    services = api.runtime.services
    await _source(api, enroll_unknown=True)
    await save_source(
        services.uow, services.clock, name="other-shop", kind="shopify", secret=SECRET,
        enroll_unknown=True,
    )  # fmt: skip
    order = _body("shopify_order_paid.json", processed_at=ops.just_now())
    refund = _body("shopify_refund_create.json")
    # A refund arriving before its order waits for it instead of failing.
    assert (await _send(api, "refunds/create", refund, "early-refund")).status_code == 200
    assert await _process(api) == 1
    [waiting] = (await api.data(EVENTS, {"status": "RECEIVED"}))["inboundEvents"]["edges"]
    assert waiting["node"]["error"] == "its order has not arrived yet"
    # Two shops' orders with the same Shopify id are two orders.
    other = _body(
        "shopify_order_paid.json",
        processed_at=ops.just_now(),
        customer={"id": 9, "email": "x@example.com"},
        email="x@example.com",
    )
    assert (await _send(api, "orders/paid", order, "o-1")).status_code == 200
    assert (await _send(api, "orders/paid", other, "o-2", shop="other-shop")).status_code == 200
    assert await _process(api) == 2
    for customer in ("207119551", "9"):
        found = await api.data(
            f'{{ member(externalId: "{customer}") {{ balance {{ available }} }} }}'
        )
        assert found["member"]["balance"]["available"] == 389, customer
    # A body too deep to read is a 400; a body past 1 MiB a 413; nothing stored.
    deep = b"[" * 100_000 + b"]" * 100_000
    assert (await _send(api, "orders/paid", deep, "deep")).status_code == 400
    huge = b'{"id": 1, "line_items": [], "pad": "' + b"x" * (1024 * 1024) + b'"}'
    assert (await _send(api, "orders/paid", huge, "huge")).status_code == 413
    # Erasing the member redacts the store webhooks about them.
    erased = await api.data(
        "mutation($key: String!, $input: MemberStandingInput!) { eraseMember(idempotencyKey: "
        "$key, input: $input) { userErrors { code } } }",
        {"key": ops.key(), "input": {"externalId": "207119551", "reason": "asked"}},
    )
    assert erased["eraseMember"]["userErrors"] == []
    bodies = await api.data("{ inboundEvents(first: 20) { edges { node { body } } } }")
    assert "bob.norman" not in json.dumps(bodies)
