"""Real clients against a live server: gql over HTTP (httpx) and graphql-transport-ws."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

from gql import Client, GraphQLRequest
from gql.transport.httpx import HTTPXAsyncTransport
from gql.transport.websockets import WebsocketsTransport

from tests.e2e.server import LiveServer

TIMEOUT = 10.0

ENROLL = """
mutation Enroll($key: String!, $externalId: String!) {
  enrollMember(idempotencyKey: $key, input: {externalId: $externalId}) {
    member { id externalId balance { version } }
    userErrors { code message }
  }
}"""

PURCHASE = """
mutation Purchase($key: String!, $input: RecordPurchaseInput!) {
  recordPurchase(idempotencyKey: $key, input: $input) {
    pointsEarned
    balance { available version }
    userErrors { code message }
  }
}"""

ADJUST = """
mutation Adjust($key: String!, $input: AdjustPointsInput!) {
  adjustPoints(idempotencyKey: $key, input: $input) {
    balance { available version }
    userErrors { code message }
  }
}"""

REDEEM = """
mutation Redeem($key: String!, $input: RedeemRewardInput!) {
  redeemReward(idempotencyKey: $key, input: $input) {
    redemption { id status codes points }
    balance { available held version }
    userErrors { code message }
  }
}"""

REWARDS = "{ rewards(first: 50) { edges { node { id key cost } } } }"

VIEWER = "{ viewer { id externalId balance { available held version } } }"

BALANCE_CHANGED = """
subscription Follow($memberId: ID, $since: Int) {
  balanceChanged(memberId: $memberId, sinceVersion: $since) {
    version kind delta pendingDelta heldDelta reference
    balance { available pending held version }
  }
}"""


def now_iso() -> str:
    return datetime.now(UTC).isoformat()


def key() -> str:
    return uuid.uuid4().hex


def http_client(server: LiveServer, token: str) -> Client:
    transport = HTTPXAsyncTransport(
        url=server.graphql_url, headers={"Authorization": f"Bearer {token}"}, timeout=TIMEOUT
    )
    return Client(transport=transport, execute_timeout=TIMEOUT)


def ws_client(server: LiveServer, token: str) -> Client:
    transport = WebsocketsTransport(
        url=server.ws_url,
        subprotocols=[WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL],
        init_payload={"Authorization": f"Bearer {token}"},
        connect_timeout=TIMEOUT,
        ack_timeout=TIMEOUT,
        close_timeout=2,
    )
    return Client(transport=transport, execute_timeout=TIMEOUT)


async def execute(
    server: LiveServer, token: str, query: str, variables: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Run one operation over HTTP; TransportQueryError if it answers with errors."""
    async with http_client(server, token) as session:
        request = GraphQLRequest(query, variable_values=variables)
        result: dict[str, Any] = await asyncio.wait_for(session.execute(request), TIMEOUT)
        return result


async def enroll(server: LiveServer, partner: str, external_id: str) -> dict[str, Any]:
    data = await execute(server, partner, ENROLL, {"key": key(), "externalId": external_id})
    payload: dict[str, Any] = data["enrollMember"]
    assert payload["userErrors"] == [], payload
    member: dict[str, Any] = payload["member"]
    return member


async def purchase(
    server: LiveServer, partner: str, member_id: str, order_id: str, amount: str
) -> dict[str, Any]:
    data = await execute(
        server,
        partner,
        PURCHASE,
        {
            "key": key(),
            "input": {
                "memberId": member_id,
                "orderId": order_id,
                "amount": amount,
                "currency": "EUR",
                "occurredAt": now_iso(),
            },
        },
    )
    payload: dict[str, Any] = data["recordPurchase"]
    assert payload["userErrors"] == [], payload
    return payload


async def adjust(server: LiveServer, partner: str, member_id: str, points: int) -> dict[str, Any]:
    data = await execute(
        server,
        partner,
        ADJUST,
        {"key": key(), "input": {"memberId": member_id, "points": points, "reason": "e2e"}},
    )
    payload: dict[str, Any] = data["adjustPoints"]
    assert payload["userErrors"] == [], payload
    return payload


async def reward_ids(server: LiveServer, token: str) -> dict[str, str]:
    data = await execute(server, token, REWARDS)
    return {e["node"]["key"]: e["node"]["id"] for e in data["rewards"]["edges"]}


class Subscription:
    """Results of one running subscription, as they arrive."""

    def __init__(self) -> None:
        self.queue: asyncio.Queue[dict[str, Any] | BaseException | None] = asyncio.Queue()

    async def next(self, within: float = TIMEOUT) -> dict[str, Any]:
        item = await asyncio.wait_for(self.queue.get(), within)
        if isinstance(item, BaseException):
            raise item
        assert item is not None, "the subscription completed"
        return item

    async def outcome(self, within: float = TIMEOUT) -> dict[str, Any] | BaseException | None:
        """The next thing that happens: a change, an error, or None for completion."""
        return await asyncio.wait_for(self.queue.get(), within)

    async def quiet(self, seconds: float) -> None:
        """Nothing more arrives within `seconds`."""
        with contextlib.suppress(TimeoutError):
            item = await asyncio.wait_for(self.queue.get(), seconds)
            raise AssertionError(f"unexpected subscription result: {item!r}")


@contextlib.asynccontextmanager
async def follow(
    server: LiveServer,
    token: str,
    *,
    member_id: str | None = None,
    since: int | None = None,
) -> AsyncIterator[Subscription]:
    """Subscribe to balanceChanged over a fresh WebSocket; leaving closes it."""
    client = ws_client(server, token)
    session = await asyncio.wait_for(client.connect_async(), TIMEOUT)  # type: ignore[no-untyped-call]
    subscription = Subscription()
    request = GraphQLRequest(
        BALANCE_CHANGED, variable_values={"memberId": member_id, "since": since}
    )

    async def pump() -> None:
        try:
            async for result in session.subscribe(request):
                subscription.queue.put_nowait(result["balanceChanged"])
            subscription.queue.put_nowait(None)
        except Exception as error:  # noqa: BLE001 - handed to the test
            subscription.queue.put_nowait(error)

    task = asyncio.create_task(pump())
    try:
        yield subscription
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await asyncio.wait_for(client.close_async(), TIMEOUT)  # type: ignore[no-untyped-call]
