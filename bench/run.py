"""`make bench`: load a live Tally server on loopback and report latency, throughput, memory.

Starts `uvicorn` on a free local port over a fresh SQLite file (or the database in
TALLY_BENCH_DATABASE_URL), seeds members, then runs bounded scenarios with a fixed number
of concurrent clients for a fixed time each. Writes bench/results/report.{md,json}.
Only 127.0.0.1 is ever contacted.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import websockets

from app.auth.keys import load_or_create_keys
from app.auth.tokens import TokenIssuer
from app.ledger.migrate import upgrade

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
ISSUER, AUDIENCE = "http://bench.tally", "tally"
VIEWER = (
    "{ viewer { balance { available pending held version } tier { current { key } progress } } }"
)
PURCHASE = """mutation($k: String!, $i: RecordPurchaseInput!) {
  recordPurchase(idempotencyKey: $k, input: $i) { pointsEarned userErrors { code } } }"""
ENROLL = """mutation($k: String!, $i: EnrollMemberInput!) {
  enrollMember(idempotencyKey: $k, input: $i) { member { id } userErrors { code } } }"""
SUBSCRIBE = "subscription { balanceChanged { version delta } }"


@dataclass
class Result:
    scenario: str
    requests: int
    errors: int
    seconds: float
    per_second: float
    p50_ms: float
    p95_ms: float
    p99_ms: float


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _summary(name: str, latencies: list[float], errors: int, seconds: float) -> Result:
    ordered = sorted(latencies) or [0.0]

    def pct(p: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(p * len(ordered)))] * 1000, 2)

    return Result(
        name,
        len(latencies),
        errors,
        round(seconds, 2),
        round(len(latencies) / seconds, 1),
        pct(0.5),
        pct(0.95),
        pct(0.99),
    )


async def _load(
    name: str, clients: int, seconds: float, call: Callable[[int, int], Awaitable[bool]]
) -> Result:
    latencies: list[float] = []
    errors = 0
    deadline = time.perf_counter() + seconds

    async def worker(w: int) -> None:
        nonlocal errors
        n = 0
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            ok = await call(w, n)
            latencies.append(time.perf_counter() - started)
            errors += 0 if ok else 1
            n += 1

    started = time.perf_counter()
    await asyncio.gather(*(worker(w) for w in range(clients)))
    return _summary(name, latencies, errors, time.perf_counter() - started)


async def _push_latency(
    base: str, member_token: str, partner_token: str, member: str, changes: int
) -> Result:
    """Time from a purchase's HTTP answer to the subscriber receiving that change."""
    url = base.replace("http", "ws") + "/graphql"
    latencies: list[float] = []
    async with (
        websockets.connect(url, subprotocols=["graphql-transport-ws"]) as ws,
        httpx.AsyncClient(base_url=base, timeout=30) as http,
    ):
        await ws.send(
            json.dumps(
                {"type": "connection_init", "payload": {"Authorization": f"Bearer {member_token}"}}
            )
        )
        assert json.loads(await ws.recv())["type"] == "connection_ack"
        await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": SUBSCRIBE}}))
        await asyncio.sleep(0.2)
        for n in range(changes):
            answered = time.perf_counter()
            response = await http.post(
                "/graphql",
                headers={"Authorization": f"Bearer {partner_token}"},
                json={
                    "query": PURCHASE,
                    "variables": {
                        "k": f"push-{n}",
                        "i": {
                            "externalId": member,
                            "orderId": f"push-{n}",
                            "amount": "5",
                            "currency": "EUR",
                            "occurredAt": datetime.now(UTC).isoformat(),
                        },
                    },
                },
            )
            answered = time.perf_counter()
            assert response.status_code == 200
            while True:
                message = json.loads(await asyncio.wait_for(ws.recv(), 10))
                if message.get("type") == "next":
                    break
            latencies.append(time.perf_counter() - answered)
    return _summary(
        "push: purchase answered -> subscriber has it", latencies, 0, sum(latencies) or 1
    )


