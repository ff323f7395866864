"""Rewards arriving, end to end: a live Tally (uvicorn) fulfilling through the gift-card
sandbox (its own process) over HTTP. Staff activate a program naming the provider over
GraphQL; a member app subscribes to redemptionUpdated, redeems a gift card and sees
HELD -> FULFILLING -> FULFILLED with its claim link; a large order stays pending until
the sandbox calls Tally's webhook; a mug goes to SHIPPED with tracking; points pay part of
an order at checkout and the hold ends posted."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from gql import GraphQLRequest

from tests.e2e.conftest import ServerPool
from tests.e2e.giftcard_sandbox import (
    ACCESS_TOKEN,
    EMAIL,
    SandboxControl,
    SandboxProcess,
    eventually,
    sandbox_process_fixture,
)
from tests.e2e.helpers import (
    TIMEOUT,
    Subscription,
    execute,
    key,
    now_iso,
    purchase,
    ws_client,
)
from tests.e2e.server import LiveServer

SECRET = "journey-hook-secret"

FOLLOW = """
subscription($since: Int) {
  redemptionUpdated(sinceVersion: $since) {
    version status actor
    redemption { id status delivery { claimLinks sentTo carrier trackingNumber } }
  }
}"""
ACTIVATE = """
mutation($definition: String!, $key: String!) {
  activateProgram(definition: $definition, idempotencyKey: $key) { userErrors { code message } }
}"""
ENROLL = """
mutation($key: String!, $externalId: String!, $email: String) {
  enrollMember(idempotencyKey: $key, input: {externalId: $externalId, email: $email}) {
    member { id } userErrors { code message }
  }
}"""
REDEEM = """
mutation($key: String!, $rewardId: ID!, $ship: ShippingAddressInput) {
  redeemReward(idempotencyKey: $key, input: {rewardId: $rewardId, shippingAddress: $ship}) {
    redemption { id status } userErrors { code message }
  }
}"""
ADDRESS = {
    "name": "Max Member",
    "line1": "Jungfernstieg 1",
    "city": "Hamburg",
    "postalCode": "20095",
    "country": "DE",
}
SHIP = """
mutation($id: ID!, $key: String!) {
  updateRedemption(redemptionId: $id, status: SHIPPED, carrier: "DHL", trackingNumber: "JJD01",
                   idempotencyKey: $key) { userErrors { code message } }
}"""


def _program(sandbox_url: str) -> str:
    return f"""
[program]
name = "Journey Club"
currency = "EUR"
points_per_unit = "1"

[[tiers]]
key = "member"
name = "Member"
threshold = 0

[providers.cards]
kind = "giftcard-api"
base_url = "{sandbox_url}"
email = "{EMAIL}"

[[rewards]]
key = "zalando-25"
name = "Zalando 25 EUR"
cost = 20
kind = "GIFT_CARD"
provider = "cards"
product_id = "ZALANDO-EUR"
face_value = "25"
face_currency = "EUR"

[[rewards]]
key = "zalando-100"
name = "Zalando 100 EUR"
cost = 50
kind = "GIFT_CARD"
provider = "cards"
product_id = "ZALANDO-EUR"
face_value = "100"
face_currency = "EUR"
delivery = "LINK"

[[rewards]]
key = "mug"
name = "Club mug"
cost = 10
kind = "PHYSICAL"
stock = 10

