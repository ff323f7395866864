"""Outgoing webhooks: Standard Webhooks signatures (checked by the reference library), URL
vetting, and one attempt against a real local HTTP server."""

from __future__ import annotations

import asyncio
import base64
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from app.events.webhook_client import (
    WebhookSender,
    check_url,
    new_secret,
    parse_retry_after,
    sign,
)

BODY = b'{"type":"points.earned","timestamp":"2025-01-01T00:00:00Z","data":{"member":1}}'


def _headers(secrets: list[str], msg_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(secrets, msg_id, timestamp, body),
    }


# --- secrets and signatures -------------------------------------------------------------


def test_a_new_secret_is_whsec_and_32_random_bytes() -> None:
    secret = new_secret()
    assert secret.startswith("whsec_")
    assert len(base64.b64decode(secret.removeprefix("whsec_"), validate=True)) == 32
    assert new_secret() != secret


def test_the_signature_verifies_with_the_reference_library() -> None:
    secret = new_secret()
    now = int(time.time())
    assert Webhook(secret).verify(BODY, _headers([secret], "msg_1", now, BODY)) == {
        "type": "points.earned",
        "timestamp": "2025-01-01T00:00:00Z",
        "data": {"member": 1},
    }


def test_while_a_secret_rotates_both_sign_and_either_verifies() -> None:
    new, old = new_secret(), new_secret()
    now = int(time.time())
    headers = _headers([new, old], "msg_2", now, BODY)
    assert len(headers["webhook-signature"].split(" ")) == 2
    Webhook(new).verify(BODY, headers)
    Webhook(old).verify(BODY, headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(new_secret()).verify(BODY, headers)


def test_a_tampered_body_id_or_timestamp_fails_verification() -> None:
    secret = new_secret()
    now = int(time.time())
    headers = _headers([secret], "msg_3", now, BODY)
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(BODY.replace(b"1}", b"2}"), headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(BODY, {**headers, "webhook-id": "msg_4"})
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(BODY, {**headers, "webhook-timestamp": str(now + 1)})


def test_signing_without_a_secret_or_with_a_bad_one_is_an_error() -> None:
    with pytest.raises(ValueError, match="at least one secret"):
        sign([], "msg", 1, BODY)
    with pytest.raises(ValueError, match="base64"):
        sign(["whsec_not base64!"], "msg", 1, BODY)


# --- URL vetting --------------------------------------------------------------------------

ACCEPTED = [
    "https://example.com/hooks/tally",
    "https://example.com:8443/hooks?shop=1",
    "https://hooks.example.co.uk",
    "https://93.184.215.14/hook",
    "https://[2606:2800:21f:cb07:6820:80da:af6b:8b2c]/hook",
]

INTERNAL = [
    "https://127.0.0.1/hook",
    "https://127.1/hook",
    "https://2130706433/hook",
    "https://10.1.2.3/hook",
    "https://192.168.1.1/hook",
    "https://172.16.0.1/hook",
    "https://169.254.169.254/latest/meta-data",
    "https://[::1]/hook",
    "https://[fc00::1]/hook",
    "https://[fe80::1]/hook",
    "https://[::ffff:127.0.0.1]/hook",
    "https://[::ffff:10.0.0.1]/hook",
    "https://[64:ff9b::a00:1]/hook",
    "https://localhost/hook",
    "https://LOCALHOST./hook",
    "https://api.localhost/hook",
    "https://0.0.0.0/hook",
    "https://[::]/hook",
    "https://100.64.0.1/hook",
    "https://224.0.0.1/hook",
    "https://240.0.0.1/hook",
]

MALFORMED = [
    "https://user:pass@example.com/hook",
    "https://user@example.com/hook",
    "https:///hook",
    "https://",
    "/hook",
    "example.com/hook",
    "ftp://example.com/hook",
    "file:///etc/passwd",
    "https://example.com/hook#frag",
    "https://example.com/" + "a" * 2000,
    "https://example.com:99999/hook",
    "https://exa mple.com/hook",
]


@pytest.mark.parametrize("url", ACCEPTED)
def test_a_public_https_url_is_accepted(url: str) -> None:
    assert check_url(url, allow_private=False) is None
    assert check_url(url, allow_private=True) is None


def test_plain_http_is_refused_unless_private_addresses_are_allowed() -> None:
    assert check_url("http://example.com/hook", allow_private=False) == (
        "the URL must start with https://"
    )
    assert check_url("http://example.com/hook", allow_private=True) is None


@pytest.mark.parametrize("url", INTERNAL)
def test_an_internal_address_is_refused_unless_allowed(url: str) -> None:
    reason = check_url(url, allow_private=False)
    assert reason is not None
    assert " is " in reason
    assert "address" in reason
    assert check_url(url, allow_private=True) is None


def test_the_reason_names_the_address_and_its_kind() -> None:
    assert check_url("https://10.0.0.1/", allow_private=False) == "10.0.0.1 is a private address"
    assert check_url("https://169.254.169.254/", allow_private=False) == (
        "169.254.169.254 is a link-local address"
    )
    assert check_url("https://[::ffff:127.0.0.1]/", allow_private=False) == (
        "::ffff:7f00:1 is a loopback address"
    )
    assert check_url("https://100.64.0.1/", allow_private=False) == (
        "100.64.0.1 is a shared (CGNAT) address"
    )


@pytest.mark.parametrize("url", MALFORMED)
def test_a_malformed_url_is_refused_even_when_private_addresses_are_allowed(url: str) -> None:
    assert check_url(url, allow_private=True) is not None
    assert check_url(url, allow_private=False) is not None


def test_the_url_length_limit_is_2000_characters() -> None:
    base = "https://example.com/"
    assert check_url(base + "a" * (2000 - len(base)), allow_private=False) is None
    assert check_url(base + "a" * (2001 - len(base)), allow_private=False) is not None


# --- Retry-After ---------------------------------------------------------------------------


def test_retry_after_reads_seconds_or_an_http_date() -> None:
    now = datetime(2025, 1, 1, 12, 0, tzinfo=UTC)
    assert parse_retry_after("7") == 7.0
    assert parse_retry_after(
        format_datetime(now + timedelta(seconds=90), usegmt=True), now=now
    ) == (90.0)
    assert parse_retry_after(format_datetime(now - timedelta(hours=1), usegmt=True), now=now) == 0
    assert parse_retry_after("soon") is None
    assert parse_retry_after("-5") is None
    assert parse_retry_after(None) is None


# --- one attempt against a real server -----------------------------------------------------


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class LocalServer:
    """A tiny HTTP/1.1 server on 127.0.0.1 that records connections and requests."""

    port: int = 0
    connections: int = 0
    requests: list[Received] = field(default_factory=list)
    release: asyncio.Event = field(default_factory=asyncio.Event)

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            method, path, _ = lines[0].split(" ", 2)
            headers = {}
            for line in lines[1:]:
                if line:
                    name, value = line.split(":", 1)
                    headers[name.strip().lower()] = value.strip()
            body = await reader.readexactly(int(headers.get("content-length", "0")))
            self.requests.append(Received(method, path, headers, body))
            if path == "/hang":
                await self.release.wait()
                return
            writer.write(self.answer(path))
            await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    @staticmethod
    def answer(path: str) -> bytes:
        if path == "/redirect":
            status, extra, body = "302 Found", "location: /ok\r\n", b""
        elif path == "/busy":
            status, extra, body = "503 Service Unavailable", "retry-after: 7\r\n", b"busy"
        elif path == "/big":
            status, extra, body = "200 OK", "", b"x" * 200_000
        else:
            status, extra, body = "200 OK", "content-type: text/plain\r\n", b"thanks"
        return (
            f"HTTP/1.1 {status}\r\n{extra}content-length: {len(body)}\r\nconnection: close\r\n\r\n"
        ).encode() + body


@pytest.fixture
async def server() -> AsyncIterator[LocalServer]:
    local = LocalServer()
    srv = await asyncio.start_server(local.handle, "127.0.0.1", 0)
    local.port = srv.sockets[0].getsockname()[1]
    try:
        yield local
    finally:
        local.release.set()
        srv.close()
        await srv.wait_closed()


@pytest.fixture
async def sender() -> AsyncIterator[WebhookSender]:
    webhook_sender = WebhookSender(allow_private=True, timeout=5.0)
    try:
        yield webhook_sender
    finally:
        await webhook_sender.aclose()


class RecordingResolver:
    def __init__(self, answers: dict[str, list[str]]) -> None:
        self.answers = answers
        self.calls: list[tuple[str, int]] = []

    async def __call__(self, host: str, port: int) -> list[str]:
        self.calls.append((host, port))
        return self.answers[host]


async def test_an_attempt_posts_the_body_with_headers_that_verify(
    server: LocalServer, sender: WebhookSender
) -> None:
    secret = new_secret()
    now = int(time.time())
    result = await sender.send(
        f"http://127.0.0.1:{server.port}/ok?shop=1",
        msg_id="msg_10",
        timestamp=now,
        body=BODY,
        secrets=[secret],
    )
    assert result.ok
    assert result.status == 200
    assert result.error is None
    assert result.excerpt == "thanks"
    assert result.retry_after is None
    assert result.latency_ms >= 0
    [request] = server.requests
    assert (request.method, request.path, request.body) == ("POST", "/ok?shop=1", BODY)
    assert request.headers["content-type"] == "application/json"
    assert request.headers["user-agent"] == "Tally-Webhooks/1"
    assert request.headers["webhook-id"] == "msg_10"
    assert request.headers["webhook-timestamp"] == str(now)
    Webhook(secret).verify(request.body, request.headers)


async def test_a_redirect_is_a_status_and_is_not_followed(
    server: LocalServer, sender: WebhookSender
) -> None:
    result = await sender.send(
        f"http://127.0.0.1:{server.port}/redirect",
        msg_id="msg_11",
        timestamp=int(time.time()),
        body=BODY,
        secrets=[new_secret()],
    )
    assert result.status == 302
    assert not result.ok
    assert result.error is None
    assert [r.path for r in server.requests] == ["/redirect"]


async def test_a_503_with_retry_after_reports_the_delay(
    server: LocalServer, sender: WebhookSender
) -> None:
    result = await sender.send(
        f"http://127.0.0.1:{server.port}/busy",
        msg_id="msg_12",
        timestamp=int(time.time()),
        body=BODY,
        secrets=[new_secret()],
    )
    assert (result.status, result.retry_after, result.excerpt) == (503, 7.0, "busy")
    assert not result.ok


async def test_a_large_body_is_cut_to_the_excerpt(
    server: LocalServer, sender: WebhookSender
) -> None:
    result = await sender.send(
        f"http://127.0.0.1:{server.port}/big",
        msg_id="msg_13",
        timestamp=int(time.time()),
        body=BODY,
        secrets=[new_secret()],
    )
    assert result.status == 200
    assert result.excerpt == "x" * 500


async def test_a_receiver_that_never_answers_costs_at_most_the_timeout(
    server: LocalServer,
) -> None:
    sender = WebhookSender(allow_private=True, timeout=0.5)
    try:
        started = time.monotonic()
        result = await sender.send(
            f"http://127.0.0.1:{server.port}/hang",
            msg_id="msg_14",
            timestamp=int(time.time()),
            body=BODY,
            secrets=[new_secret()],
        )
        elapsed = time.monotonic() - started
    finally:
        await sender.aclose()
    assert result.status is None
    assert result.error == "timeout after 0.5 s"
    assert not result.ok
    assert elapsed < 2
    assert [r.path for r in server.requests] == ["/hang"]


async def test_a_host_resolving_to_a_private_address_is_blocked_before_connecting(
    server: LocalServer,
) -> None:
    resolver = RecordingResolver({"example.test": ["10.0.0.5"]})
    sender = WebhookSender(allow_private=False, resolve=resolver)
    try:
        result = await sender.send(
            f"https://example.test:{server.port}/ok",
            msg_id="msg_15",
            timestamp=int(time.time()),
            body=BODY,
            secrets=[new_secret()],
        )
    finally:
        await sender.aclose()
    assert resolver.calls == [("example.test", server.port)]
    assert result.status is None
    assert result.error == "blocked: 10.0.0.5 is a private address"
    assert server.connections == 0


async def test_one_internal_address_among_public_ones_blocks_the_attempt(
    server: LocalServer,
) -> None:
    resolver = RecordingResolver({"example.test": ["93.184.215.14", "127.0.0.1"]})
    sender = WebhookSender(allow_private=False, resolve=resolver)
    try:
        result = await sender.send(
            f"https://example.test:{server.port}/ok",
            msg_id="msg_16",
            timestamp=int(time.time()),
            body=BODY,
            secrets=[new_secret()],
        )
    finally:
        await sender.aclose()
    assert result.error == "blocked: 127.0.0.1 is a loopback address"
    assert server.connections == 0


async def test_a_literal_internal_address_or_plain_http_is_refused_in_strict_mode(
    server: LocalServer,
) -> None:
    resolver = RecordingResolver({})
    sender = WebhookSender(allow_private=False, resolve=resolver)
    try:
        literal = await sender.send(
            f"https://127.0.0.1:{server.port}/ok",
            msg_id="msg_17",
            timestamp=1,
            body=BODY,
            secrets=[new_secret()],
        )
        plain = await sender.send(
            "http://example.com/ok", msg_id="msg_18", timestamp=1, body=BODY, secrets=[new_secret()]
        )
    finally:
        await sender.aclose()
    assert literal.error == "blocked: 127.0.0.1 is a loopback address"
    assert plain.error == "invalid url: the URL must start with https://"
    assert resolver.calls == []
    assert server.connections == 0


async def test_the_connection_goes_to_the_vetted_address_with_the_original_host_header(
    server: LocalServer,
) -> None:
    resolver = RecordingResolver({"example.test": ["127.0.0.1"]})
    sender = WebhookSender(allow_private=True, resolve=resolver)
    secret = new_secret()
    try:
        result = await sender.send(
            f"http://example.test:{server.port}/ok",
            msg_id="msg_19",
            timestamp=int(time.time()),
            body=BODY,
            secrets=[secret],
        )
    finally:
        await sender.aclose()
    assert result.status == 200
    assert resolver.calls == [("example.test", server.port)]
    [request] = server.requests
    assert request.headers["host"] == f"example.test:{server.port}"
    Webhook(secret).verify(request.body, request.headers)


async def test_https_connects_to_the_ip_with_the_host_name_as_tls_server_name() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(204)

    resolver = RecordingResolver({"hooks.example.com": ["93.184.215.14"]})
    sender = WebhookSender(allow_private=False, resolve=resolver)
    await sender.aclose()
    # Only the transport is swapped: the request the sender builds is what is checked.
    sender._client = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    try:
        result = await sender.send(
            "https://hooks.example.com/tally?x=1",
            msg_id="msg_20",
            timestamp=1,
            body=BODY,
            secrets=[new_secret()],
        )
    finally:
        await sender.aclose()
    assert result.status == 204
    assert result.ok
    [request] = seen
    assert str(request.url) == "https://93.184.215.14/tally?x=1"
    assert request.headers["host"] == "hooks.example.com"
    assert request.extensions["sni_hostname"] == "hooks.example.com"


async def test_a_refused_connection_is_an_error_result_not_an_exception() -> None:
    srv = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
    port = srv.sockets[0].getsockname()[1]
    srv.close()
    await srv.wait_closed()
    sender = WebhookSender(allow_private=True, timeout=5.0)
    try:
        result = await sender.send(
            f"http://127.0.0.1:{port}/ok",
            msg_id="msg_21",
            timestamp=1,
            body=BODY,
            secrets=[new_secret()],
        )
    finally:
        await sender.aclose()
    assert result.status is None
    assert result.error is not None
    assert result.error.startswith("connect failed: 127.0.0.1")
    assert result.excerpt == ""


def test_site_local_and_trailing_dot_addresses_are_refused() -> None:
    from app.events.webhook_client import check_url

    assert check_url("https://[fec0::1]/x", allow_private=False) is not None
    assert check_url("https://127.0.0.1./x", allow_private=False) is not None


def test_a_standard_webhook_is_verified_within_five_minutes_only() -> None:
    from app.events.webhook_client import new_secret, sign, verify

    secret = new_secret()
    body = b'{"type": "order.paid"}'
    signature = sign([secret], "msg-1", 1_000_000, body)
    ok = {"msg_id": "msg-1", "timestamp": "1000000", "body": body, "signature": signature}
    assert verify(secret, now=1_000_100, **ok)  # type: ignore[arg-type]
    assert not verify(secret, now=1_000_400, **ok)  # type: ignore[arg-type]
    assert not verify(new_secret(), now=1_000_100, **ok)  # type: ignore[arg-type]
    assert not verify(secret, now=1_000_100, **{**ok, "body": b"{}"})  # type: ignore[arg-type]
    assert not verify(secret, now=1_000_100, **{**ok, "timestamp": "soon"})  # type: ignore[arg-type]
