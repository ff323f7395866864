"""Bounds on an HTTP request to /graphql before GraphQL sees it: the body's size, and the
time the operation may take.

- A body over `max_body_bytes` (declared or streamed) is answered 413 with a JSON error,
  before it is parsed, so an oversized document never reaches the parser or its cache.
- An operation running past `timeout` seconds is cancelled: its transaction rolls back
  (unless it had already committed) and the client gets 503 with code TIMEOUT.
"""

from __future__ import annotations

import asyncio
import json
from contextvars import ContextVar

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class BodyTooLarge(Exception):
    pass


_deadline: ContextVar[asyncio.Timeout | None] = ContextVar("tally_deadline", default=None)


def allow_time(seconds: float) -> None:
    """Let this request's operation run until `seconds` from now (a batch of writes that
    is known to take longer than one write), never less than it already had."""
    deadline = _deadline.get()
    if deadline is None:
        return
    until = asyncio.get_running_loop().time() + seconds
    current = deadline.when()
    if current is not None and current < until:
        deadline.reschedule(until)


def _error(status: int, message: str, code: str) -> tuple[Message, Message]:
    body = json.dumps({"errors": [{"message": message, "extensions": {"code": code}}]}).encode()
    start: Message = {
        "type": "http.response.start",
        "status": status,
        "headers": [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
        ],
    }
    return start, {"type": "http.response.body", "body": body}


class RequestBounds:
    def __init__(self, app: ASGIApp, *, max_body_bytes: int, timeout: float) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.timeout = timeout

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.max_body_bytes
        too_large = f"The request body is over {limit:,} bytes."
        for name, value in scope.get("headers", ()):
            if name == b"content-length" and value.isdigit() and int(value) > limit:
                for message in _error(413, too_large, "REQUEST_TOO_LARGE"):
                    await send(message)
                return
        seen = 0
        started = False

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise BodyTooLarge
            return message

        async def tracked(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            async with asyncio.timeout(self.timeout) as deadline:
                token = _deadline.set(deadline)
                try:
                    await self.app(scope, counted, tracked)
                finally:
                    _deadline.reset(token)
        except BodyTooLarge:
            if not started:
                for message in _error(413, too_large, "REQUEST_TOO_LARGE"):
                    await send(message)
        except TimeoutError:
            if not started:
                stopped = (
                    f"The operation took longer than {self.timeout:g} s and was stopped; "
                    "a write it had not committed was rolled back. Retry with the same "
                    "idempotency key to learn whether it happened."
                )
                for message in _error(503, stopped, "TIMEOUT"):
                    await send(message)
