"""`tally`: serve, migrate, program apply, client create|list|revoke|rotate-secret, token,
sweep, dev, sandbox giftcard."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import json
import sys
import uuid
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from pathlib import Path

from app.auth.clients import parse_rate
from app.auth.scopes import ALL_SCOPES, MEMBER_SCOPES, format_scopes, parse_scopes
from app.domain.errors import DomainError, ProgramInvalid
from app.domain.ids import global_id as to_global_id
from app.domain.published import EventType
from app.domain.reward_codes import MAX_IMPORT
from app.events.webhook_client import new_secret
from app.fulfilment.sandbox.serve import add_sandbox_commands, run_sandbox
from app.ledger.migrate import upgrade
from app.main import (
    Runtime,
    build_runtime,
    fulfil_forever,
    process_orders_forever,
    sequence_forever,
)
from app.services.audit import operator, record_operator_write
from app.services.catalog import ImportRewardCodes, import_reward_codes
from app.services.events import all_events, sequence_events
from app.services.inbound import save_source
from app.services.program import apply_program, load_program_file
from app.services.sweeps import run_sweeps
from app.services.webhook_delivery import deliver_forever
from app.services.webhooks import CreateEndpoint, create_webhook_endpoint
from app.settings import Settings


def _serve(settings: Settings) -> None:
    import uvicorn

    from app.main import create_app

    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level,
        # Open requests and sockets get this long to finish at shutdown, then are closed.
        timeout_graceful_shutdown=max(1, round(settings.shutdown_timeout)),
    )


def _migrate(settings: Settings) -> None:
    upgrade(settings.database_url)
    print(f"migrated {settings.database_url}")


async def _audited(
    runtime: Runtime, operation: str, outcome: str, client: str | None = None
) -> None:
    """Every write a command makes is in the audit trail, as the API's are."""
    services = runtime.services
    await record_operator_write(
        services.uow, services.clock, operation=operation, outcome=outcome, client_id=client
    )


async def _apply(runtime: Runtime, path: Path) -> int:
    try:
        data = load_program_file(path)
    except ProgramInvalid as error:
        print(error, file=sys.stderr)
        await _audited(runtime, "program apply", "PROGRAM_INVALID")
        return 2
    applied = await apply_program(runtime.services.uow, runtime.services.clock, data)
    await _audited(runtime, "program apply", "OK" if applied.changed else "UNCHANGED")
    if not applied.changed:
        print(f"program unchanged (version {applied.version} is active)")
    else:
        print(f"activated program version {applied.version}: {applied.program.name}")
        for line in applied.diff:
            print(f"  {line}")
    return 0


async def _client_create(runtime: Runtime, name: str, scopes: str, rate: str | None) -> int:
    """Prints shell lines: `eval "$(tally client create ...)"` sets CLIENT_ID and
    CLIENT_SECRET."""
    granted = parse_scopes(scopes)
    bucket = parse_rate(rate) if rate else None
    client_id, secret = await runtime.registry.create(
        name=name, scopes=frozenset(granted), now=runtime.services.clock.now(), rate=bucket
    )
    await _audited(runtime, "client create", "OK", client_id)
    print(f"export CLIENT_ID={client_id}")
    print(f"export CLIENT_SECRET={secret}  # shown once; stored hashed")
    print(f"# scopes: {format_scopes(set(granted))}")
    if bucket:
        print(f"# rate: {bucket[0]} cost points, {bucket[1]:g} restored per second")
    return 0


