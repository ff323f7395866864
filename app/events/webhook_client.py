"""Outgoing webhooks, Standard Webhooks v1: secrets, signatures, URL vetting, one attempt.

This module only signs and sends one attempt and reports what happened. Scheduling,
retries and disabling an endpoint belong to the caller (the outbox worker).

SSRF guard, in two places:

- `check_url` runs when an endpoint is registered. It never resolves names; it refuses
  literal addresses (and "localhost") that point inside.
- `WebhookSender.send` resolves the host itself at send time, refuses the attempt if any
  address is not public, and connects to the vetted address (the Host header and the TLS
  server name stay the original host name), so a second DNS answer cannot move the
  connection (DNS rebinding).

Connections are not kept alive: httpcore pools by (scheme, IP, port), so a pooled TLS
connection verified for one host name could otherwise carry a request for another name that
resolves to the same IP. Cookies are never stored or sent.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import ipaddress
import socket
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from http.cookiejar import Cookie, CookieJar
from secrets import token_bytes
from typing import Final
from urllib.parse import urlsplit
from urllib.request import Request

import httpx

SECRET_PREFIX: Final = "whsec_"
USER_AGENT: Final = "Tally-Webhooks/1"
MAX_URL_LENGTH: Final = 2000
#: Bytes of a response body read at most; the excerpt keeps its first EXCERPT_CHARS.
MAX_BODY_BYTES: Final = 64 * 1024
EXCERPT_CHARS: Final = 500

Resolver = Callable[[str, int], Awaitable[list[str]]]
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_CGNAT: Final = ipaddress.IPv4Network("100.64.0.0/10")
_NAT64: Final = ipaddress.IPv6Network("64:ff9b::/96")


def new_secret() -> str:
    """A new endpoint secret: "whsec_" + base64 of 32 random bytes."""
    return SECRET_PREFIX + base64.b64encode(token_bytes(32)).decode("ascii")


def _secret_key(secret: str) -> bytes:
    encoded = secret.removeprefix(SECRET_PREFIX)
    try:
        key = base64.b64decode(encoded, validate=True)
    except ValueError as exc:
        raise ValueError("a webhook secret is 'whsec_' + base64") from exc
    if not key:
        raise ValueError("a webhook secret may not be empty")
    return key


def sign(secrets: Sequence[str], msg_id: str, timestamp: int, body: bytes) -> str:
    """The `webhook-signature` header value: one "v1,<base64>" entry per secret.

    Several secrets sign at once while one rotates, so a receiver holding either verifies.
    """
    if not secrets:
        raise ValueError("at least one secret signs a webhook")
    content = f"{msg_id}.{timestamp}.".encode() + body
    entries = []
    for secret in secrets:
        digest = hmac.new(_secret_key(secret), content, hashlib.sha256).digest()
        entries.append("v1," + base64.b64encode(digest).decode("ascii"))
    return " ".join(entries)


TOLERANCE = 5 * 60  # seconds a signed timestamp may be off, as the reference libraries


def verify(
    secret: str, *, msg_id: str, timestamp: str, body: bytes, signature: str, now: float
) -> bool:
    """Whether a Standard Webhooks delivery is authentic: one `v1,` entry of
    `signature` is the HMAC of `msg_id.timestamp.body` with `secret` (constant time), and
    the timestamp is within five minutes of `now`."""
    try:
        sent = int(timestamp)
    except ValueError:
        return False
    if abs(now - sent) > TOLERANCE or not msg_id:
        return False
    try:
        expected = sign([secret], msg_id, sent, body).encode()
    except ValueError:
        return False
    return any(
        hmac.compare_digest(expected, entry.encode())
        for entry in signature.split()
        if entry.startswith("v1,")
    )


def _address_refusal(address: IPAddress) -> str | None:
    """Why a webhook may not go to this address ("a private address"), None if it may."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is None and address in _NAT64:
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if embedded is not None:
            return _address_refusal(embedded)
    if address.is_unspecified:
        return "an unspecified address"
    if address.is_loopback:
        return "a loopback address"
    if address.is_link_local:
        return "a link-local address"
    if isinstance(address, ipaddress.IPv6Address) and address.is_site_local:
        return "a site-local address"
    if address.is_multicast:
        return "a multicast address"
    if isinstance(address, ipaddress.IPv4Address) and address in _CGNAT:
        return "a shared (CGNAT) address"
    if address.is_private:
        return "a private address"
    if address.is_reserved:
        return "a reserved address"
    if not address.is_global:
        return "not a public address"
    return None


