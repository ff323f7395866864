"""A webhook receiver as its own process, for end-to-end tests of webhook delivery, and a
launcher and a control client for it.

Run as `python -m tests.e2e.webhook_receiver --port N [--log-dir D]` (stdlib only): an
http.server on 127.0.0.1 that records every `POST /hooks/<name>` and answers according
to the mode of that name. Each name is an independent endpoint.

    POST /hooks/<name>      recorded; answered by the name's mode (default: 200 at once)
    POST /control/<name>    JSON, replaces the name's mode (and its fail_first counts):
                              {"fail_first": K}   500 to the first K requests of EACH
                                                  distinct `webhook-id`, then 200
                              {"status": S}       always S (e.g. 410, 503)
                              {"hang": true}      never answer; the request is held until
                                                  the client gives up (status null)
                              {"delay_ms": D}     answer after D ms
                              {"retry_after": "N"}  Retry-After: N on non-2xx answers
                            settings combine, e.g. {"status": 503, "retry_after": "2"};
                            unknown settings are a 400
    GET  /control/<name>    the name's current mode
    GET  /received/<name>   JSON list, in arrival order: {"id", "timestamp", "signature"
                            (the webhook-* headers or null), "headers" (lower-cased),
                            "body" (raw, as text), "status" (null while or if hung),
                            "at" (unix time of arrival)}
    POST /control/reset     forget every record and every mode ("reset" is no hook name)
    GET  /healthz           200

It stops on SIGTERM/SIGINT, when its parent process goes away (it polls os.getppid(), as
the sandbox does) and after `--max-lifetime` seconds (15 minutes by default), so a test
process killed without its teardown leaves nothing behind. With `--log-dir D` every
request is also appended, once answered (or given up), as a JSON line to
`D/webhook-receiver-<port>.jsonl`; its text log goes to stderr.

`start_receiver` spawns one on a free port and waits for /healthz; `ReceiverControl`
drives it from a test; `receiver_process_fixture` makes a module-scoped fixture of it.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import os
import select
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:  # the receiver process itself imports the standard library only
    import httpx
    import pytest

REPO = Path(__file__).resolve().parents[2]
HOST = "127.0.0.1"
START_TIMEOUT = 15.0
STOP_TIMEOUT = 5.0
MAX_LIFETIME = 15 * 60.0
PARENT_POLL = 0.2
HANG_POLL = 0.05
_numbers = itertools.count(1)


# --- the receiver process -------------------------------------------------------------


@dataclass(frozen=True)
class Mode:
    """How one endpoint answers."""

    fail_first: int = 0
    status: int = 200
    hang: bool = False
    delay_ms: float = 0.0
    retry_after: str | None = None

    def to_json(self) -> dict[str, object]:
        return {
            "fail_first": self.fail_first,
            "status": self.status,
            "hang": self.hang,
            "delay_ms": self.delay_ms,
            "retry_after": self.retry_after,
        }


def parse_mode(settings: object) -> Mode:
    """A mode from the JSON of `POST /control/<name>`; ValueError on a bad setting."""
    if not isinstance(settings, dict):
        raise ValueError("a mode is a JSON object")
    unknown = set(settings) - {"fail_first", "status", "hang", "delay_ms", "retry_after"}
    if unknown:
        raise ValueError(f"unknown settings: {sorted(unknown)}")
    fail_first = settings.get("fail_first", 0)
    status = settings.get("status", 200)
    hang = settings.get("hang", False)
    delay_ms = settings.get("delay_ms", 0)
    retry_after = settings.get("retry_after")
    if not _is_int(fail_first) or fail_first < 0:
        raise ValueError("fail_first: an integer >= 0")
    if not _is_int(status) or not 200 <= status <= 599:
        raise ValueError("status: an integer from 200 to 599")
    if not isinstance(hang, bool):
        raise ValueError("hang: true or false")
    if not isinstance(delay_ms, int | float) or isinstance(delay_ms, bool) or delay_ms < 0:
        raise ValueError("delay_ms: a number >= 0")
    if _is_int(retry_after):
        retry_after = str(retry_after)
    if retry_after is not None and (not isinstance(retry_after, str) or not retry_after):
        raise ValueError("retry_after: a non-empty string (or an integer)")
    return Mode(fail_first, status, hang, float(delay_ms), retry_after)


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


@dataclass
class Record:
    """One request to `/hooks/<name>`; `status` stays None until (unless) it is answered."""

    name: str
    headers: dict[str, str]
    body: str
    at: float
    status: int | None = None

    def to_json(self) -> dict[str, object]:
        return {
            "id": self.headers.get("webhook-id"),
            "timestamp": self.headers.get("webhook-timestamp"),
            "signature": self.headers.get("webhook-signature"),
            "headers": dict(self.headers),
            "body": self.body,
            "status": self.status,
            "at": self.at,
        }


class ReceiverState:
    """Every endpoint's mode, records and fail_first counts, behind one lock."""

    def __init__(self, journal: Path | None = None) -> None:
        self.stopping = threading.Event()
        self._lock = threading.Lock()
        self._modes: dict[str, Mode] = {}
        self._records: dict[str, list[Record]] = {}
        self._attempts: dict[tuple[str, str], int] = {}
        self.journal = journal

    def arrive(self, name: str, headers: dict[str, str], body: str) -> tuple[Record, Mode, int]:
        """Record a request; the record, the mode to answer it by and the status to give."""
        with self._lock:
            mode = self._modes.get(name, Mode())
            record = Record(name, headers, body, time.time())
            self._records.setdefault(name, []).append(record)
            key = (name, headers.get("webhook-id", ""))
            self._attempts[key] = attempt = self._attempts.get(key, 0) + 1
        return record, mode, 500 if attempt <= mode.fail_first else mode.status

    def answered(self, record: Record, status: int | None) -> None:
        with self._lock:
            record.status = status
            line = json.dumps(record.to_json() | {"name": record.name})
            if self.journal is not None:
                with contextlib.suppress(OSError), self.journal.open("a") as journal:
                    journal.write(line + "\n")

    def set_mode(self, name: str, mode: Mode) -> None:
        with self._lock:
            self._modes[name] = mode
            for key in [k for k in self._attempts if k[0] == name]:
                del self._attempts[key]

    def mode(self, name: str) -> Mode:
        with self._lock:
            return self._modes.get(name, Mode())

    def received(self, name: str) -> list[dict[str, object]]:
        with self._lock:
            return [record.to_json() for record in self._records.get(name, [])]

    def reset(self) -> None:
        with self._lock:
            self._modes.clear()
            self._records.clear()
            self._attempts.clear()