async def _import_codes(runtime: Runtime, reward_key: str, path: Path) -> int:
    """A file of codes, one per line, into a POOL reward, in calls of MAX_IMPORT lines. The
    keys come from the file's content: importing the same file again changes nothing."""
    services = runtime.services
    async with services.uow.read() as r:
        page = await r.rewards_page(after=0, limit=10_000, active_only=False)
    found = next((w for w in page.items if w.key == reward_key), None)
    if found is None:
        print(f"tally: no reward {reward_key}", file=sys.stderr)
        return 2
    try:
        text = await asyncio.to_thread(path.read_text, encoding="utf-8")
    except (OSError, UnicodeDecodeError) as unreadable:
        print(f"tally: cannot read {path}: {unreadable}", file=sys.stderr)
        return 2
    lines = text.splitlines()
    digest = hashlib.sha256("\n".join(lines).encode()).hexdigest()[:24]
    imported, status = 0, 0
    for start in range(0, max(len(lines), 1), MAX_IMPORT):
        outcome = await import_reward_codes(
            services.uow,
            services.clock,
            principal=operator(),
            idempotency_key=f"import-codes:{found.id}:{digest}:{start}",
            cmd=ImportRewardCodes(found.id, tuple(lines[start : start + MAX_IMPORT])),
        )
        if not outcome.ok:
            for problem in outcome.errors:
                print(f"tally: {problem.code.value}: {problem.message}", file=sys.stderr)
            return 2
        done = outcome.value
        imported += done.imported
        for rejected in done.rejected:
            status = 1
            print(f"line {start + rejected.line}: {rejected.code!r}: {rejected.reason}")
    print(
        f"imported {imported} codes into {reward_key}" + (" (a replay)" if outcome.replayed else "")
    )
    return status


async def _client_list(runtime: Runtime) -> int:
    default = runtime.settings.client_rate
    print(f"{'CLIENT_ID':<22} {'STATUS':<8} {'RATE':<14} {'CREATED':<20} NAME / SCOPES")
    for c in await runtime.registry.list():
        status = "revoked" if c.revoked_at else "disabled" if c.disabled else "active"
        capacity, restore = c.rate or default
        rate = f"{capacity}/{restore:g}" + ("" if c.rate else "*")
        created = c.created_at.strftime("%Y-%m-%d %H:%M") if c.created_at else "-"
        print(f"{c.client_id:<22} {status:<8} {rate:<14} {created:<20} {c.name}")
        print(f"{'':<66} {format_scopes(set(c.scopes))}")
    print("(* the default TALLY_CLIENT_RATE)")
    return 0


async def _client_revoke(runtime: Runtime, client_id: str) -> int:
    if not await runtime.registry.revoke(client_id, runtime.services.clock.now()):
        await _audited(runtime, "client revoke", "NOT_FOUND", client_id)
        print(f"tally: no client {client_id}", file=sys.stderr)
        return 2
    await _audited(runtime, "client revoke", "OK", client_id)
    seconds = runtime.settings.client_cache_seconds
    print(f"revoked {client_id}: its tokens stop working within {seconds:g} s")
    return 0


async def _client_rotate(runtime: Runtime, client_id: str) -> int:
    secret = await runtime.registry.rotate_secret(client_id, runtime.services.clock.now())
    if secret is None:
        await _audited(runtime, "client rotate-secret", "NOT_FOUND", client_id)
        print(f"tally: no active client {client_id}", file=sys.stderr)
        return 2
    await _audited(runtime, "client rotate-secret", "OK", client_id)
    print(f"export CLIENT_SECRET={secret}  # shown once; the old secret no longer works")
    return 0


def _token(runtime: Runtime, member: str | None, client: str | None, scopes: str, ttl: int) -> int:
    if runtime.issuer is None:
        print("tokens come from your identity provider (TALLY_JWKS_URL is set)", file=sys.stderr)
        return 2
    granted = format_scopes(set(parse_scopes(scopes)))
    if member:
        print(runtime.issuer.mint(subject=member, scopes=granted.split(), ttl=ttl))
    else:
        assert client
        print(
            runtime.issuer.mint(subject=client, client_id=client, scopes=granted.split(), ttl=ttl)
        )
    return 0


async def _sweep(runtime: Runtime) -> int:
    report = await run_sweeps(runtime.services.uow, runtime.services.clock)
    print(report.summary)
    return 0