[checkout]
points_value = "0.01"
min_points = 100
step = 50
"""


sandbox_process = sandbox_process_fixture("journey", 5)


ENV = {
    "TALLY_PROVIDER_CARDS_ACCESS_TOKEN": ACCESS_TOKEN,
    "TALLY_PROVIDER_CARDS_WEBHOOK_SECRET": SECRET,
    "TALLY_FULFILMENT_INTERVAL": "0.1",
    "TALLY_FULFILMENT_LEASE": "2",
}


@pytest.fixture
async def tally(servers: ServerPool, sandbox_process: SandboxProcess) -> LiveServer:
    [server] = await servers.astart(env=ENV)
    staff = server.partner_token()
    answer = await execute(
        server, staff, ACTIVATE, {"definition": _program(sandbox_process.url), "key": key()}
    )
    assert answer["activateProgram"]["userErrors"] == []
    async with httpx.AsyncClient(timeout=10) as client:
        await SandboxControl(sandbox_process.url, client).reset()
    return server


@contextlib.asynccontextmanager
async def following(server: LiveServer, token: str) -> AsyncIterator[Subscription]:
    client = ws_client(server, token)
    session = await asyncio.wait_for(client.connect_async(), TIMEOUT)  # type: ignore[no-untyped-call]
    updates = Subscription()

    async def pump() -> None:
        try:
            async for result in session.subscribe(GraphQLRequest(FOLLOW)):
                updates.queue.put_nowait(result["redemptionUpdated"])
        except Exception as error:  # noqa: BLE001 - handed to the test
            updates.queue.put_nowait(error)

    task = asyncio.create_task(pump())
    await asyncio.sleep(0.3)  # subscribed before anything happens (live changes only)
    try:
        yield updates
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await asyncio.wait_for(client.close_async(), TIMEOUT)  # type: ignore[no-untyped-call]


async def _member(server: LiveServer, name: str) -> tuple[str, str]:
    partner = server.partner_token()
    answer = await execute(
        server, partner, ENROLL, {"key": key(), "externalId": name, "email": f"{name}@example.com"}
    )
    member_id = answer["enrollMember"]["member"]["id"]
    await purchase(server, partner, member_id, f"o-{name}", "200")
    return member_id, server.member_token(name)


async def _rewards(server: LiveServer, token: str) -> dict[str, str]:
    data = await execute(server, token, "{ rewards(first: 20) { edges { node { id key } } } }")
    return {e["node"]["key"]: e["node"]["id"] for e in data["rewards"]["edges"]}


async def _redeem(
    server: LiveServer, token: str, reward: str, ship: dict[str, str] | None = None
) -> str:
    rewards = await _rewards(server, token)
    variables = {"key": key(), "rewardId": rewards[reward], "ship": ship}
    answer = await execute(server, token, REDEEM, variables)
    assert answer["redeemReward"]["userErrors"] == [], answer
    return str(answer["redeemReward"]["redemption"]["id"])


async def test_a_member_redeems_a_gift_card_and_watches_it_arrive(tally: LiveServer) -> None:
    _, app = await _member(tally, "gina")
    async with following(tally, app) as updates:
        redemption = await _redeem(tally, app, "zalando-25")
        seen = [await updates.next() for _ in range(3)]
    assert [u["status"] for u in seen] == ["HELD", "FULFILLING", "FULFILLED"]
    assert [u["version"] for u in seen] == [1, 2, 3]
    assert seen[1]["actor"] == "provider:cards"
    done = seen[2]["redemption"]
    assert done["id"] == redemption
    assert done["status"] == "FULFILLED"
    assert done["delivery"]["sentTo"] == "gina@example.com"
    [link] = done["delivery"]["claimLinks"]
    async with httpx.AsyncClient(timeout=5) as client:
        assert (await client.get(link)).status_code == 200  # the card is there to claim


async def test_a_pending_order_completes_when_the_provider_calls_back(
    tally: LiveServer, sandbox_process: SandboxProcess
) -> None:
    async with httpx.AsyncClient(timeout=10) as client:
        control = SandboxControl(sandbox_process.url, client)
        await control.configure(
            pending_over=50,
            complete_after=0.5,
            webhook_url=f"{tally.base_url}/hooks/providers/cards",
            webhook_secret=SECRET,
        )
        _, app = await _member(tally, "paul")
        async with following(tally, app) as updates:
            await _redeem(tally, app, "zalando-100")
            statuses = [(await updates.next(within=15))["status"] for _ in range(3)]
        assert statuses == ["HELD", "FULFILLING", "FULFILLED"]
        [attempt, *_] = await control.webhook_attempts()
        assert attempt["status"] == 200  # Tally answered the sandbox's callback
        forged = await client.post(
            f"{tally.base_url}/hooks/providers/cards",
            headers={"X-Webhook-Secret": "guess"},
            content=b"{}",
        )
        assert forged.status_code == 401


async def test_a_mug_is_shipped_with_tracking_the_member_sees(tally: LiveServer) -> None:
    _, app = await _member(tally, "max")
    async with following(tally, app) as updates:
        redemption = await _redeem(tally, app, "mug", ship=ADDRESS)
        assert (await updates.next())["status"] == "HELD"
        answer = await execute(tally, tally.partner_token(), SHIP, {"id": redemption, "key": key()})
        assert answer["updateRedemption"]["userErrors"] == []
        shipped = await updates.next()
    assert shipped["status"] == "SHIPPED"
    assert shipped["redemption"]["delivery"]["trackingNumber"] == "JJD01"
    history: dict[str, Any] = await execute(
        tally,
        app,
        "{ viewer { redemptions(first: 5) { edges { node { status "
        "delivery { shippingAddress { name city postalCode country line2 } } } } } } }",
    )
    node = history["viewer"]["redemptions"]["edges"][0]["node"]
    assert node["status"] == "SHIPPED"
    assert node["delivery"]["shippingAddress"] == {
        "name": "Max Member",
        "city": "Hamburg",
        "postalCode": "20095",
        "country": "DE",
        "line2": None,
    }


APPLY = """
mutation($key: String!, $cart: String!, $points: Int!) {
  applyPointsAtCheckout(idempotencyKey: $key, input: {cartId: $cart, points: $points}) {
    checkout { discount code redemption { id } } userErrors { code message }
  }
}"""
PAY = """
mutation($key: String!, $input: RecordPurchaseInput!) {
  recordPurchase(idempotencyKey: $key, input: $input) {
    pointsEarned pointsDiscount userErrors { code message }
  }
}"""


async def test_points_pay_at_checkout_and_the_hold_ends_posted(tally: LiveServer) -> None:
    member_id, app = await _member(tally, "carla")  # 200 points from a 200 EUR order
    async with following(tally, app) as updates:
        held = await execute(tally, app, APPLY, {"key": key(), "cart": "web-1", "points": 150})
        assert held["applyPointsAtCheckout"]["userErrors"] == []
        hold = held["applyPointsAtCheckout"]["checkout"]
        assert hold["discount"] == "1.50"
        assert (await updates.next())["status"] == "HELD"
        # The storefront's backend records the order paying the cart.
        order = {
            "memberId": member_id,
            "orderId": "web-order-1",
            "amount": "30.00",
            "currency": "EUR",
            "occurredAt": now_iso(),
            "cartId": "web-1",
        }
        paid = await execute(tally, tally.partner_token(), PAY, {"key": key(), "input": order})
        assert paid["recordPurchase"]["userErrors"] == []
        assert paid["recordPurchase"]["pointsDiscount"] == "1.50"
        assert paid["recordPurchase"]["pointsEarned"] == 28  # 1 per EUR of the 28.50 paid
        done = await updates.next()
    assert done["status"] == "FULFILLED"
    assert done["redemption"]["id"] == hold["redemption"]["id"]
    seen = await execute(
        tally,
        app,
        "{ viewer { balance { available held } activity(first: 3) { edges { node "
        "{ kind points } } } } }",
    )
    assert seen["viewer"]["balance"] == {"available": 78, "held": 0}  # 200 - 150 + 28
    kinds = [e["node"]["kind"] for e in seen["viewer"]["activity"]["edges"]]
    assert kinds[:2] == ["EARN", "POST"]  # the hold was posted, then the order earned


async def test_tally_killed_mid_call_orders_once_after_restart(
    tally: LiveServer, servers: ServerPool, sandbox_process: SandboxProcess
) -> None:
    """kill -9 while the provider is answering: the order lands at the provider, Tally
    never hears of it. The next Tally takes the job over when its lease runs out, asks
    again with the same PONumber, gets the first order back (409), and fulfils once."""
    async with httpx.AsyncClient(timeout=10) as client:
        control = SandboxControl(sandbox_process.url, client)
        await control.configure(latency_ms=1500)
        _, app = await _member(tally, "kim")
        redemption = await _redeem(tally, app, "zalando-25")

        async def ordering() -> bool:  # token and products answered: the order call is next
            return bool(await control.calls("GET", "/v1/Products"))

        await eventually(ordering, within=15)
        await asyncio.sleep(0.5)  # the worker is inside its order call to the provider
        tally.process.kill()
        tally.process.wait(timeout=10)
        await asyncio.sleep(2.0)  # the sandbox finished the order nobody waits for
        assert len(await control.orders()) == 1
        await control.configure(latency_ms=0)
        [again] = await servers.astart(env=ENV)

        async def fulfilled() -> bool:
            node = await execute(
                again,
                app,
                "query($id: ID!) { node(id: $id) { ... on Redemption { status } } }",
                {"id": redemption},
            )
            return bool(node["node"]["status"] == "FULFILLED")

        await eventually(fulfilled, within=20)
        assert len(await control.orders()) == 1  # the retry found the first order
        statuses = [c["status"] for c in await control.calls("POST", "/v1/Orders")]
        assert 409 in statuses
