"""The gift-card sandbox as a real subprocess, a client of its control endpoints, and a
webhook receiver (http.server in a thread) for its callbacks.

`start_sandbox` runs `python -m app.fulfilment.sandbox giftcard --port 0 ...`, reads the
URL from its first stdout line, and returns a handle whose `stop` always ends it.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import queue
import re
import select
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import IO, Any

import httpx
import pytest

REPO = Path(__file__).resolve().parents[2]
START_TIMEOUT = 15.0
STOP_TIMEOUT = 5.0
EMAIL = "sandbox@tally.test"
ACCESS_TOKEN = "sandbox-token"
ANNOUNCEMENT = re.compile(r"^sandbox giftcard listening on (http://127\.0\.0\.1:\d+)$")
_numbers = itertools.count(1)


def sandbox_command(*options: str) -> list[str]:
    """The command line of a sandbox on a free port."""
    return [sys.executable, "-m", "app.fulfilment.sandbox", "giftcard", "--port", "0", *options]


def read_announcement(stream: IO[bytes], timeout: float) -> str:
    """The first line the sandbox prints, waiting at most `timeout` seconds ('' if none)."""
    ready, _, _ = select.select([stream], [], [], timeout)
    return stream.readline().decode().strip() if ready else ""


@dataclass
class SandboxProcess:
    """One running sandbox: its URL, its process, and its log (stderr)."""

    url: str
    process: subprocess.Popen[bytes]
    log_path: Path
    _log: IO[bytes] | None = field(default=None, repr=False)

    def log(self) -> str:
        try:
            return self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""

    def stop(self) -> int:
        """SIGTERM, then SIGKILL if it lingers; the exit status."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=STOP_TIMEOUT)
        for stream in (self.process.stdout, self._log):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()
        return int(self.process.returncode)


def start_sandbox(log_dir: Path, *options: str) -> SandboxProcess:
    """Start a sandbox with `options` and wait for its announcement."""
    log_path = log_dir / f"giftcard-sandbox-{next(_numbers)}.log"
    log = log_path.open("wb")
    process = subprocess.Popen(
        sandbox_command(*options), cwd=REPO, stdout=subprocess.PIPE, stderr=log
    )
    assert process.stdout is not None
    line = read_announcement(process.stdout, START_TIMEOUT)
    found = ANNOUNCEMENT.match(line)
    sandbox = SandboxProcess(found.group(1) if found else "", process, log_path, log)
    if found is None:
        sandbox.stop()
        raise RuntimeError(f"the sandbox did not announce itself (got {line!r}):\n{sandbox.log()}")
    return sandbox


def sandbox_process_fixture(label: str, seed: int) -> Callable[..., Iterator[SandboxProcess]]:
    """A module's sandbox process: started once for the module's tests, stopped after."""

    @pytest.fixture(scope="module")
    def sandbox_process(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxProcess]:
        process = start_sandbox(tmp_path_factory.mktemp(label), "--seed", str(seed))
        try:
            yield process
        finally:
            process.stop()

    return sandbox_process


class SandboxControl:
    """The sandbox's `/_sandbox/` endpoints and a few raw `/v1` calls, for assertions."""

    def __init__(self, url: str, client: httpx.AsyncClient) -> None:
        self.url = url
        self.client = client

    async def _json(self, method: str, path: str, body: object = None) -> Any:
        response = await self.client.request(method, self.url + path, json=body)
        assert response.is_success, (path, response.status_code, response.text)
        return response.json()

    async def reset(self) -> None:
        await self._json("POST", "/_sandbox/reset")

    async def configure(self, **options: object) -> dict[str, Any]:
        config: dict[str, Any] = await self._json("POST", "/_sandbox/config", options)
        return config

    async def config(self) -> dict[str, Any]:
        config: dict[str, Any] = await self._json("GET", "/_sandbox/config")
        return config

    async def orders(self) -> list[dict[str, Any]]:
        orders: list[dict[str, Any]] = await self._json("GET", "/_sandbox/orders")
        return orders

    async def calls(
        self, method: str | None = None, path: str | None = None
    ) -> list[dict[str, Any]]:
        """The `/v1` call log, optionally only the calls of one method and path."""
        calls: list[dict[str, Any]] = await self._json("GET", "/_sandbox/calls")
        return [c for c in calls if method in (None, c["method"]) and path in (None, c["path"])]

    async def webhook_attempts(self) -> list[dict[str, Any]]:
        attempts: list[dict[str, Any]] = await self._json("GET", "/_sandbox/webhooks")
        return attempts

    async def complete(self, order_id: str) -> dict[str, Any]:
        order: dict[str, Any] = await self._json("POST", f"/_sandbox/complete/{order_id}")
        return order

    async def expire_tokens(self) -> None:
        await self._json("POST", "/_sandbox/tokens/expire")

    async def token(self) -> str:
        """A bearer token for the default credentials, straight from `/v1/Tokens`."""
        response = await self.client.post(
            self.url + "/v1/Tokens", headers={"Email": EMAIL, "AccessToken": ACCESS_TOKEN}
        )
        assert response.status_code == 200, response.text
        value: str = response.json()["Value"]
        return value


@dataclass(frozen=True)
class ReceivedWebhook:
    """One request the receiver got."""

    path: str
    headers: dict[str, str]
    body: bytes


class WebhookReceiver:
    """A tiny HTTP server on 127.0.0.1 (a thread): records every POST and answers 500 to
    the first `fail_first` of them, 204 afterwards."""

    def __init__(self, fail_first: int = 0) -> None:
        self.fail_first = fail_first
        self._received: queue.Queue[ReceivedWebhook] = queue.Queue()
        self._count = 0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                receiver._count += 1
                failing = receiver._count <= receiver.fail_first
                self.send_response(500 if failing else 204)
                self.end_headers()
                if not failing:
                    receiver._received.put(ReceivedWebhook(self.path, dict(self.headers), body))

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/hooks/giftcard"

    @property
    def requests(self) -> int:
        """How many POSTs arrived, answered 500 or not."""
        return self._count

    async def next(self, within: float = 5.0) -> ReceivedWebhook:
        """The next webhook it accepted; fails the test if none arrives `within` s."""
        try:
            return await asyncio.to_thread(self._received.get, True, within)
        except queue.Empty:
            raise AssertionError(f"no webhook arrived within {within}s") from None

    @contextlib.contextmanager
    def running(self) -> Iterator[WebhookReceiver]:
        self._thread.start()
        try:
            yield self
        finally:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join(timeout=STOP_TIMEOUT)


async def eventually(check: Callable[[], Awaitable[bool]], within: float = 5.0) -> None:
    """Wait until `check()` is true; fail the test after `within` seconds."""
    deadline = time.monotonic() + within
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"not true within {within}s")
        await asyncio.sleep(0.05)