async def _worker(runtime: Runtime, interval: float, max_runs: int | None) -> int:
    """Run the sweeps on a schedule, and fulfilment rounds (TALLY_FULFILMENT_INTERVAL)
    beside them. Safe beside `tally serve` or a second worker: jobs are leased."""
    every = runtime.settings.fulfilment_interval
    fulfilling = (
        asyncio.create_task(fulfil_forever(runtime, every)) if every > 0 and not max_runs else None
    )
    events = runtime.settings.events_interval
    sequencing = (
        asyncio.create_task(sequence_forever(runtime, events))
        if events > 0 and not max_runs
        else None
    )
    orders_in = runtime.settings.inbound_interval
    processing = (
        asyncio.create_task(process_orders_forever(runtime, orders_in))
        if orders_in > 0 and not max_runs
        else None
    )
    hooks = runtime.settings.webhook_interval
    delivering = (
        asyncio.create_task(deliver_forever(runtime.webhooks, hooks))
        if hooks > 0 and runtime.webhooks is not None and not max_runs
        else None
    )
    runs = 0
    try:
        while max_runs is None or runs < max_runs:
            if runs:
                await asyncio.sleep(interval)
            report = await run_sweeps(runtime.services.uow, runtime.services.clock)
            print(f"sweep: {report.summary}", flush=True)
            runs += 1
    finally:
        for task in (fulfilling, sequencing, delivering, processing):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
    return 0


async def _webhook_add(runtime: Runtime, url: str, events: str, description: str) -> int:
    tools = runtime.services.webhooks
    assert tools is not None
    done = await create_webhook_endpoint(
        runtime.services.uow,
        runtime.services.clock,
        principal=operator(),
        idempotency_key=f"cli-webhook-{uuid.uuid4()}",
        cmd=CreateEndpoint(
            url=url,
            event_types=tuple(t for t in events.split(",") if t.strip()),
            description=description,
        ),
        check_url=tools.check_url,
        new_secret=tools.new_secret,
    )
    if not done.ok:
        for error in done.errors:
            print(f"tally: {error.message}", file=sys.stderr)
        return 2
    await record_operator_write(
        runtime.services.uow,
        runtime.services.clock,
        operation="createWebhookEndpoint",
        outcome="OK",
    )
    print(f"ENDPOINT_ID={to_global_id('WebhookEndpoint', done.value.endpoint_id)}")
    print(f"WEBHOOK_SECRET={done.value.secret}")
    print("# the secret is shown once: verify deliveries with it", file=sys.stderr)
    return 0


async def _source_add(
    runtime: Runtime, name: str, kind: str, secret: str | None, enroll_unknown: bool
) -> int:
    made = secret is None and kind == "standard"
    if secret is None:
        if kind == "shopify":
            print("tally: a Shopify source needs --secret (the shop's)", file=sys.stderr)
            return 2
        secret = new_secret()
    try:
        await save_source(
            runtime.services.uow,
            runtime.services.clock,
            name=name,
            kind=kind,
            secret=secret,
            enroll_unknown=enroll_unknown,
        )
    except DomainError as error:
        print(f"tally: {error.message}", file=sys.stderr)
        return 2
    await record_operator_write(
        runtime.services.uow, runtime.services.clock, operation="source add", outcome="OK"
    )
    if kind == "shopify":
        print(f"order source {name}: POST /hooks/shopify/{name} (orders/paid, refunds/create)")
    else:
        print(f"order source {name}: POST /hooks/orders/{name} (order.paid, order.refunded)")
    if made:
        print(f"SOURCE_SECRET={secret}")
    return 0


async def _webhook_list(runtime: Runtime) -> int:
    page = await runtime.services.queries.webhook_endpoints(after=0, limit=1000)
    for e in page.items:
        types = ",".join(t.value for t in e.event_types) or "all"
        print(f"{to_global_id('WebhookEndpoint', e.id)}  {e.status.value:<8}  {e.url}  {types}")
    return 0


