"""Sockets against a real server (issue 8): a socket lives no longer than its token, each
principal and each socket is capped, and a consumer that stops reading is cut off without
slowing anyone else. Each as it was found: an open balanceChanged outlived its token,
2,000 sockets of one member were accepted, five stalled readers slowed adjustPoints."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import socket
import struct
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
import websockets
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.typing import Origin, Subprotocol

from tests.e2e.conftest import ServerPool
from tests.e2e.helpers import BALANCE_CHANGED, TIMEOUT, adjust, enroll, purchase
from tests.e2e.server import LiveServer

PROTOCOL = Subprotocol("graphql-transport-ws")


@contextlib.asynccontextmanager
async def opened(
    server: LiveServer, token: str, *, sock: socket.socket | None = None, max_queue: int = 16
) -> AsyncIterator[ClientConnection]:
    """A socket past connection_init: acknowledged, or closed by the server (read it)."""
    async with websockets.connect(
        server.ws_url, subprotocols=[PROTOCOL], sock=sock, max_queue=max_queue
    ) as ws:
        await ws.send(
            json.dumps({"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}})
        )
        yield ws


async def acked(ws: ClientConnection) -> None:
    answer = json.loads(await asyncio.wait_for(ws.recv(), TIMEOUT))
    assert answer["type"] == "connection_ack", answer


async def close_code(ws: ClientConnection, within: float = TIMEOUT) -> int | None:
    """Read until the server closes; the code it closed with."""
    deadline = time.monotonic() + within
    try:
        while time.monotonic() < deadline:
            await asyncio.wait_for(ws.recv(), max(0.01, deadline - time.monotonic()))
    except ConnectionClosed as closed:
        return closed.rcvd.code if closed.rcvd is not None else None
    except TimeoutError:
        pass
    raise AssertionError("the server did not close the socket")


#: balanceChanged with its 200-character reference asked 300 times: 60 KB a message.
BULKY = (
    "subscription { balanceChanged(sinceVersion: 0) { "
    + " ".join(f"r{n}: reference" for n in range(300))
    + " } }"
)


async def subscribe(
    ws: ClientConnection, op: str, since: int | None = None, query: str = BALANCE_CHANGED
) -> None:
    payload = {"query": query, "variables": {"memberId": None, "since": since}}
    await ws.send(json.dumps({"id": op, "type": "subscribe", "payload": payload}))


async def next_message(ws: ClientConnection) -> dict[str, Any]:
    message: dict[str, Any] = json.loads(await asyncio.wait_for(ws.recv(), TIMEOUT))
    return message


async def test_a_socket_closes_when_its_token_expires_and_resumes_losing_nothing(
    servers: ServerPool,
) -> None:
    (live,) = await servers.astart(env={"TALLY_TOKEN_LEEWAY": "0"})
    partner = live.partner_token()
    member = await enroll(live, partner, "ttl-1")
    short = live.member_token("ttl-1", ttl=2)
    async with opened(live, short) as ws:
        await acked(ws)
        await subscribe(ws, "1", since=member["balance"]["version"])
        await adjust(live, partner, member["id"], 5)
        first = await next_message(ws)
        assert first["payload"]["data"]["balanceChanged"]["delta"] == 5
        seen = first["payload"]["data"]["balanceChanged"]["version"]
        began = time.monotonic()
        assert await close_code(ws) == 4403
        assert time.monotonic() - began < 4  # at exp, not at the next keep-alive
    await adjust(live, partner, member["id"], 7)  # while the app is away
    async with opened(live, live.member_token("ttl-1")) as ws:
        await acked(ws)
        await subscribe(ws, "1", since=seen)
        resumed = await next_message(ws)
        assert resumed["payload"]["data"]["balanceChanged"]["delta"] == 7


async def test_an_expired_token_cannot_subscribe_on_a_socket_it_opened(
    servers: ServerPool,
) -> None:
    """The timer closes the socket at expiry; a subscribe racing it is refused as well."""
    (live,) = await servers.astart(env={"TALLY_TOKEN_LEEWAY": "0"})
    await enroll(live, live.partner_token(), "ttl-2")
    async with opened(live, live.member_token("ttl-2", ttl=1)) as ws:
        await acked(ws)
        await asyncio.sleep(1.5)
        with contextlib.suppress(ConnectionClosed):
            await subscribe(ws, "late")
        assert await close_code(ws) == 4403


async def test_sockets_per_member_are_capped_and_freed_when_closed(servers: ServerPool) -> None:
    (live,) = await servers.astart(env={"TALLY_MAX_SOCKETS_PER_MEMBER": "2"})
    token = live.member_token("cap-1")
    async with opened(live, token) as one, opened(live, token) as two:
        await acked(one)
        await acked(two)
        async with opened(live, token) as three:
            assert await close_code(three) == 4429
        async with opened(live, live.member_token("cap-2")) as other:
            await acked(other)  # the cap is per member
    async with opened(live, token) as again:
        await acked(again)  # closed sockets gave their places back


async def test_operations_per_socket_are_capped_with_a_code(servers: ServerPool) -> None:
    (live,) = await servers.astart(env={"TALLY_MAX_SUBSCRIPTIONS_PER_SOCKET": "2"})
    await enroll(live, live.partner_token(), "ops-1")
    async with opened(live, live.member_token("ops-1")) as ws:
        await acked(ws)
        await subscribe(ws, "a")
        await subscribe(ws, "b")
        await subscribe(ws, "c")
        refused = await next_message(ws)
        assert (refused["id"], refused["type"]) == ("c", "error"), refused
        assert refused["payload"][0]["extensions"]["code"] == "LIMIT_REACHED"
        await ws.send(json.dumps({"id": "a", "type": "complete"}))
        await asyncio.sleep(0.2)
        await subscribe(ws, "d")
        await ws.send(json.dumps({"type": "ping"}))
        assert (await next_message(ws))["type"] == "pong"  # open, and "d" was not refused


def _frame(text: str) -> bytes:
    """One masked text frame, as a client sends it (RFC 6455 section 5.2)."""
    data = text.encode()
    mask = os.urandom(4)
    size = len(data)
    if size < 126:
        head = struct.pack("!BB", 0x81, 0x80 | size)
    elif size < 65536:
        head = struct.pack("!BBH", 0x81, 0x80 | 126, size)
    else:
        head = struct.pack("!BBQ", 0x81, 0x80 | 127, size)
    return head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(data))


def stalled_reader(server: LiveServer, token: str, subscriptions: list[str]) -> socket.socket:
    """A client that upgrades, subscribes, then never reads again: a 4 KiB receive buffer
    and no library reading on its behalf."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.settimeout(TIMEOUT)
    sock.connect(("127.0.0.1", server.port))
    handshake = (
        f"GET /graphql HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\nUpgrade: websocket\r\n"
        "Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
        f"Sec-WebSocket-Key: {base64.b64encode(os.urandom(16)).decode()}\r\n"
        "Sec-WebSocket-Protocol: graphql-transport-ws\r\n\r\n"
    )
    sock.sendall(handshake.encode())
    answer = b""
    while b"\r\n\r\n" not in answer:
        answer += sock.recv(1)  # byte by byte: not one byte past the handshake
    assert answer.startswith(b"HTTP/1.1 101"), answer
    init = {"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}}
    sock.sendall(_frame(json.dumps(init)))
    for n, query in enumerate(subscriptions):
        payload = {"query": query, "variables": {}}
        sock.sendall(_frame(json.dumps({"id": str(n), "type": "subscribe", "payload": payload})))
    return sock


def drained_until_closed(sock: socket.socket, within: float) -> bytes:
    """Read everything the server sent until it closed the connection; the last bytes."""
    sock.settimeout(within)
    tail = b""
    while chunk := sock.recv(65536):
        tail = (tail + chunk)[-256:]
    return tail


async def test_a_reader_that_stalls_is_cut_off_and_slows_no_one(servers: ServerPool) -> None:
    bulky = {"TALLY_MAX_ALIASES": "400", "TALLY_MAX_TOKENS": "20000"}
    (live,) = await servers.astart(env={"TALLY_SOCKET_SEND_TIMEOUT": "1", **bulky})
    partner = live.partner_token()
    member = await enroll(live, partner, "slow-1")
    for n in range(30):
        await purchase(live, partner, member["id"], f"{n:03}".ljust(200, "x"), "1")
    # 10 replays of 30 changes, 18 MB: more than any buffer between the two holds.
    sock = stalled_reader(live, live.member_token("slow-1"), [BULKY] * 10)
    try:
        await asyncio.sleep(3)  # the server's sends stall; after a second it gives up
        other = await enroll(live, partner, "fast-1")
        began = time.monotonic()
        for _ in range(5):
            await adjust(live, partner, other["id"], 1)
        assert time.monotonic() - began < TIMEOUT
        assert "closing a slow consumer" in live.log()
        tail = await asyncio.to_thread(drained_until_closed, sock, 30.0)
    finally:
        sock.close()
    # The last frame: close (0x88), 15 bytes, code 4499, "Slow consumer".
    assert tail.endswith(b"\x88\x0f" + struct.pack("!H", 4499) + b"Slow consumer"), tail[-40:]
    # The member's next socket works: the stalled one gave its place back.
    async with opened(live, live.member_token("slow-1")) as ws:
        await acked(ws)


async def test_production_sockets_take_only_the_listed_origins(servers: ServerPool) -> None:
    shop = "https://shop.example"
    (live,) = await servers.astart(env={"TALLY_ENV": "prod", "TALLY_CORS_ORIGINS": shop})
    token = live.member_token("origin-1")
    with pytest.raises(InvalidStatus) as refused:
        async with websockets.connect(
            live.ws_url, subprotocols=[PROTOCOL], origin=Origin("https://evil.example")
        ):
            pass
    assert refused.value.response.status_code == 403
    async with websockets.connect(live.ws_url, subprotocols=[PROTOCOL], origin=Origin(shop)) as ws:
        init = {"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}}
        await ws.send(json.dumps(init))
        await acked(ws)
    async with opened(live, token) as app:  # a native app sends no Origin
        await acked(app)