def log(message: str) -> None:
    print(f"{time.strftime('%H:%M:%S')} webhook-receiver: {message}", file=sys.stderr, flush=True)


def make_handler(state: ReceiverState) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as real webhook senders use it

        def do_GET(self) -> None:
            route, name = self._route()
            if route == "healthz" and not name:
                self._reply(200, {"ok": True})
            elif route == "received" and name:
                self._reply(200, state.received(name))
            elif route == "control" and name and name != "reset":
                self._reply(200, state.mode(name).to_json())
            else:
                self._reply(404, {"error": f"no such resource: {self.path}"})

        def do_POST(self) -> None:
            route, name = self._route()
            body = self._body()
            if route == "hooks" and name:
                self._hook(name, body)
            elif route == "control" and name == "reset":
                state.reset()
                self._reply(200, {"reset": True})
            elif route == "control" and name:
                try:
                    mode = parse_mode(json.loads(body or b"null"))
                except ValueError as error:  # json.JSONDecodeError is one
                    self._reply(400, {"error": str(error)})
                    return
                state.set_mode(name, mode)
                log(f"mode of {name!r}: {mode}")
                self._reply(200, mode.to_json())
            else:
                self._reply(404, {"error": f"no such resource: {self.path}"})

        def _hook(self, name: str, body: bytes) -> None:
            headers: dict[str, str] = {}
            for key, value in self.headers.items():
                key = key.lower()
                headers[key] = f"{headers[key]}, {value}" if key in headers else value
            record, mode, status = state.arrive(name, headers, body.decode("utf-8", "replace"))
            webhook_id = headers.get("webhook-id")
            if mode.hang:
                log(f"POST /hooks/{name} id={webhook_id}: hanging")
                self._hang()
                state.answered(record, None)
                log(f"POST /hooks/{name} id={webhook_id}: the client gave up")
                return
            if mode.delay_ms and state.stopping.wait(mode.delay_ms / 1000):
                self.close_connection = True
                state.answered(record, None)
                return
            extra = {}
            if mode.retry_after is not None and not 200 <= status < 300:
                extra["Retry-After"] = mode.retry_after
            state.answered(record, status)
            log(f"POST /hooks/{name} id={webhook_id}: {status}")
            self._send(status, b"", "text/plain", extra)

        def _hang(self) -> None:
            """Hold the request, answering nothing, until the client closes the connection
            (or the receiver stops); only this thread waits."""
            self.close_connection = True
            while not state.stopping.is_set():
                readable, _, _ = select.select([self.connection], [], [], HANG_POLL)
                if not readable:
                    continue
                try:
                    if not self.connection.recv(1, socket.MSG_PEEK):
                        return  # closed by the client
                except OSError:
                    return
                time.sleep(HANG_POLL)  # it sent more (a pipelined request): keep holding

        def _route(self) -> tuple[str, str]:
            path = urllib.parse.urlsplit(self.path).path
            route, _, name = path.lstrip("/").partition("/")
            return route, urllib.parse.unquote(name)

        def _body(self) -> bytes:
            if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
                chunks: list[bytes] = []
                while size := int(self.rfile.readline().split(b";")[0].strip() or b"0", 16):
                    chunks.append(self.rfile.read(size))
                    self.rfile.readline()
                while self.rfile.readline().strip():  # trailers
                    pass
                return b"".join(chunks)
            return self.rfile.read(int(self.headers.get("Content-Length") or 0))

        def _reply(self, status: int, payload: object) -> None:
            self._send(status, json.dumps(payload).encode(), "application/json")

        def _send(
            self,
            status: int,
            body: bytes,
            content_type: str,
            headers: dict[str, str] | None = None,
        ) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


