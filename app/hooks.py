"""Inbound provider callbacks: `POST /hooks/providers/{name}` (a gift-card provider's
FulfillmentComplete). Authenticated by the provider's secret; an authentic callback that
names no waiting fulfilment changes nothing and is still answered 200, so the provider
stops retrying it."""

from __future__ import annotations

import logging

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from app.fulfilment.giftcard_orders import WebhookRejected
from app.ledger.uow import UnitOfWork
from app.services.clock import Clock
from app.services.fulfil import apply_webhook
from app.services.inbound import receive_shopify, receive_standard
from app.services.providers import ProviderRegistry

log = logging.getLogger("tally.hooks")
MAX_BODY = 256 * 1024
ORDER_BODY = 1024 * 1024  # an order with its lines, as a store sends it


def provider_hook_routes(uow: UnitOfWork, clock: Clock, providers: ProviderRegistry) -> list[Route]:
    async def provider_hook(request: Request) -> JSONResponse:
        name = request.path_params["name"]
        body = await request.body()
        if len(body) > MAX_BODY:
            return JSONResponse({"error": "body too large"}, 413)
        try:
            answer = await apply_webhook(uow, clock, providers, name, request.headers, body)
        except WebhookRejected as rejected:
            log.warning("provider hook %s rejected: %s", name, rejected)
            return JSONResponse({"error": "not authentic"}, 401)
        return JSONResponse({"changed": answer.changed, "detail": answer.detail})

    return [Route("/hooks/providers/{name}", provider_hook, methods=["POST"])]


async def _bounded_body(request: Request, limit: int) -> bytes | None:
    """The body, read no further than `limit` bytes (None past it): a sender never makes
    Tally hold more than that, signed or not."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        return None
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def order_hook_routes(uow: UnitOfWork, clock: Clock) -> list[Route]:
    """`POST /hooks/shopify/{source}`: a shop's orders/paid and refunds/create, verified
    with the source's secret, stored, answered at once; processed after."""

    async def shopify_hook(request: Request) -> JSONResponse:
        body = await _bounded_body(request, ORDER_BODY)
        if body is None:
            return JSONResponse({"status": "body too large"}, 413)
        headers = {k.lower(): v for k, v in request.headers.items()}
        receipt = await receive_shopify(uow, clock, request.path_params["source"], headers, body)
        if receipt.status != 200:
            log.warning("shopify hook %s: %s", request.path_params["source"], receipt.message)
        return JSONResponse({"status": receipt.message}, receipt.status)

    async def order_hook(request: Request) -> JSONResponse:
        body = await _bounded_body(request, ORDER_BODY)
        if body is None:
            return JSONResponse({"status": "body too large"}, 413)
        headers = {k.lower(): v for k, v in request.headers.items()}
        receipt = await receive_standard(uow, clock, request.path_params["source"], headers, body)
        if receipt.status != 200:
            log.warning("order hook %s: %s", request.path_params["source"], receipt.message)
        return JSONResponse({"status": receipt.message}, receipt.status)

    return [
        Route("/hooks/shopify/{source}", shopify_hook, methods=["POST"]),
        Route("/hooks/orders/{source}", order_hook, methods=["POST"]),
    ]
