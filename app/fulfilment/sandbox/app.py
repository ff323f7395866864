"""The sandbox's HTTP face: the provider's `/v1` API, claim pages, and `/_sandbox/`
control endpoints for tests (no authentication; loopback clients only)."""

from __future__ import annotations

import asyncio
import html
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from decimal import Decimal

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from app.fulfilment.sandbox.catalogue import PRODUCTS
from app.fulfilment.sandbox.config import ConfigError, SandboxConfig
from app.fulfilment.sandbox.orders import Refusal, encode_json, order_json
from app.fulfilment.sandbox.runtime import Sandbox
from app.fulfilment.sandbox.state import Call

Endpoint = Callable[[Request], Awaitable[Response]]
Handler = Callable[[Request, Sandbox], Awaitable[Response]]
LOOPBACK = frozenset({"127.0.0.1", "::1", "localhost"})
_NOT_JSON = object()


def create_sandbox_app(config: SandboxConfig, base_url: str) -> Starlette:
    """The sandbox app; `base_url` is where it is served (claim links point there)."""
    sandbox = Sandbox(config, base_url)

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        await sandbox.start()
        try:
            yield
        finally:
            await sandbox.stop()

    app = Starlette(routes=_routes(), lifespan=lifespan)
    app.state.sandbox = sandbox
    return app


def _routes() -> list[Route]:
    return [
        Route("/v1/Tokens", _provider(_token, authenticated=False), methods=["POST"]),
        Route("/v1/Products", _provider(_products), methods=["GET"]),
        Route("/v1/Orders", _provider(_place_order), methods=["POST"]),
        Route("/v1/Orders/{order_id}", _provider(_order), methods=["GET"]),
        Route("/claim/{card_id}", _claim_page, methods=["GET"]),
        Route("/_sandbox/orders", _control(_all_orders), methods=["GET"]),
        Route("/_sandbox/config", _control(_config), methods=["GET", "POST"]),
        Route("/_sandbox/complete/{order_id}", _control(_complete), methods=["POST"]),
        Route("/_sandbox/calls", _control(_calls), methods=["GET"]),
        Route("/_sandbox/webhooks", _control(_webhooks), methods=["GET"]),
        Route("/_sandbox/tokens/expire", _control(_expire_tokens), methods=["POST"]),
        Route("/_sandbox/reset", _control(_reset), methods=["POST"]),
    ]


def _json(payload: object, status: int = 200) -> Response:
    return Response(encode_json(payload), status, media_type="application/json")


def _error(status: int, message: str, **extra: object) -> Response:
    return _json({**extra, "Message": message}, status)


def _sandbox(request: Request) -> Sandbox:
    sandbox: Sandbox = request.app.state.sandbox
    return sandbox


def _provider(handler: Handler, *, authenticated: bool = True) -> Endpoint:
    """A `/v1` call: the configured latency, the bearer token check, refusals as JSON
    errors, and an entry in the call log. A client that gives up during the latency does
    not stop the call: the order is created all the same, as at a real provider."""

    async def endpoint(request: Request) -> Response:
        sandbox = _sandbox(request)
        await request.body()  # read before the latency, as a real server has it by then
        latency = sandbox.state.config.latency_ms
        if latency:
            await asyncio.sleep(latency / 1000)
        state = sandbox.state
        if authenticated and not state.authorised(request.headers.get("Authorization")):
            response = _error(401, "a valid bearer token is required")
        else:
            try:
                response = await handler(request, sandbox)
            except Refusal as refusal:
                response = _error(refusal.status, refusal.message, **refusal.extra)
        po_number = getattr(request.state, "po_number", None)
        state.calls.append(Call(request.method, request.url.path, response.status_code, po_number))
        return response

    return endpoint


async def _token(request: Request, sandbox: Sandbox) -> Response:
    value, ttl = sandbox.state.issue_token(
        request.headers.get("Email"), request.headers.get("AccessToken")
    )
    return _json({"Value": value, "ExpiresIn": ttl})


async def _products(_: Request, __: Sandbox) -> Response:
    return _json([product.to_json() for product in PRODUCTS.values()])


async def _place_order(request: Request, sandbox: Sandbox) -> Response:
    try:
        body: object = json.loads(await request.body(), parse_float=Decimal)
    except ValueError:
        body = _NOT_JSON
    if isinstance(body, dict) and isinstance(body.get("PONumber"), str):
        request.state.po_number = body["PONumber"]
    state = sandbox.state
    if state.injected(state.config.failure_rate):
        raise Refusal(500, "internal server error (injected by the sandbox; nothing created)")
    if body is _NOT_JSON:
        raise Refusal(400, "the body is not JSON")
    order = state.place(body)
    sandbox.placed(order)
    if state.injected(state.config.timeout_rate):
        raise Refusal(504, "gateway timeout (injected by the sandbox; the order was created)")
    return _json(order_json(order, sandbox.base_url), 201)


async def _order(request: Request, sandbox: Sandbox) -> Response:
    order = sandbox.state.order(request.path_params["order_id"])
    return _json(order_json(order, sandbox.base_url))


async def _claim_page(request: Request) -> Response:
    card = _sandbox(request).state.card(request.path_params["card_id"])
    if card is None:
        return HTMLResponse("<!doctype html><title>Not found</title><p>No such card.</p>", 404)
    value = html.escape(f"{card.value} {card.currency}")
    return HTMLResponse(
        "<!doctype html><html><head><meta charset='utf-8'><title>Your gift card</title></head>"
        f"<body><h1>Your gift card: {value}</h1>"
        f"<p>Code: <code class='code'>{html.escape(card.code)}</code></p>"
        f"<p class='card-id'>Card {html.escape(card.id)}</p></body></html>"
    )


def _control(handler: Handler) -> Endpoint:
    """A `/_sandbox/` endpoint: loopback clients only; refusals as JSON errors."""

    async def endpoint(request: Request) -> Response:
        if request.client is None or request.client.host not in LOOPBACK:
            return _error(403, "control endpoints answer loopback clients only")
        try:
            return await handler(request, _sandbox(request))
        except Refusal as refusal:
            return _error(refusal.status, refusal.message, **refusal.extra)

    return endpoint


async def _all_orders(_: Request, sandbox: Sandbox) -> Response:
    orders = sandbox.state.orders.values()
    return _json([order_json(order, sandbox.base_url) for order in orders])


async def _config(request: Request, sandbox: Sandbox) -> Response:
    if request.method == "POST":
        try:
            changes = json.loads(await request.body(), parse_float=Decimal)
        except ValueError:
            raise Refusal(400, "the body is not JSON") from None
        if not isinstance(changes, dict):
            raise Refusal(400, "the body must be a JSON object of options")
        try:
            sandbox.state.configure(changes)
        except ConfigError as error:
            raise Refusal(400, str(error)) from None
    return _json(sandbox.state.config.to_json())


async def _complete(request: Request, sandbox: Sandbox) -> Response:
    order = sandbox.complete(request.path_params["order_id"])
    return _json(order_json(order, sandbox.base_url))


async def _calls(_: Request, sandbox: Sandbox) -> Response:
    return _json([call.to_json() for call in sandbox.state.calls])


async def _webhooks(_: Request, sandbox: Sandbox) -> Response:
    return _json([attempt.to_json() for attempt in sandbox.state.webhook_attempts])


async def _expire_tokens(_: Request, sandbox: Sandbox) -> Response:
    return _json({"expired": sandbox.state.expire_tokens()})


async def _reset(_: Request, sandbox: Sandbox) -> Response:
    await sandbox.reset()
    return _json(sandbox.state.config.to_json())
