"""balanceChanged against a real server: live push, resume after a disconnect, access rules."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
import websockets
from gql.transport.exceptions import TransportConnectionFailed, TransportQueryError
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

from app.auth.keys import generate_keys
from app.auth.tokens import TokenIssuer
from tests.e2e.helpers import (
    REDEEM,
    TIMEOUT,
    VIEWER,
    adjust,
    enroll,
    execute,
    follow,
    key,
    purchase,
    reward_ids,
)
from tests.e2e.server import AUDIENCE, ISSUER, LiveServer


def close_code(error: BaseException) -> int | None:
    """The WebSocket close code behind a gql transport error, if any."""
    cause: BaseException | None = error
    while cause is not None:
        if isinstance(cause, ConnectionClosed) and cause.rcvd is not None:
            return cause.rcvd.code
        cause = cause.__cause__
    return None


async def raw_init(server: LiveServer, payload: dict[str, Any] | None) -> int | None:
    """Open a socket, send connection_init; the close code the server answers with."""
    protocol = Subprotocol("graphql-transport-ws")
    async with websockets.connect(server.ws_url, subprotocols=[protocol]) as ws:
        message: dict[str, Any] = {"type": "connection_init"}
        if payload is not None:
            message["payload"] = payload
        await ws.send(json.dumps(message))
        try:
            answer = await asyncio.wait_for(ws.recv(), TIMEOUT)
        except ConnectionClosed as closed:
            return closed.rcvd.code if closed.rcvd is not None else None
        raise AssertionError(f"the server answered instead of closing: {answer!r}")


async def test_app_follows_its_balance_and_resumes_after_a_disconnect(live: LiveServer) -> None:
    partner = live.partner_token()
    member = await enroll(live, partner, "alice")
    app = live.member_token("alice")
    # The app reads its balance, then follows from that version: nothing can slip between.
    seen = (await execute(live, app, VIEWER))["viewer"]["balance"]["version"]
    assert seen == member["balance"]["version"]

    async with follow(live, app, since=seen) as changes:
        await purchase(live, partner, member["id"], "order-1", "42.90")
        first = await changes.next()
        assert first == {
            "version": seen + 1,
            "kind": "EARN",
            "delta": 42,
            "pendingDelta": 0,
            "heldDelta": 0,
            "reference": "order-1",
            "balance": {"available": 42, "pending": 0, "held": 0, "version": seen + 1},
        }
        last = first["version"]
    # Disconnected: two changes happen meanwhile.
    await purchase(live, partner, member["id"], "order-2", "10")
    await adjust(live, partner, member["id"], -5)

    async with follow(live, app, since=last) as changes:
        missed = [await changes.next(), await changes.next()]
        assert [(c["version"], c["kind"], c["delta"]) for c in missed] == [
            (last + 1, "EARN", 10),
            (last + 2, "ADJUST", -5),
        ]
        assert missed[-1]["balance"]["available"] == 47
        await changes.quiet(0.5)  # exactly those two

        coffee = (await reward_ids(live, app))["coffee"]
        redeemed = await execute(live, app, REDEEM, {"key": key(), "input": {"rewardId": coffee}})
        assert redeemed["redeemReward"]["userErrors"] == []
        live_change = await changes.next()
        assert live_change["version"] == last + 3
        assert live_change["kind"] == "HOLD"
        assert (live_change["delta"], live_change["heldDelta"]) == (-10, 10)
        assert live_change["balance"] == {
            "available": 37,
            "pending": 0,
            "held": 10,
            "version": last + 3,
        }
        await changes.quiet(0.3)


async def test_bad_token_closes_the_socket_with_4403(live: LiveServer) -> None:
    with pytest.raises(TransportConnectionFailed) as failed:
        async with follow(live, "not-a-token"):
            pass
    assert close_code(failed.value) == 4403

    foreign = TokenIssuer(generate_keys(), ISSUER, AUDIENCE).mint(
        subject="alice", scopes=["loyalty:read"]
    )
    assert await raw_init(live, {"Authorization": f"Bearer {foreign}"}) == 4403
    assert await raw_init(live, {"Authorization": "Bearer garbage"}) == 4403
    assert await raw_init(live, None) == 4403
    wrong_audience = TokenIssuer(generate_keys(), ISSUER, "someone-else").mint(
        subject="alice", scopes=["loyalty:read"]
    )
    assert await raw_init(live, {"Authorization": f"Bearer {wrong_audience}"}) == 4403


async def test_member_token_cannot_follow_another_member(live: LiveServer) -> None:
    partner = live.partner_token()
    await enroll(live, partner, "alice")
    bob = await enroll(live, partner, "bob")
    alice_app = live.member_token("alice")

    async with follow(live, alice_app, member_id=bob["id"], since=0) as changes:
        outcome = await changes.outcome()
        await purchase(live, partner, bob["id"], "bob-1", "20")
        await changes.quiet(0.5)
    assert isinstance(outcome, TransportQueryError), outcome
    assert outcome.errors is not None
    assert [e.get("extensions", {}).get("code") for e in outcome.errors] == ["FORBIDDEN"]
    assert outcome.data is None


async def test_partner_with_members_read_follows_any_member(live: LiveServer) -> None:
    partner = live.partner_token()
    alice = await enroll(live, partner, "alice")
    await purchase(live, partner, alice["id"], "a-1", "5")
    reader = live.partner_token("crm", scopes=["members:read"])

    async with follow(live, reader, member_id=alice["id"], since=0) as changes:
        backlog = await changes.next()
        assert (backlog["version"], backlog["kind"], backlog["delta"]) == (1, "EARN", 5)
        await purchase(live, partner, alice["id"], "a-2", "7")
        pushed = await changes.next()
        assert (pushed["version"], pushed["delta"], pushed["balance"]["available"]) == (2, 7, 12)

    # Without members:read, or without a memberId, a partner follows nobody.
    writer = live.partner_token("pos", scopes=["points:write"])
    async with follow(live, writer, member_id=alice["id"], since=0) as changes:
        denied = await changes.outcome()
    assert isinstance(denied, TransportQueryError), denied
    async with follow(live, reader, since=0) as changes:
        missing = await changes.outcome()
    assert isinstance(missing, TransportQueryError), missing
    assert missing.errors is not None
    assert missing.errors[0]["extensions"]["code"] == "INVALID_INPUT"


async def test_each_change_carries_the_members_tier(live: LiveServer) -> None:
    partner = live.partner_token()
    member = await enroll(live, partner, "tiered")
    query = (
        "subscription { balanceChanged(sinceVersion: 0) "
        "{ version tier { current { key } qualifyingPoints } } }"
    )
    protocol = Subprotocol("graphql-transport-ws")
    async with websockets.connect(live.ws_url, subprotocols=[protocol]) as ws:
        token = live.member_token("tiered")
        await ws.send(
            json.dumps({"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}})
        )
        assert json.loads(await asyncio.wait_for(ws.recv(), TIMEOUT))["type"] == "connection_ack"
        await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": query}}))
        await purchase(live, partner, member["id"], "tier-1", "1000")  # gold starts at 1000
        while True:
            message = json.loads(await asyncio.wait_for(ws.recv(), TIMEOUT))
            if message["type"] == "next":
                break
        change = message["payload"]["data"]["balanceChanged"]
        assert change == {
            "version": 1,
            "tier": {"current": {"key": "gold"}, "qualifyingPoints": 1000},
        }
