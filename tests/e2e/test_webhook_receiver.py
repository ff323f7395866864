"""The webhook receiver (tests/e2e/webhook_receiver.py), as its own process over real HTTP:
recording, each mode of an endpoint, endpoints independent of each other, reset, and its
exit on SIGTERM, with its parent and after its max lifetime.

One receiver serves the module (reset before each test); tests of process life start
their own.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.webhook_receiver import (
    REPO,
    ReceiverControl,
    ReceiverProcess,
    free_port,
    receiver_command,
    receiver_process_fixture,
    start_receiver,
)

receiver_process = receiver_process_fixture("webhook-receiver")


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=10.0) as client:
        yield client


@pytest.fixture
async def receiver(receiver_process: ReceiverProcess, client: httpx.AsyncClient) -> ReceiverControl:
    control = ReceiverControl(receiver_process.url, client)
    await control.reset()
    return control


def webhook_headers(webhook_id: str, timestamp: str = "1700000000") -> dict[str, str]:
    return {
        "Webhook-Id": webhook_id,
        "Webhook-Timestamp": timestamp,
        "Webhook-Signature": f"v1,sig-of-{webhook_id}",
        "Content-Type": "application/json",
    }


async def deliver(
    client: httpx.AsyncClient, url: str, webhook_id: str, body: str = '{"type": "test"}'
) -> httpx.Response:
    return await client.post(url, content=body.encode(), headers=webhook_headers(webhook_id))


async def test_healthz(receiver_process: ReceiverProcess, client: httpx.AsyncClient) -> None:
    assert (await client.get(receiver_process.url + "/healthz")).status_code == 200


async def test_by_default_it_answers_200_and_records_the_request(
    receiver_process: ReceiverProcess, receiver: ReceiverControl, client: httpx.AsyncClient
) -> None:
    before = time.time()
    body = '{"type": "points.earned",  "data": {"points": 5}}'  # raw, spacing kept
    response = await deliver(client, receiver_process.endpoint("orders"), "msg_1", body)
    assert response.status_code == 200
    assert "retry-after" not in response.headers

    (record,) = await receiver.received("orders")
    assert record["id"] == "msg_1"
    assert record["timestamp"] == "1700000000"
    assert record["signature"] == "v1,sig-of-msg_1"
    assert record["body"] == body
    assert record["status"] == 200
    assert isinstance(record["at"], float)
    assert before <= record["at"] <= time.time()
    headers = record["headers"]
    assert isinstance(headers, dict)
    assert headers["webhook-id"] == "msg_1"
    assert headers["content-type"] == "application/json"
    assert all(key == key.lower() for key in headers)
    assert await receiver.received("other") == []


async def test_records_come_in_arrival_order_per_name(
    receiver_process: ReceiverProcess, receiver: ReceiverControl, client: httpx.AsyncClient
) -> None:
    for n in range(3):
        await deliver(client, receiver_process.endpoint("a"), f"msg_a{n}")
        await deliver(client, receiver_process.endpoint("b"), f"msg_b{n}")
    assert [r["id"] for r in await receiver.received("a")] == ["msg_a0", "msg_a1", "msg_a2"]
    assert [r["id"] for r in await receiver.received("b")] == ["msg_b0", "msg_b1", "msg_b2"]


async def test_fail_first_counts_each_webhook_id_apart(
    receiver_process: ReceiverProcess, receiver: ReceiverControl, client: httpx.AsyncClient
) -> None:
    await receiver.mode("flaky", fail_first=2)
    url = receiver_process.endpoint("flaky")
    statuses: dict[str, list[int]] = {"msg_x": [], "msg_y": []}
    for _ in range(3):
        for webhook_id, answers in statuses.items():
            answers.append((await deliver(client, url, webhook_id)).status_code)
    assert statuses == {"msg_x": [500, 500, 200], "msg_y": [500, 500, 200]}
    assert (await deliver(client, url, "msg_x")).status_code == 200

    records = await receiver.received("flaky")
    assert [(r["id"], r["status"]) for r in records] == [
        ("msg_x", 500),
        ("msg_y", 500),
        ("msg_x", 500),
        ("msg_y", 500),
        ("msg_x", 200),
        ("msg_y", 200),
        ("msg_x", 200),
    ]
    # another endpoint is not flaky, whatever the ids
    assert (await deliver(client, receiver_process.endpoint("steady"), "msg_x")).status_code == 200


async def test_a_new_mode_replaces_the_old_and_restarts_the_counts(
    receiver_process: ReceiverProcess, receiver: ReceiverControl, client: httpx.AsyncClient
) -> None:
    url = receiver_process.endpoint("flaky")
    await receiver.mode("flaky", fail_first=1)
    assert [(await deliver(client, url, "m")).status_code for _ in range(2)] == [500, 200]
    await receiver.mode("flaky", fail_first=1)
    assert [(await deliver(client, url, "m")).status_code for _ in range(2)] == [500, 200]
    await receiver.mode("flaky", status=503)
    assert [(await deliver(client, url, "m")).status_code for _ in range(2)] == [503, 503]
    await receiver.mode("flaky")
    assert (await deliver(client, url, "m")).status_code == 200


async def test_a_fixed_status(
    receiver_process: ReceiverProcess, receiver: ReceiverControl, client: httpx.AsyncClient
) -> None:
    await receiver.mode("gone", status=410)
    url = receiver_process.endpoint("gone")
    assert [(await deliver(client, url, f"m{n}")).status_code for n in range(3)] == [410] * 3
    assert [r["status"] for r in await receiver.received("gone")] == [410] * 3


async def test_a_hung_endpoint_blocks_no_other(
    receiver_process: ReceiverProcess, receiver: ReceiverControl, client: httpx.AsyncClient
) -> None:
    await receiver.mode("stuck", hang=True)

    async def hung() -> None:
        async with httpx.AsyncClient(timeout=1.0) as impatient:
            await deliver(impatient, receiver_process.endpoint("stuck"), "msg_hung")

    waiting = asyncio.create_task(hung())
    (record,) = await receiver.wait_received("stuck", 1)
    assert record["status"] is None

    started = time.monotonic()
    response = await deliver(client, receiver_process.endpoint("quick"), "msg_quick")
    elapsed = time.monotonic() - started
    assert response.status_code == 200
    assert elapsed < 0.8, elapsed  # well inside the hung one's 1 s timeout
    assert not waiting.done(), "the hung request was answered"

    with pytest.raises(httpx.ReadTimeout):
        await waiting
    (record,) = await receiver.received("stuck")
    assert record["id"] == "msg_hung"
    assert record["status"] is None


async def test_a_delay(
    receiver_process: ReceiverProcess, receiver: ReceiverControl, client: httpx.AsyncClient
) -> None:
    await receiver.mode("slow", delay_ms=300)
    started = time.monotonic()
    response = await deliver(client, receiver_process.endpoint("slow"), "msg_slow")
    assert response.status_code == 200
    assert time.monotonic() - started >= 0.3


async def test_retry_after_on_failures_only(
    receiver_process: ReceiverProcess, receiver: ReceiverControl, client: httpx.AsyncClient
) -> None:
    await receiver.mode("busy", status=503, retry_after="7")
    response = await deliver(client, receiver_process.endpoint("busy"), "m")
    assert (response.status_code, response.headers.get("retry-after")) == (503, "7")

    await receiver.mode("flaky", fail_first=1, retry_after="2")
    url = receiver_process.endpoint("flaky")
    first, second = [await deliver(client, url, "m") for _ in range(2)]
    assert (first.status_code, first.headers.get("retry-after")) == (500, "2")
    assert (second.status_code, second.headers.get("retry-after")) == (200, None)


async def test_reset_forgets_records_and_modes(
    receiver_process: ReceiverProcess, receiver: ReceiverControl, client: httpx.AsyncClient
) -> None:
    await receiver.mode("gone", status=410)
    await deliver(client, receiver_process.endpoint("gone"), "m")
    await deliver(client, receiver_process.endpoint("fine"), "m")
    await receiver.reset()
    assert await receiver.received("gone") == []
    assert await receiver.received("fine") == []
    assert (await deliver(client, receiver_process.endpoint("gone"), "m")).status_code == 200


@pytest.mark.parametrize(
    "settings",
    [{"bogus": 1}, {"fail_first": -1}, {"status": "410"}, {"hang": 1}, {"delay_ms": -5}],
)
async def test_a_bad_mode_is_refused(
    receiver_process: ReceiverProcess,
    receiver: ReceiverControl,
    client: httpx.AsyncClient,
    settings: dict[str, object],
) -> None:
    response = await client.post(receiver_process.url + "/control/x", json=settings)
    assert response.status_code == 400, response.text


async def test_every_request_is_journalled(
    receiver_process: ReceiverProcess, receiver: ReceiverControl, client: httpx.AsyncClient
) -> None:
    await deliver(client, receiver_process.endpoint("journalled"), "msg_journal")
    lines = receiver_process.journal_path.read_text().splitlines()
    entries = [json.loads(line) for line in lines]
    assert {"name": "journalled", "id": "msg_journal", "status": 200}.items() <= entries[-1].items()


# --- the process's life ---------------------------------------------------------------


def _alive(pid: int) -> bool:
    """Running, and not a zombie nobody reaped (an orphan's parent may not reap)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False
    except OSError:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        return True


def _healthy(url: str) -> bool:
    try:
        return httpx.get(url + "/healthz", timeout=1.0).status_code == 200
    except httpx.HTTPError:
        return False


def test_the_receiver_stops_on_sigterm(tmp_path: Path) -> None:
    process = start_receiver(tmp_path)
    try:
        process.process.send_signal(signal.SIGTERM)
        status = process.process.wait(timeout=5)
    finally:
        process.stop()
    assert status == 0, process.log()
    assert "stopping: SIGTERM" in process.log()
    assert "Traceback" not in process.log()


def test_the_receiver_stops_after_its_max_lifetime(tmp_path: Path) -> None:
    process = start_receiver(tmp_path, "--max-lifetime", "1")
    try:
        status = process.process.wait(timeout=5)
    finally:
        process.stop()
    assert status == 0, process.log()
    assert "max lifetime" in process.log()


def test_the_receiver_exits_when_its_parent_dies() -> None:
    port = free_port()
    launcher = (
        "import subprocess, sys, time\n"
        f"child = subprocess.Popen({receiver_command(port)!r})\n"
        "print(child.pid, flush=True)\n"
        "time.sleep(60)\n"
    )
    parent = subprocess.Popen([sys.executable, "-c", launcher], cwd=REPO, stdout=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    child = 0
    try:
        assert parent.stdout is not None
        child = int(parent.stdout.readline())
        deadline = time.monotonic() + 15.0
        while not _healthy(url):
            assert time.monotonic() < deadline, "the receiver did not start"
            time.sleep(0.05)

        parent.kill()
        parent.wait(timeout=5)

        deadline = time.monotonic() + 5.0
        while _alive(child) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not _alive(child), "the receiver outlived its parent"
        assert not _healthy(url)
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.wait(timeout=5)
        if child and _alive(child):
            os.kill(child, signal.SIGKILL)
        if parent.stdout is not None:
            parent.stdout.close()