def serve(port: int, log_dir: Path | None, max_lifetime: float) -> int:
    """Serve on 127.0.0.1:`port` until SIGTERM/SIGINT, the parent's death or
    `max_lifetime` seconds; the exit status."""
    parent = os.getppid()
    state = ReceiverState()
    server = ThreadingHTTPServer((HOST, port), make_handler(state))
    server.daemon_threads = True  # a hung request never holds the process
    actual = int(server.server_address[1])
    if log_dir is not None:
        log_dir.mkdir(parents=True, exist_ok=True)
        state.journal = log_dir / f"webhook-receiver-{actual}.jsonl"
    reason: list[str] = []

    def stop(why: str) -> None:
        if not reason:
            reason.append(why)
        state.stopping.set()

    def on_signal(number: int, _frame: object) -> None:
        stop(signal.Signals(number).name)

    def watch_parent() -> None:
        while os.getppid() == parent and not state.stopping.is_set():
            time.sleep(PARENT_POLL)
        stop("the parent process is gone")

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    threading.Thread(target=watch_parent, name="parent-watch", daemon=True).start()
    serving = threading.Thread(target=server.serve_forever, name="serve", daemon=True)
    serving.start()
    log(f"listening on http://{HOST}:{actual} (parent {parent}, max lifetime {max_lifetime}s)")
    deadline = time.monotonic() + max_lifetime
    while not state.stopping.wait(0.5):
        if time.monotonic() >= deadline:
            stop(f"the max lifetime ({max_lifetime}s) is over")
    log(f"stopping: {reason[0]}")
    server.shutdown()
    server.server_close()
    serving.join(timeout=STOP_TIMEOUT)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.e2e.webhook_receiver",
        description="A webhook receiver on 127.0.0.1 for end-to-end tests.",
    )
    parser.add_argument("--port", type=int, required=True, help="0 picks a free port")
    parser.add_argument("--log-dir", type=Path, default=None, help="journal every request here")
    parser.add_argument("--max-lifetime", type=float, default=MAX_LIFETIME, help="seconds")
    args = parser.parse_args(argv)
    return serve(args.port, args.log_dir, args.max_lifetime)


# --- the test side --------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def receiver_command(port: int, *options: str) -> list[str]:
    """The command line of a receiver on `port`."""
    return [sys.executable, "-m", "tests.e2e.webhook_receiver", "--port", str(port), *options]


