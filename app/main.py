"""create_app(settings): the one place concrete classes are wired together."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from functools import partial

from joserfc.jwk import KeySet
from sqlalchemy import text
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route, WebSocketRoute
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL

from app.auth.clients import ClientRegistry, ClientStatus
from app.auth.endpoints import auth_routes
from app.auth.keys import load_or_create_keys, public_jwks
from app.auth.tokens import TokenIssuer, TokenVerifier
from app.events.feed import ChangeFeed, FeedListener
from app.events.webhook_client import WebhookSender, check_url, new_secret
from app.graphql.bounds import RequestBounds
from app.graphql.budget import Limits
from app.graphql.context import Services
from app.graphql.guard import Guard, RateCard
from app.graphql.ide import asset_routes as ide_asset_routes
from app.graphql.sockets import SocketRegistry, SocketRules, TallySocketHandler
from app.graphql.throttle import Buckets, MemoryBuckets, Rate, RedisBuckets
from app.graphql.view import BearerAuth, TallyGraphQL
from app.hooks import order_hook_routes, provider_hook_routes
from app.ledger.database import Database, open_database
from app.ledger.migrate import current_revision, head_revision
from app.ledger.uow import UnitOfWork
from app.services.clock import Clock, SystemClock
from app.services.events import sequence_events
from app.services.fulfil import FulfilmentRunner
from app.services.inbound import InboundProcessor
from app.services.providers import ProviderRegistry
from app.services.queries import Queries
from app.services.sweeps import run_sweeps
from app.services.webhook_delivery import WebhookDispatcher, deliver_forever
from app.services.webhooks import WebhookTools
from app.settings import Settings
from app.supervisor import TaskSupervisor

log = logging.getLogger("tally")


@dataclass
class Runtime:
    """What the app built, for the CLI and tests."""

    settings: Settings
    db: Database
    services: Services
    issuer: TokenIssuer | None
    verifier: TokenVerifier
    registry: ClientRegistry
    keys: KeySet | None = None
    providers: ProviderRegistry | None = None
    fulfilment: FulfilmentRunner | None = None
    webhooks: WebhookDispatcher | None = None


def build_guard(settings: Settings, clock: Clock) -> Guard:
    """The request limits, rate-limit buckets and production switches of one app."""
    buckets: Buckets = (
        RedisBuckets(settings.rate_limit_url, clock)
        if settings.rate_limit_url
        else MemoryBuckets(clock)
    )
    return Guard(
        limits=Limits(
            max_tokens=settings.max_tokens,
            max_depth=settings.max_depth,
            max_aliases=settings.max_aliases,
            max_root_fields=settings.max_root_fields,
            max_directives=settings.max_directives,
            max_cost=settings.max_cost,
            max_fields=settings.max_fields,
        ),
        buckets=buckets,
        rates=RateCard(member=Rate(*settings.member_rate), client=Rate(*settings.client_rate)),
        introspection=not settings.production,
        suggestions=not settings.production,
    )


def socket_rules(settings: Settings) -> SocketRules:
    return SocketRules(
        subscriptions_per_socket=settings.max_subscriptions_per_socket,
        sockets_per_member=settings.max_sockets_per_member,
        sockets_per_client=settings.max_sockets_per_client,
        send_timeout=settings.socket_send_timeout,
        token_leeway=settings.token_leeway,
    )


def build_runtime(settings: Settings, *, clock: Clock | None = None) -> Runtime:
    db = open_database(settings.database_url)
    feed = ChangeFeed()
    clock = clock or SystemClock()
    uow = UnitOfWork(db, on_commit=feed.publish)
    registry = ClientRegistry(db)
    clients = ClientStatus(registry, ttl=settings.client_cache_seconds)
    guard = build_guard(settings, clock)
    guard.clients = clients
    services = Services(
        uow=uow,
        clock=clock,
        queries=Queries(uow, clock),
        feed=feed,
        tasks=TaskSupervisor(),
        guard=guard,
        batch_timeout=settings.batch_timeout,
        webhooks=WebhookTools(
            check_url=partial(check_url, allow_private=settings.webhooks_allow_private),
            new_secret=new_secret,
        ),
    )
    issuer: TokenIssuer | None = None
    keys: KeySet | None = None
    if settings.jwks_url:
        verifier = TokenVerifier(
            issuer=settings.issuer,
            audience=settings.audience,
            jwks_url=settings.jwks_url,
            leeway=settings.token_leeway,
            clients=clients,
        )
    else:
        keys = load_or_create_keys(settings.keys_file)
        issuer = TokenIssuer(keys, settings.issuer, settings.audience)
        verifier = TokenVerifier(
            issuer=settings.issuer,
            audience=settings.audience,
            keys=keys,
            leeway=settings.token_leeway,
            clients=clients,
        )
    providers = ProviderRegistry(uow)
    fulfilment = FulfilmentRunner(uow, clock, providers, lease=settings.fulfilment_lease)
    webhooks = WebhookDispatcher(
        uow,
        clock,
        WebhookSender(
            allow_private=settings.webhooks_allow_private, timeout=settings.webhook_timeout
        ),
        lease=max(settings.webhook_lease, settings.webhook_timeout * 2),
        retry_scale=settings.webhook_retry_scale,
    )
    return Runtime(
        settings, db, services, issuer, verifier, registry, keys, providers, fulfilment, webhooks
    )


async def _sweep_forever(runtime: Runtime, interval: float) -> None:
    while True:
        await asyncio.sleep(interval)
        try:
            report = await run_sweeps(runtime.services.uow, runtime.services.clock)
            if report.did_anything:
                log.info("sweep: %s", report.summary)
        except Exception:
            log.exception("sweep failed; will retry")


async def fulfil_forever(runtime: Runtime, interval: float) -> None:
    """Fulfilment rounds until cancelled: right away while there is work, else each
    `interval` seconds."""
    assert runtime.fulfilment is not None
    while True:
        try:
            attempted = await runtime.fulfilment.run_due()
        except Exception:
            log.exception("fulfilment round failed; will retry")
            attempted = 0
        if not attempted:
            await asyncio.sleep(interval)


async def sequence_forever(runtime: Runtime, interval: float) -> None:
    """Number committed events in commit order (the feed and webhooks read them by it)."""
    while True:
        try:
            await sequence_events(runtime.services.uow)
        except Exception:
            log.exception("event sequencing failed; will retry")
        await asyncio.sleep(interval)


async def process_orders_forever(runtime: Runtime, interval: float) -> None:
    """Process stored store webhooks: right away while there are some, else each
    `interval` seconds."""
    processor = InboundProcessor(runtime.services.uow, runtime.services.clock)
    while True:
        try:
            handled = await processor.run_due()
        except Exception:
            log.exception("inbound round failed; will retry")
            handled = 0
        if not handled:
            await asyncio.sleep(interval)


async def shutdown(runtime: Runtime) -> None:
    """Stop what the lifespan started, each step bounded: never wait forever on anything."""
    settings = runtime.settings
    await runtime.services.tasks.close(
        grace=settings.shutdown_timeout, cancel_wait=settings.shutdown_timeout
    )
    try:
        async with asyncio.timeout(settings.shutdown_timeout):
            await runtime.verifier.aclose()
    except TimeoutError:
        log.error("the JWKS client did not close within %.0f s", settings.shutdown_timeout)
    if runtime.providers is not None:
        await runtime.providers.aclose()
    if runtime.webhooks is not None:
        try:
            async with asyncio.timeout(settings.shutdown_timeout):
                await runtime.webhooks.aclose()
        except TimeoutError:
            log.error("webhook sends did not stop within %.0f s", settings.shutdown_timeout)
    await runtime.db.dispose(limit=settings.shutdown_timeout)
    guard = runtime.services.guard
    if guard is not None:
        try:
            async with asyncio.timeout(settings.shutdown_timeout):
                await guard.buckets.close()
        except TimeoutError:
            log.error("the rate-limit store did not close within %.0f s", settings.shutdown_timeout)


def create_app(settings: Settings | None = None, *, clock: Clock | None = None) -> Starlette:
    settings = settings or Settings()
    runtime = build_runtime(settings, clock=clock)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        tasks = runtime.services.tasks
        tasks.open()
        FeedListener(
            runtime.db, runtime.services.feed, tasks, poll_interval=settings.feed_poll_interval
        ).start()
        if settings.sweep_interval > 0:
            tasks.service(_sweep_forever(runtime, settings.sweep_interval), name="tally-sweeper")
        if settings.events_interval > 0:
            tasks.service(sequence_forever(runtime, settings.events_interval), name="tally-events")
        if settings.webhook_interval > 0 and runtime.webhooks is not None:
            tasks.service(
                deliver_forever(runtime.webhooks, settings.webhook_interval),
                name="tally-webhooks",
            )
        if settings.inbound_interval > 0:
            tasks.service(
                process_orders_forever(runtime, settings.inbound_interval), name="tally-orders-in"
            )
        if settings.fulfilment_interval > 0:
            tasks.service(
                fulfil_forever(runtime, settings.fulfilment_interval), name="tally-fulfilment"
            )
        try:
            yield
        finally:
            await shutdown(runtime)

    async def healthz(request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    async def readyz(request: Request) -> JSONResponse:
        try:
            async with runtime.db.read_engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
            current = await current_revision(runtime.db.read_engine)
        except Exception as error:  # noqa: BLE001 - any failure means not ready
            log.warning("readyz: database unreachable: %s", error)
            return JSONResponse({"status": "unavailable", "database": "unreachable"}, 503)
        head = head_revision()
        if current != head:
            return JSONResponse(
                {"status": "unavailable", "migrations": {"current": current, "head": head}}, 503
            )
        return JSONResponse({"status": "ok", "migrations": {"current": current}})

    graphql = TallyGraphQL(
        runtime.services,
        runtime.verifier,
        subscription_protocols=[GRAPHQL_TRANSPORT_WS_PROTOCOL],
        keep_alive=True,
        keep_alive_interval=15,
        connection_init_wait_timeout=timedelta(seconds=10),
        # Our page (app/graphql/ide), or none: TALLY_GRAPHIQL, off by default in production.
        graphql_ide="graphiql" if settings.serves_graphiql else None,
        # Browsers send Origin: in production only the listed origins (and the same
        # origin) may open a socket; development takes any. Apps without Origin pass.
        allowed_origins=settings.cors_origins if settings.production else ["*"],
    )
    graphql.graphql_transport_ws_handler_class = TallySocketHandler.configured(
        socket_rules(settings), SocketRegistry()
    )
    routes: list[BaseRoute] = [
        Route("/healthz", healthz),
        Route("/readyz", readyz),
    ]
    assert runtime.providers is not None
    routes += provider_hook_routes(runtime.services.uow, runtime.services.clock, runtime.providers)
    routes += order_hook_routes(runtime.services.uow, runtime.services.clock)
    if runtime.issuer is not None:
        routes += auth_routes(
            registry=runtime.registry,
            issuer=runtime.issuer,
            public_keys=public_jwks(runtime.keys) if runtime.keys is not None else None,
            token_ttl=settings.token_ttl,
        )
    gated = BearerAuth(graphql, runtime.verifier, page=settings.serves_graphiql)
    bounded = RequestBounds(
        gated, max_body_bytes=settings.max_body_bytes, timeout=settings.operation_timeout
    )
    routes += [
        Route("/graphql", bounded, methods=["GET", "POST", "OPTIONS"]),
        WebSocketRoute("/graphql", gated),
    ]
    if settings.serves_graphiql:
        routes += ide_asset_routes()
    middleware = []
    if settings.cors_origins:
        middleware.append(
            Middleware(
                CORSMiddleware,
                allow_origins=settings.cors_origins,
                allow_methods=["GET", "POST", "OPTIONS"],
                allow_headers=["Authorization", "Content-Type"],
            )
        )
    app = Starlette(routes=routes, middleware=middleware, lifespan=lifespan)
    app.state.runtime = runtime
    return app