PAGE = "activity(first: 100) { edges { node { points reason } } }"
ESTIMATE = (
    'estimatePoints(input: { amount: "10", currency: "EUR", lines: ['
    + ", ".join(f'{{ sku: "s{n}", quantity: 1, unitPrice: "1" }}' for n in range(50))
    + "] }) { points }"
)
#: The requests of issue 8 that pinned the server, each as it was found.
ATTACKS: dict[str, str] = {
    "1000 aliased viewer pages (67 KB)": "{ "
    + " ".join(f"a{i}: viewer {{ {PAGE} }}" for i in range(1000))
    + " }",
    "100 aliased viewer pages": "{ "
    + " ".join(f"a{i}: viewer {{ {PAGE} }}" for i in range(100))
    + " }",
    "1000 aliased estimatePoints, 50 lines": "{ "
    + " ".join(f"a{i}: {ESTIMATE}" for i in range(1000))
    + " }",
    "30 aliased estimatePoints, 50 lines": "{ "
    + " ".join(f"a{i}: {ESTIMATE}" for i in range(30))
    + " }",
    "100,000 x __typename (1.9 MB)": "{ " + " ".join(["__typename"] * 100_000) + " }",
    "10 MB body": "{ viewer { id } } #" + "x" * 10_000_000,
    "fragments doubling 60 times (2^60 fields)": "{ viewer { ...F0 } } "
    + "".join(f"fragment F{i} on Member {{ ...F{i + 1} ...F{i + 1} }} " for i in range(60))
    + "fragment F60 on Member { id }",
    "introspection 40 deep": "{ __schema { types { fields { type "
    + "{ ofType " * 40
    + "{ name }"
    + " }" * 40
    + " } } } }",
}


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def _abuse(
    http: httpx.AsyncClient, pid: int, token: str, repeat: int = 20
) -> list[dict[str, Any]]:
    """The server's CPU time to refuse each attack (target under 20 ms), and the slowest
    /healthz answer while it does."""
    rows: list[dict[str, Any]] = []
    for name, query in ATTACKS.items():
        body = json.dumps({"query": query}).encode()
        health: list[float] = []
        stop = asyncio.Event()

        async def probe(stop: asyncio.Event, health: list[float]) -> None:
            while not stop.is_set():
                began = time.perf_counter()
                await http.get("/healthz")
                health.append(time.perf_counter() - began)
                await asyncio.sleep(0.01)

        prober = asyncio.create_task(probe(stop, health))
        before = _cpu_seconds(pid)
        statuses: set[int] = set()
        for _ in range(repeat):
            r = await http.post(
                "/graphql",
                content=body,
                headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
            )
            statuses.add(r.status_code)
        spent = _cpu_seconds(pid) - before
        stop.set()
        await prober
        rows.append(
            {
                "attack": name,
                "statuses": sorted(statuses),
                "cpu_ms_per_request": round(spent * 1000 / repeat, 2),
                "healthz_max_ms": round(max(health, default=0.0) * 1000, 1),
            }
        )
    return rows


def _rss_kb(pid: int) -> dict[str, int]:
    found: dict[str, int] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(("VmRSS", "VmHWM")):
            key, value = line.split(":", 1)
            found[key] = int(value.split()[0])
    return found


def start_server() -> tuple[subprocess.Popen[bytes], str, TokenIssuer, str]:
    """Migrate a fresh database, apply the demo program, start uvicorn on loopback."""
    work = Path(tempfile.mkdtemp(prefix="tally-bench-"))
    url = os.environ.get("TALLY_BENCH_DATABASE_URL", f"sqlite+aiosqlite:///{work}/bench.db")
    upgrade(url)
    keys_file = work / "jwks.json"
    issuer = TokenIssuer(load_or_create_keys(keys_file), ISSUER, AUDIENCE)
    port = _free_port()
    env = {
        **os.environ,
        "TALLY_DATABASE_URL": url,
        "TALLY_KEYS_FILE": str(keys_file),
        "TALLY_ISSUER": ISSUER,
        "TALLY_AUDIENCE": AUDIENCE,
        "TALLY_SWEEP_INTERVAL": "0",
        "TALLY_ENV": "test",
    }
    subprocess.run(
        [
            sys.executable,
            "-m",
            "app.cli",
            "program",
            "apply",
            str(ROOT / "app" / "programs" / "demo.toml"),
        ],
        env=env,
        check=True,
        capture_output=True,
    )
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            "app.main:create_app",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
            "--no-access-log",
        ],
        env=env,
        cwd=ROOT,
    )
    return server, f"http://127.0.0.1:{port}", issuer, url