@dataclass
class ReceiverProcess:
    """One running receiver: its URL, its process, and its log (stdout and stderr)."""

    url: str
    process: subprocess.Popen[bytes]
    log_path: Path
    _log: IO[bytes] | None = field(default=None, repr=False)

    @property
    def journal_path(self) -> Path:
        """Every request it answered (or gave up on), one JSON line each."""
        return self.log_path.parent / f"webhook-receiver-{self.url.rsplit(':', 1)[1]}.jsonl"

    def endpoint(self, name: str) -> str:
        return f"{self.url}/hooks/{name}"

    def log(self) -> str:
        try:
            return self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""

    def stop(self) -> None:
        """SIGTERM, then SIGKILL if it lingers."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=STOP_TIMEOUT)
        if self._log is not None:
            with contextlib.suppress(OSError):
                self._log.close()
            self._log = None


def start_receiver(log_dir: Path, *options: str) -> ReceiverProcess:
    """Start a receiver on a free port (`options`: e.g. "--max-lifetime", "60") and wait
    until /healthz answers; raise with its log if it does not. A port taken between
    choosing and binding it is retried on another."""
    for attempt in itertools.count(1):
        port = free_port()
        log_path = log_dir / f"webhook-receiver-{next(_numbers)}.log"
        log_file = log_path.open("wb")
        process = subprocess.Popen(
            receiver_command(port, "--log-dir", str(log_dir), *options),
            cwd=REPO,
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
        receiver = ReceiverProcess(f"http://{HOST}:{port}", process, log_path, log_file)
        try:
            if _wait_healthy(receiver):
                return receiver
        except BaseException:
            receiver.stop()
            raise
        receiver.stop()
        if "Address already in use" not in receiver.log() or attempt >= 3:
            raise RuntimeError(f"the webhook receiver exited at start-up:\n{receiver.log()}")
    raise AssertionError("unreachable")


def _wait_healthy(receiver: ReceiverProcess) -> bool:
    """True once /healthz answers, False if the process exited; raises on a timeout."""
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if receiver.process.poll() is not None:
            return False
        with (
            contextlib.suppress(OSError),
            urllib.request.urlopen(receiver.url + "/healthz", timeout=1.0) as response,
        ):
            if response.status == 200:
                return True
        time.sleep(0.05)
    raise RuntimeError(
        f"the webhook receiver did not answer /healthz in {START_TIMEOUT}s:\n{receiver.log()}"
    )


def receiver_process_fixture(label: str) -> Callable[..., Iterator[ReceiverProcess]]:
    """A module's receiver process: started once for the module's tests, stopped after.
    Assign it as `receiver_process = receiver_process_fixture("label")`."""
    import pytest

    @pytest.fixture(scope="module")
    def receiver_process(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ReceiverProcess]:
        process = start_receiver(tmp_path_factory.mktemp(label))
        try:
            yield process
        finally:
            process.stop()

    return receiver_process


class ReceiverControl:
    """The receiver's control endpoints, for a test to set modes and read what arrived."""

    def __init__(self, url: str, client: httpx.AsyncClient) -> None:
        self.url = url
        self.client = client

    async def _json(self, method: str, path: str, body: object = None) -> Any:
        response = await self.client.request(method, self.url + path, json=body)
        assert response.is_success, (path, response.status_code, response.text)
        return response.json()

    async def mode(self, name: str, **settings: object) -> None:
        """Replace the mode of endpoint `name` (see the module's docstring for settings);
        with no settings, back to 200 at once. Its fail_first counts start again."""
        await self._json("POST", f"/control/{urllib.parse.quote(name, safe='')}", settings)

    async def received(self, name: str) -> list[dict[str, object]]:
        received: list[dict[str, object]] = await self._json(
            "GET", f"/received/{urllib.parse.quote(name, safe='')}"
        )
        return received

    async def wait_received(
        self, name: str, count: int, within: float = 5.0
    ) -> list[dict[str, object]]:
        """The records of `name` once there are at least `count`; fails the test if there
        are not `within` seconds."""
        deadline = time.monotonic() + within
        while len(received := await self.received(name)) < count:
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"{len(received)} of {count} requests to {name!r} within {within}s"
                )
            await asyncio.sleep(0.05)
        return received

    async def reset(self) -> None:
        await self._json("POST", "/control/reset")


if __name__ == "__main__":
    sys.exit(main())