def _parse_ip(text: str) -> IPAddress | None:
    text = text.rstrip(".") if text.count(".") > 1 else text  # "127.0.0.1." is 127.0.0.1
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        pass
    # Legacy IPv4 spellings ("127.1", "0x7f.1", "2130706433") that resolvers accept.
    if text and all(c in "0123456789abcdefxABCDEFX." for c in text):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(text))
        except OSError:
            return None
    return None


def _is_localhost(host: str) -> bool:
    host = host.rstrip(".").lower()
    return host == "localhost" or host.endswith(".localhost")


@dataclass(frozen=True, slots=True)
class _Target:
    scheme: str
    host: str
    port: int
    literal: IPAddress | None


def _check_shape(url: str, *, allow_private: bool) -> _Target | str:
    """The URL's target, or why it cannot be a webhook endpoint (addresses not checked)."""
    if len(url) > MAX_URL_LENGTH:
        return f"the URL is longer than {MAX_URL_LENGTH} characters"
    if any(c.isspace() or not c.isprintable() for c in url):
        return "the URL contains spaces or control characters"
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return "the URL is not valid"
    scheme = parts.scheme.lower()
    if scheme != "https" and not (allow_private and scheme == "http"):
        return "the URL must start with https://" + (" or http://" if allow_private else "")
    if "@" in parts.netloc:
        return "the URL may not contain a user name or password"
    if "#" in url:
        return "the URL may not contain a fragment (#...)"
    host = parts.hostname
    if not host:
        return "the URL has no host"
    if any(c in host for c in "/\\%") and _parse_ip(host) is None:
        return "the URL's host is not valid"
    return _Target(
        scheme=scheme,
        host=host,
        port=port if port is not None else (443 if scheme == "https" else 80),
        literal=_parse_ip(host),
    )


def check_url(url: str, *, allow_private: bool) -> str | None:
    """None when `url` may be a webhook endpoint, else a short reason for the user.

    Host names are not resolved here: the sender vets the addresses at connect time.
    """
    target = _check_shape(url, allow_private=allow_private)
    if isinstance(target, str):
        return target
    if allow_private:
        return None
    if _is_localhost(target.host):
        return f"{target.host} is a loopback address"
    if target.literal is not None:
        refusal = _address_refusal(target.literal)
        if refusal is not None:
            return f"{target.literal} is {refusal}"
    return None


@dataclass(frozen=True, slots=True)
class AttemptResult:
    """What one delivery attempt got back."""

    #: HTTP status; None when there was no answer (timeout, refused, blocked).
    status: int | None
    latency_ms: int
    #: The first characters of the response body; "" if none.
    excerpt: str
    #: None on any HTTP answer; else why there was none.
    error: str | None
    #: Seconds from a Retry-After header, else None.
    retry_after: float | None

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds from a Retry-After value: delta-seconds or an HTTP date; None if neither."""
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


async def _getaddrinfo(host: str, port: int) -> list[str]:
    infos = await asyncio.get_running_loop().getaddrinfo(
        host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP
    )
    addresses: list[str] = []
    for *_, sockaddr in infos:
        address = str(sockaddr[0])
        if address not in addresses:
            addresses.append(address)
    return addresses


class _NoCookies(CookieJar):
    """A jar that keeps nothing: one client serves every tenant's endpoints."""

    def set_cookie(self, cookie: Cookie) -> None:
        return None

    def extract_cookies(self, response: object, request: Request) -> None:
        return None


