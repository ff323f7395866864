"""Webhooks end to end: a live Tally (uvicorn) delivering to a real HTTP receiver in its
own process on loopback. Every event arrives, signed (checked by the independent
`standardwebhooks` package), after the receiver's failures are retried; a hanging
endpoint never delays a healthy one; 410 disables an endpoint; `kill -9` of Tally while
it delivers, then a restart: every event still arrives at least once."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from standardwebhooks.webhooks import Webhook

from tests.e2e.conftest import ServerPool
from tests.e2e.giftcard_sandbox import eventually
from tests.e2e.helpers import adjust, enroll, execute, key, purchase
from tests.e2e.server import LiveServer
from tests.e2e.webhook_receiver import ReceiverControl, ReceiverProcess, receiver_process_fixture

pytestmark = pytest.mark.parametrize("backend", ["sqlite", "postgres"])

receiver_process = receiver_process_fixture("webhooks")

ENV = {
    "TALLY_WEBHOOKS_ALLOW_PRIVATE": "on",
    "TALLY_WEBHOOK_INTERVAL": "0.1",
    "TALLY_EVENTS_INTERVAL": "0.1",
    "TALLY_WEBHOOK_RETRY_SCALE": "0.005",  # 5 s, 5 min, 30 min... become 25 ms, 1.5 s, 9 s
    "TALLY_WEBHOOK_TIMEOUT": "1",
    "TALLY_WEBHOOK_LEASE": "3",
}
CREATE = """
mutation($url: String!, $types: [EventType!], $key: String!) {
  createWebhookEndpoint(input: {url: $url, eventTypes: $types}, idempotencyKey: $key) {
    endpoint { id } secret userErrors { code message }
  }
}"""
DELIVERIES = """
query { webhookEndpoints(first: 1) { edges { node { url status disabledReason
  deliveries(first: 12) { edges { node { status attemptCount event { id type }
    attempts { statusCode error } } } } } } } }"""


@pytest.fixture
async def receiver(receiver_process: ReceiverProcess) -> AsyncIterator[ReceiverControl]:
    async with httpx.AsyncClient(timeout=10) as client:
        control = ReceiverControl(receiver_process.url, client)
        await control.reset()
        yield control


async def _endpoint(
    server: LiveServer, receiver_process: ReceiverProcess, name: str, types: list[str] | None = None
) -> str:
    answer = await execute(
        server,
        server.partner_token(),
        CREATE,
        {"url": receiver_process.endpoint(name), "types": types, "key": key()},
    )
    made = answer["createWebhookEndpoint"]
    assert made["userErrors"] == [], made
    return str(made["secret"])


def _verified(secret: str, request: dict[str, Any]) -> dict[str, Any]:
    headers = {
        "webhook-id": str(request["id"]),
        "webhook-timestamp": str(request["timestamp"]),
        "webhook-signature": str(request["signature"]),
    }
    message: dict[str, Any] = Webhook(secret).verify(str(request["body"]), headers)
    return message


async def _activity(server: LiveServer, partner: str, members: int) -> list[str]:
    ids = []
    for n in range(members):
        member = await enroll(server, partner, f"hook-{n}")
        ids.append(member["id"])
        await purchase(server, partner, member["id"], f"hook-o-{n}", "25")
        await adjust(server, partner, member["id"], 5)
    return ids


async def test_every_event_arrives_signed_after_failures_are_retried(
    servers: ServerPool, receiver: ReceiverControl, receiver_process: ReceiverProcess
) -> None:
    [tally] = await servers.astart(env=ENV)
    secret = await _endpoint(tally, receiver_process, "crm")
    await receiver.mode("crm", fail_first=2)
    await _activity(tally, tally.partner_token(), 3)  # 3 x (enrolled, earned, adjusted)

    async def all_in() -> bool:
        got = await receiver.received("crm")
        return len({r["id"] for r in got if r["status"] == 200}) >= 9

    await eventually(all_in, within=30)
    requests = await receiver.received("crm")
    by_id: dict[str, list[int]] = {}
    for r in requests:
        by_id.setdefault(str(r["id"]), []).append(int(str(r["status"])))
    assert all(statuses[:3] == [500, 500, 200] for statuses in by_id.values()), by_id
    messages = [_verified(secret, r) for r in requests if r["status"] == 200]
    types = sorted(m["type"] for m in messages)
    assert types == ["member.enrolled"] * 3 + ["points.adjusted"] * 3 + ["points.earned"] * 3
    for member in {m["data"]["memberId"] for m in messages}:
        versions = sorted(
            m["version"] for m in messages if m["data"]["memberId"] == member and m["version"]
        )
        assert versions == [1, 2]  # earned, adjusted: none missing once sorted
    log = await execute(tally, tally.partner_token(), DELIVERIES)
    [node] = [e["node"] for e in log["webhookEndpoints"]["edges"]]
    deliveries = [e["node"] for e in node["deliveries"]["edges"]]
    assert len(deliveries) == 9
    assert {d["status"] for d in deliveries} == {"SUCCEEDED"}
    assert all([a["statusCode"] for a in d["attempts"]][:3] == [500, 500, 200] for d in deliveries)


async def test_a_hanging_endpoint_never_delays_a_healthy_one(
    servers: ServerPool, receiver: ReceiverControl, receiver_process: ReceiverProcess
) -> None:
    [tally] = await servers.astart(env=ENV)
    await _endpoint(tally, receiver_process, "stuck")
    await _endpoint(tally, receiver_process, "fine")
    await receiver.mode("stuck", hang=True)
    partner = tally.partner_token()
    started = time.monotonic()
    member = await enroll(tally, partner, "steady")
    latencies = []
    for n in range(8):
        sent = time.monotonic()
        await adjust(tally, partner, member["id"], 1)
        want = n + 2  # the enrolment, then each adjustment

        async def arrived(want: int = want) -> bool:
            got = await receiver.received("fine")
            return len({r["id"] for r in got}) >= want

        await eventually(arrived, within=10)
        latencies.append(time.monotonic() - sent)
    assert max(latencies) < 2.5, latencies  # the stuck endpoint's 1 s timeouts cost nothing here
    assert time.monotonic() - started < 30
    stuck = await receiver.received("stuck")
    assert len(stuck) <= 8  # at most its in-flight bound at once, timing out, retried


async def test_410_disables_the_endpoint(
    servers: ServerPool, receiver: ReceiverControl, receiver_process: ReceiverProcess
) -> None:
    [tally] = await servers.astart(env=ENV)
    await _endpoint(tally, receiver_process, "gone")
    await receiver.mode("gone", status=410)
    await enroll(tally, tally.partner_token(), "lonely")

    async def disabled() -> bool:
        log = await execute(tally, tally.partner_token(), DELIVERIES)
        [node] = [e["node"] for e in log["webhookEndpoints"]["edges"]]
        return bool(node["status"] == "DISABLED")

    await eventually(disabled, within=15)
    log = await execute(tally, tally.partner_token(), DELIVERIES)
    [node] = [e["node"] for e in log["webhookEndpoints"]["edges"]]
    assert node["disabledReason"] == "the endpoint answered 410 Gone"
    assert len(await receiver.received("gone")) == 1
    await enroll(tally, tally.partner_token(), "after-410")
    await asyncio.sleep(1.0)
    assert len(await receiver.received("gone")) == 1  # nothing more is sent


async def test_kill_9_while_delivering_loses_no_event(
    servers: ServerPool, receiver: ReceiverControl, receiver_process: ReceiverProcess
) -> None:
    [tally] = await servers.astart(env=ENV)
    secret = await _endpoint(tally, receiver_process, "warehouse")
    await receiver.mode("warehouse", delay_ms=400)
    await _activity(tally, tally.partner_token(), 4)  # 12 events

    async def some() -> bool:
        return len(await receiver.received("warehouse")) >= 2

    await eventually(some, within=15)
    tally.process.kill()  # in the middle of its deliveries
    tally.process.wait(timeout=10)
    await receiver.mode("warehouse")
    [again] = await servers.astart(env=ENV)

    async def every() -> bool:
        got = await receiver.received("warehouse")
        return len({r["id"] for r in got if r["status"] == 200}) >= 12

    await eventually(every, within=30)
    got = [r for r in await receiver.received("warehouse") if r["status"] == 200]
    messages = {m["id"]: m for m in (_verified(secret, r) for r in got)}
    assert len(messages) == 12  # each at least once; duplicates share their webhook-id
    assert all(json.loads(str(r["body"]))["id"] == r["id"] for r in got)
    assert again.base_url
