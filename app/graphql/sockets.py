"""WebSocket rules (graphql-transport-ws): a socket lives no longer than its token, each
principal holds a bounded number of sockets and each socket a bounded number of
operations, and a consumer that stops reading is cut off instead of slowing anyone.

Close codes a client can act on:
- 4403 `Token expired`: at the token's `exp` plus the verifier's leeway; reconnect with a
  fresh token and `sinceVersion`, nothing is lost.
- 4429 `Too many sockets`: this principal already holds its share (per instance); close
  one before opening another. graphql-ws clients do not retry it.
- 4499 `Slow consumer`: a message waited longer than the send timeout (the transport's
  write buffer was full); read faster, then reconnect with `sinceVersion`.
A `subscribe` past the per-socket cap answers an `error` message with code LIMIT_REACHED;
the socket stays open.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from graphql import GraphQLError
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import (
    ConnectionInitMessage,
    Message,
    SubscribeMessage,
)

from app.auth.principal import Principal
from app.graphql.context import Context

log = logging.getLogger("tally.sockets")

TOKEN_EXPIRED = 4403
TOO_MANY_SOCKETS = 4429
SLOW_CONSUMER = 4499


@dataclass(frozen=True)
class SocketRules:
    """The caps of one app (settings: TALLY_MAX_SUBSCRIPTIONS_PER_SOCKET and friends)."""

    subscriptions_per_socket: int = 20
    sockets_per_member: int = 10
    sockets_per_client: int = 1000
    send_timeout: float = 10.0  # seconds a message may wait for the socket
    token_leeway: float = 30.0  # the verifier's: a token is good until exp + leeway

    def sockets_for(self, principal: Principal) -> int:
        return self.sockets_per_member if principal.is_member else self.sockets_per_client


class SocketRegistry:
    """Open, acknowledged sockets per principal in this process."""

    def __init__(self) -> None:
        self._open: Counter[str] = Counter()

    def claim(self, principal: Principal, cap: int) -> bool:
        if self._open[principal.key] >= cap:
            return False
        self._open[principal.key] += 1
        return True

    def release(self, principal: Principal) -> None:
        self._open[principal.key] -= 1
        if self._open[principal.key] <= 0:
            del self._open[principal.key]

    def open_for(self, principal: Principal) -> int:
        return self._open[principal.key]


class TallySocketHandler(BaseGraphQLTransportWSHandler[Context, None]):
    """strawberry's graphql-transport-ws handler with Tally's rules on top."""

    rules: SocketRules = SocketRules()
    registry: SocketRegistry = SocketRegistry()
    wall_clock: Callable[[], float] = time.time

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["max_subscriptions_per_connection"] = None  # counted here, with a code
        super().__init__(*args, **kwargs)
        self._claimed: Principal | None = None
        self._expiry: asyncio.Task[None] | None = None
        self._cut = False
        self._closing: asyncio.Task[None] | None = None

    @classmethod
    def configured(cls, rules: SocketRules, registry: SocketRegistry) -> type[TallySocketHandler]:
        """A handler class bound to one app's rules and registry."""
        return type("TallySocketHandler", (cls,), {"rules": rules, "registry": registry})

    async def handle_connection_init(self, message: ConnectionInitMessage) -> None:
        await super().handle_connection_init(message)
        principal = self.context.principal
        if not self.connection_acknowledged or principal is None:
            return
        if not self.registry.claim(principal, self.rules.sockets_for(principal)):
            self.connection_acknowledged = False
            await self.websocket.close(TOO_MANY_SOCKETS, "Too many sockets for this token")
            return
        self._claimed = principal
        if principal.expires_at is not None:
            self._expiry = asyncio.create_task(self._close_at_expiry(principal.expires_at))

    def _expired(self) -> bool:
        principal = self._claimed
        return (
            principal is not None
            and principal.expires_at is not None
            and self.wall_clock() >= principal.expires_at + self.rules.token_leeway
        )

    async def _close_at_expiry(self, expires_at: int) -> None:
        await asyncio.sleep(max(0.0, expires_at + self.rules.token_leeway - self.wall_clock()))
        await self._close(TOKEN_EXPIRED, "Token expired")

    async def _close(self, code: int, reason: str) -> None:
        self.connection_acknowledged = False
        for operation_id in list(self.operations):
            await self.cleanup_operation(operation_id)
        with contextlib.suppress(Exception):  # the peer may be gone already
            await self.websocket.close(code, reason)

    async def handle_subscribe(self, message: SubscribeMessage) -> None:
        if self.connection_acknowledged and self._expired():
            await self._close(TOKEN_EXPIRED, "Token expired")
            return
        cap = self.rules.subscriptions_per_socket
        if self.connection_acknowledged and len(self.operations) >= cap:
            error = GraphQLError(
                f"At most {cap} operations at once on one socket; complete one first.",
                extensions={"code": "LIMIT_REACHED", "field": "subscriptions"},
            )
            await self.send_message(
                {"id": message["id"], "type": "error", "payload": [error.formatted]}
            )
            return
        await super().handle_subscribe(message)

    async def send_message(self, message: Message) -> None:
        if self._cut:
            return
        try:
            async with asyncio.timeout(self.rules.send_timeout):
                await super().send_message(message)
        except TimeoutError:
            self._cut = True
            log.warning(
                "closing a slow consumer (%s): a message waited over %.1f s",
                self._claimed.key if self._claimed else "unauthenticated",
                self.rules.send_timeout,
            )
            # Not awaited from here: this runs inside an operation the close cancels.
            self._closing = asyncio.create_task(self._close(SLOW_CONSUMER, "Slow consumer"))

    async def shutdown(self) -> None:
        if self._expiry is not None:
            self._expiry.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._expiry
        if self._claimed is not None:
            self.registry.release(self._claimed)
            self._claimed = None
        await super().shutdown()