async def scenarios(
    server: subprocess.Popen[bytes],
    base: str,
    issuer: TokenIssuer,
    url: str,
    seconds: float,
    clients: int,
    members: int,
) -> dict[str, Any]:
    try:
        async with httpx.AsyncClient(base_url=base, timeout=30) as http:
            for _ in range(100):
                try:
                    if (await http.get("/healthz")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.1)
            partner = issuer.mint(
                subject="bench",
                client_id="bench",
                scopes=["members:read", "members:write", "points:write", "rewards:read"],
            )
            auth = {"Authorization": f"Bearer {partner}"}
            for m in range(members):
                await http.post(
                    "/graphql",
                    headers=auth,
                    json={
                        "query": ENROLL,
                        "variables": {"k": f"enroll-{m}", "i": {"externalId": f"bench-{m}"}},
                    },
                )
            member_tokens = [
                issuer.mint(subject=f"bench-{m}", scopes=["loyalty:read"]) for m in range(members)
            ]

            async def viewer(w: int, n: int) -> bool:
                token = member_tokens[(w + n) % members]
                r = await http.post(
                    "/graphql", headers={"Authorization": f"Bearer {token}"}, json={"query": VIEWER}
                )
                return r.status_code == 200 and "errors" not in r.json()

            async def purchase(w: int, n: int) -> bool:
                r = await http.post(
                    "/graphql",
                    headers=auth,
                    json={
                        "query": PURCHASE,
                        "variables": {
                            "k": f"p-{w}-{n}",
                            "i": {
                                "externalId": f"bench-{(w * 7 + n) % members}",
                                "orderId": f"o-{w}-{n}",
                                "amount": "12.34",
                                "currency": "EUR",
                                "occurredAt": datetime.now(UTC).isoformat(),
                            },
                        },
                    },
                )
                body = r.json()
                return r.status_code == 200 and not body["data"]["recordPurchase"]["userErrors"]

            results = [
                await _load("query: viewer balance + tier", clients, seconds, viewer),
                await _load("mutation: recordPurchase", clients, seconds, purchase),
                await _push_latency(base, member_tokens[0], partner, "bench-0", 50),
            ]
            batches = await _batches(http, auth, members, batches=5, size=100)
            abuse = await _abuse(http, server.pid, member_tokens[0])
        memory = _rss_kb(server.pid)
    finally:
        server.terminate()
        server.wait(timeout=10)
    backend = url.split(":", 1)[0]
    return {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "backend": backend,
        "clients": clients,
        "seconds_per_scenario": seconds,
        "members": members,
        "server_memory_kb": memory,
        "results": [asdict(r) for r in results],
        "abuse": abuse,
        "batches": batches,
    }


BATCH = """
mutation($inputs: [RecordPurchaseBatchInput!]!) {
  recordPurchases(inputs: $inputs) { recorded userErrors { code } }
}"""


async def _batches(
    http: httpx.AsyncClient, auth: dict[str, str], members: int, *, batches: int, size: int
) -> dict[str, Any]:
    """A till back online: `batches` recordPurchases calls of `size` sales, one after the
    other; items per second, each durable when its batch is answered."""
    recorded, started = 0, time.perf_counter()
    for b in range(batches):
        inputs = [
            {
                "idempotencyKey": f"batch-{b}-{n}",
                "externalId": f"bench-{n % members}",
                "orderId": f"batch-{b}-{n}",
                "amount": "9.99",
                "currency": "EUR",
                "occurredAt": datetime.now(UTC).isoformat(),
            }
            for n in range(size)
        ]
        r = await http.post(
            "/graphql", headers=auth, json={"query": BATCH, "variables": {"inputs": inputs}}
        )
        if r.status_code == 200 and "errors" not in r.json():
            recorded += int(r.json()["data"]["recordPurchases"]["recorded"])
    seconds = time.perf_counter() - started
    return {
        "batches": batches,
        "size": size,
        "recorded": recorded,
        "items_per_second": round(recorded / seconds, 1) if seconds else 0.0,
    }


def write_report(report: dict[str, Any]) -> str:
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "report.json").write_text(json.dumps(report, indent=2))
    lines = [
        f"# Tally bench ({report['backend']}, {report['clients']} clients, {report['when']})",
        "",
        "| scenario | requests | errors | req/s | p50 ms | p95 ms | p99 ms |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in report["results"]:
        lines.append(
            f"| {r['scenario']} | {r['requests']} | {r['errors']} | {r['per_second']} | "
            f"{r['p50_ms']} | {r['p95_ms']} | {r['p99_ms']} |"
        )
    lines += [
        "",
        "Abuse: server CPU to refuse each request of issue 8 (target under 20 ms), and the",
        "slowest /healthz answer meanwhile.",
        "",
        "| request | answered | CPU ms each | /healthz max ms |",
        "|---|---|---|---|",
    ]
    for a in report.get("abuse", []):
        answered = ", ".join(str(s) for s in a["statuses"])
        lines.append(
            f"| {a['attack']} | {answered} | {a['cpu_ms_per_request']} | {a['healthz_max_ms']} |"
        )
    batch = report.get("batches")
    if batch:
        lines += [
            "",
            f"POS batches: {batch['batches']} x recordPurchases of {batch['size']}: "
            f"{batch['recorded']} recorded, {batch['items_per_second']} purchases/s "
            "(target: 2,000/s on PostgreSQL, 1,000/s on SQLite).",
        ]
    mem = report["server_memory_kb"]
    lines += [
        "",
        f"Server memory: RSS {mem.get('VmRSS', 0) // 1024} MiB, "
        f"peak {mem.get('VmHWM', 0) // 1024} MiB.",
    ]
    text = "\n".join(lines) + "\n"
    (RESULTS / "report.md").write_text(text)
    return text


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--members", type=int, default=200)
    args = parser.parse_args()
    server, base, issuer, url = start_server()
    report = asyncio.run(
        scenarios(server, base, issuer, url, args.seconds, args.clients, args.members)
    )
    print(write_report(report))