async def _export_events(runtime: Runtime, since: str | None, types: str | None) -> int:
    """Every published event (from `since`, an ISO date-time) as NDJSON on stdout."""
    start = None
    if since is not None:
        start = datetime.fromisoformat(since)
        if start.tzinfo is None:
            raise ValueError("--since needs a UTC offset, e.g. 2026-12-01T00:00:00+00:00")
    wanted = None
    if types:
        try:
            wanted = {EventType(t.strip()) for t in types.split(",") if t.strip()}
        except ValueError:
            known = ", ".join(t.value for t in EventType)
            raise ValueError(f"--types takes a comma-separated list of: {known}") from None
    await sequence_events(runtime.services.uow)
    count = 0
    async for event in all_events(runtime.services.uow, since=start, types=wanted):
        sys.stdout.write(json.dumps(event.as_message(), separators=(",", ":")) + "\n")
        count += 1
    sys.stdout.flush()
    print(f"exported {count} events", file=sys.stderr)
    return 0


async def _seeded(runtime: Runtime, seed: Callable[[Runtime], Awaitable[None]]) -> int:
    await seed(runtime)
    print("seeded the demo program and members")
    return 0


async def _run(runtime: Runtime, coro_factory: object) -> int:
    try:
        assert callable(coro_factory)
        result = await coro_factory()
        return int(result)
    finally:
        await runtime.verifier.aclose()
        if runtime.providers is not None:
            await runtime.providers.aclose()
        await runtime.db.dispose()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tally", description="Tally loyalty engine")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("serve", help="serve the API (TALLY_HOST, TALLY_PORT)")
    sub.add_parser("migrate", help="migrate the database to the latest schema")
    sub.add_parser("sweep", help="release due pending points and expire due lots, once")
    sub.add_parser("seed", help="apply the demo program and enroll demo members (idempotent)")
    worker = sub.add_parser(
        "worker",
        help="run the sweeps every TALLY_SWEEP_INTERVAL seconds, and fulfilment after commit",
    )
    worker.add_argument("--max-runs", type=int, default=None, help=argparse.SUPPRESS)
    sub.add_parser(
        "dev", help="migrate, apply the demo program, seed demo data, print tokens, serve"
    )
    program = sub.add_parser("program", help="program definitions").add_subparsers(
        dest="action", required=True
    )
    apply = program.add_parser("apply", help="validate a TOML program, show the diff, activate it")
    apply.add_argument("file", type=Path)
    client = sub.add_parser("client", help="partner OAuth clients").add_subparsers(
        dest="action", required=True
    )
    create = client.add_parser("create", help="register a client_credentials client")
    create.add_argument("--name", default="partner")
    create.add_argument("--scopes", required=True, help='e.g. "points:write members:read"')
    create.add_argument(
        "--rate", default=None, help="its own bucket, CAPACITY/RESTORE per second: 50000/5000"
    )
    client.add_parser("list", help="every client: status, rate, scopes")
    revoke = client.add_parser("revoke", help="revoke a client: its tokens stop working")
    revoke.add_argument("client_id")
    rotate = client.add_parser("rotate-secret", help="a new secret; the old one stops at once")
    rotate.add_argument("client_id")
    reward = sub.add_parser("reward", help="the reward catalog").add_subparsers(
        dest="action", required=True
    )
    codes = reward.add_parser("import-codes", help="a file of codes (one a line) into a pool")
    codes.add_argument("--reward", required=True, help="the POOL reward's key")
    codes.add_argument("file", type=Path)
    token = sub.add_parser("token", help="mint a development access token")
    who = token.add_mutually_exclusive_group(required=True)
    who.add_argument("--member", help="the member's external id")
    who.add_argument("--client", help="a client id (partner token)")
    token.add_argument("--scopes", default=None, help="space-separated scopes")
    token.add_argument("--ttl", type=int, default=3600)
    events = sub.add_parser("events", help="the published event feed").add_subparsers(
        dest="action", required=True
    )
    export = events.add_parser("export", help="every event as NDJSON on stdout")
    export.add_argument("--since", help="from this ISO date-time with offset (default: all)")
    export.add_argument("--types", help="only these, comma separated (points.earned,...)")
    webhook = sub.add_parser("webhook", help="webhook endpoints").add_subparsers(
        dest="action", required=True
    )
    add = webhook.add_parser("add", help="add an endpoint; prints its secret, once")
    add.add_argument("url")
    add.add_argument("--events", default="", help="event types, comma separated (default: all)")
    add.add_argument("--description", default="")
    webhook.add_parser("list", help="every endpoint: id, status, url, event types")
    source = sub.add_parser("source", help="stores that send orders as webhooks").add_subparsers(
        dest="action", required=True
    )
    shop = source.add_parser("add", help="add (or change) a store that sends order webhooks")
    shop.add_argument("name", help="its name, in its webhook URL")
    shop.add_argument(
        "--kind",
        choices=["shopify", "standard"],
        default="shopify",
        help="shopify: /hooks/shopify/NAME; standard: /hooks/orders/NAME (Tally's format)",
    )
    shop.add_argument(
        "--secret", help="the signing secret (shopify: required; standard: made if not given)"
    )
    shop.add_argument(
        "--enroll-unknown", action="store_true", help="enroll customers Tally does not know"
    )
    sandbox = sub.add_parser("sandbox", help="provider sandboxes for tests and the demo")
    add_sandbox_commands(sandbox.add_subparsers(dest="sandbox", required=True))
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "sandbox":  # a provider of its own: no database, no settings
        return run_sandbox(args)
    settings = Settings()
    if args.command == "serve":
        _serve(settings)
        return 0
    if args.command == "migrate":
        _migrate(settings)
        return 0
    if args.command == "dev":
        from app.devserver import run_dev

        return run_dev(settings)
    runtime = build_runtime(settings)
    try:
        if args.command == "program":
            return asyncio.run(_run(runtime, lambda: _apply(runtime, args.file)))
        if args.command == "reward":
            return asyncio.run(
                _run(runtime, lambda: _import_codes(runtime, args.reward, args.file))
            )
        if args.command == "client":
            actions: dict[str, Callable[[], Awaitable[int]]] = {
                "create": lambda: _client_create(runtime, args.name, args.scopes, args.rate),
                "list": lambda: _client_list(runtime),
                "revoke": lambda: _client_revoke(runtime, args.client_id),
                "rotate-secret": lambda: _client_rotate(runtime, args.client_id),
            }
            return asyncio.run(_run(runtime, actions[args.action]))
        if args.command == "source":
            return asyncio.run(
                _run(
                    runtime,
                    lambda: _source_add(
                        runtime, args.name, args.kind, args.secret, args.enroll_unknown
                    ),
                )
            )
        if args.command == "webhook":
            if args.action == "add":
                return asyncio.run(
                    _run(
                        runtime,
                        lambda: _webhook_add(runtime, args.url, args.events, args.description),
                    )
                )
            return asyncio.run(_run(runtime, lambda: _webhook_list(runtime)))
        if args.command == "events":
            return asyncio.run(
                _run(runtime, lambda: _export_events(runtime, args.since, args.types))
            )
        if args.command == "seed":
            from app.devserver import seed

            return asyncio.run(_run(runtime, lambda: _seeded(runtime, seed)))
        if args.command == "worker":
            interval = settings.sweep_interval or 60.0
            return asyncio.run(_run(runtime, lambda: _worker(runtime, interval, args.max_runs)))
        if args.command == "sweep":
            return asyncio.run(_run(runtime, lambda: _sweep(runtime)))
        if args.command == "token":
            default = MEMBER_SCOPES if args.member else ALL_SCOPES - MEMBER_SCOPES
            scopes = args.scopes or format_scopes(set(default))
            return _token(runtime, args.member, args.client, scopes, args.ttl)
    except ValueError as error:
        print(f"tally: {error}", file=sys.stderr)
        return 2
    return 2


if __name__ == "__main__":
    sys.exit(main())
