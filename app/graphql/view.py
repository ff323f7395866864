"""The GraphQL endpoint: bearer tokens over HTTP, `connection_init` over WebSocket."""

from __future__ import annotations

import json
import uuid
from dataclasses import replace
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.http import GraphQLHTTPResponse
from strawberry.types import ExecutionResult

from app.auth.principal import Principal
from app.auth.tokens import InvalidToken, TokenVerifier
from app.graphql import ide
from app.graphql.context import Context, Services
from app.graphql.errors import public
from app.graphql.loaders import Loaders
from app.graphql.schema import schema
from app.services.audit import RequestInfo, current_request

PRINCIPAL_KEY = "tally.principal"


def request_id_of(header: str | None) -> str:
    """The caller's X-Request-Id when it is a sane one (1 to 100 printable ASCII), else a
    new one."""
    if header and len(header) <= 100 and header.isascii() and header.isprintable():
        return header
    return uuid.uuid4().hex


def bearer_token(value: object) -> str | None:
    if not isinstance(value, str):
        return None
    scheme, _, token = value.strip().partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return None


def _unauthorized(message: str) -> Response:
    body = {"errors": [{"message": message, "extensions": {"code": "UNAUTHENTICATED"}}]}
    return Response(
        json.dumps(body),
        status_code=401,
        media_type="application/json",
        headers={"WWW-Authenticate": 'Bearer realm="tally", error="invalid_token"'},
    )


def _no_page() -> Response:
    message = "GraphiQL is not served here (TALLY_GRAPHIQL); POST operations with a bearer token."
    body = {"errors": [{"message": message, "extensions": {"code": "NOT_FOUND"}}]}
    return Response(json.dumps(body), status_code=404, media_type="application/json")


class BearerAuth:
    """HTTP requests to /graphql need a valid bearer token; GraphiQL's page does not."""

    def __init__(self, app: ASGIApp, verifier: TokenVerifier, *, page: bool = True) -> None:
        self.app = app
        self.verifier = verifier
        self.page = page  # False when GraphiQL is off: a browser GET gets a JSON 404

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        wants_page = request.method == "GET" and "text/html" in request.headers.get("accept", "")
        if wants_page and "query" not in request.query_params and not self.page:
            await _no_page()(scope, receive, send)
            return
        if request.method == "OPTIONS" or (wants_page and "query" not in request.query_params):
            await self.app(scope, receive, send)
            return
        token = bearer_token(request.headers.get("authorization"))
        if token is None:
            await _unauthorized("A bearer token is required.")(scope, receive, send)
            return
        try:
            principal = await self.verifier.verify(token)
        except InvalidToken as error:
            await _unauthorized(f"Invalid token: {error.message}")(scope, receive, send)
            return
        scope[PRINCIPAL_KEY] = principal
        await self.app(scope, receive, send)


class TallyGraphQL(GraphQL[Context, None]):
    def __init__(self, services: Services, verifier: TokenVerifier, **options: Any) -> None:
        super().__init__(schema, **options)
        self.services = services
        self.verifier = verifier

    async def process_result(
        self, request: Request, result: ExecutionResult
    ) -> GraphQLHTTPResponse:
        """Every error of an HTTP answer passes `public` once more: parse errors reach here
        without the extensions having seen them."""
        if result.errors:
            guard = self.services.guard
            suggestions = guard.suggestions if guard is not None else True
            result.errors = [public(e, suggestions=suggestions) for e in result.errors]
        return await super().process_result(request, result)

    async def render_graphql_ide(self, request: Request) -> Response:
        """Our GraphiQL page (app/graphql/ide): local assets only, a token field, strict CSP."""
        return ide.page(request)

    async def get_context(self, request: Request | WebSocket, response: Any) -> Context:
        principal: Principal | None = request.scope.get(PRINCIPAL_KEY)
        # For the audit log: who asks, through which client, from where, as which request.
        current_request.set(
            RequestInfo(
                request_id=request_id_of(request.headers.get("x-request-id")),
                source_address=request.client.host if request.client else None,
                client_id=principal.client_id if principal else None,
            )
        )
        # A WebSocket context lives as long as the connection: no caching across events.
        is_socket = isinstance(request, WebSocket)
        return Context(
            services=self.services,
            principal=principal,
            loaders=Loaders(self.services.queries, self.services.tasks, cache=not is_socket),
        )

    async def on_ws_connect(self, context: Context) -> dict[str, object] | None:
        params = context.connection_params if isinstance(context.connection_params, dict) else {}
        raw = params.get("Authorization") or params.get("authorization")
        token = bearer_token(raw) if raw else params.get("token")
        if not isinstance(token, str) or not token:
            raise ConnectionRejectionError()
        try:
            context.principal = await self.verifier.verify(token)
        except InvalidToken:
            raise ConnectionRejectionError() from None
        info = current_request.get() or RequestInfo()
        current_request.set(replace(info, client_id=context.principal.client_id))
        return None