class WebhookSender:
    """Sends one signed attempt to an endpoint; shares one HTTP client. Never raises."""

    def __init__(
        self,
        *,
        allow_private: bool,
        timeout: float = 15.0,
        resolve: Resolver | None = None,
    ) -> None:
        self._allow_private = allow_private
        self._timeout = timeout
        self._resolve: Resolver = resolve if resolve is not None else _getaddrinfo
        self._client = httpx.AsyncClient(
            follow_redirects=False,
            trust_env=False,
            timeout=httpx.Timeout(timeout),
            limits=httpx.Limits(max_connections=100, max_keepalive_connections=0),
            cookies=httpx.Cookies(_NoCookies()),
        )

    async def aclose(self) -> None:
        await self._client.aclose()

    async def send(
        self,
        url: str,
        *,
        msg_id: str,
        timestamp: int,
        body: bytes,
        secrets: Sequence[str],
    ) -> AttemptResult:
        started = time.monotonic()
        status: int | None = None
        retry_after: float | None = None
        received = bytearray()
        charset: str | None = None

        def result(error: str | None) -> AttemptResult:
            return AttemptResult(
                status=status,
                latency_ms=round((time.monotonic() - started) * 1000),
                excerpt=_excerpt(bytes(received), charset),
                error=None if status is not None else error,
                retry_after=retry_after,
            )

        try:
            async with asyncio.timeout(self._timeout):
                target = _check_shape(url, allow_private=self._allow_private)
                if isinstance(target, str):
                    return result(f"invalid url: {target}")
                if not self._allow_private and _is_localhost(target.host):
                    return result(f"blocked: {target.host} is a loopback address")
                signature = sign(secrets, msg_id, timestamp, body)
                if target.literal is not None:
                    addresses = [target.literal]
                else:
                    try:
                        resolved = await self._resolve(target.host, target.port)
                    except OSError as exc:
                        return result(f"resolve failed: {target.host}: {exc}")
                    addresses = [ipaddress.ip_address(a) for a in resolved]
                if not addresses:
                    return result(f"resolve failed: {target.host}: no address")
                if not self._allow_private:
                    for address in addresses:
                        refusal = _address_refusal(address)
                        if refusal is not None:
                            return result(f"blocked: {address} is {refusal}")

                original = httpx.URL(url)
                headers = {
                    "host": original.netloc.decode("ascii"),
                    "content-type": "application/json",
                    "user-agent": USER_AGENT,
                    "accept-encoding": "identity",
                    "webhook-id": msg_id,
                    "webhook-timestamp": str(timestamp),
                    "webhook-signature": signature,
                }
                extensions = (
                    {"sni_hostname": original.host}
                    if target.scheme == "https" and target.literal is None
                    else {}
                )
                last_error = "connect failed"
                for address in addresses:
                    request = self._client.build_request(
                        "POST",
                        original.copy_with(host=str(address)),
                        headers=headers,
                        content=body,
                        extensions=extensions,
                    )
                    try:
                        response = await self._client.send(request, stream=True)
                    except httpx.ConnectError as exc:
                        # No connection, so nothing was delivered: the next address may answer.
                        last_error = f"connect failed: {address}: {_describe(exc)}"
                        continue
                    try:
                        status = response.status_code
                        retry_after = parse_retry_after(response.headers.get("retry-after"))
                        charset = response.charset_encoding
                        async for chunk in response.aiter_raw():
                            received += chunk[: MAX_BODY_BYTES - len(received)]
                            if len(received) >= MAX_BODY_BYTES:
                                break
                    finally:
                        await response.aclose()
                    return result(None)
                return result(last_error)
        except (TimeoutError, httpx.TimeoutException):
            # After a status the answer stands, with as much body as arrived in time.
            return result(f"timeout after {self._timeout:g} s")
        except httpx.HTTPError as exc:
            return result(f"no answer: {_describe(exc)}")
        except Exception as exc:
            return result(f"failed: {_describe(exc)}")


def _describe(exc: BaseException) -> str:
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _excerpt(data: bytes, charset: str | None) -> str:
    try:
        text = data.decode(charset or "utf-8", errors="replace")
    except LookupError:
        text = data.decode("utf-8", errors="replace")
    return text[:EXCERPT_CHARS]
