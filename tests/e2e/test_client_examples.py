"""The runnable examples in client_examples/, run as subprocesses against a live server."""

from __future__ import annotations

import asyncio
import os
import re
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from app.auth.clients import ClientRegistry
from app.graphql.ids import from_global_id
from app.ledger.database import open_database
from tests.e2e.conftest import ServerPool
from tests.e2e.helpers import enroll, execute, key, purchase
from tests.e2e.server import REPO, LiveServer
from tests.ledger.harness import Ledger

EXAMPLES = REPO / "client_examples"
RUN_TIMEOUT = 30.0

pytestmark = pytest.mark.parametrize("backend", ["sqlite"])


@dataclass
class Ran:
    returncode: int
    stdout: str
    stderr: str

    @property
    def lines(self) -> list[str]:
        return self.stdout.splitlines()


def example_env(server: LiveServer, **values: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TALLY_")}
    env.update({"TALLY_URL": server.base_url, "PYTHONUNBUFFERED": "1", **values})
    return env


async def start_example(script: str, *args: str, env: dict[str, str]) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        str(EXAMPLES / script),
        *args,
        env=env,
        cwd=EXAMPLES,  # no repo imports: the examples stand alone
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def finish(process: asyncio.subprocess.Process, within: float = RUN_TIMEOUT) -> Ran:
    try:
        out, err = await asyncio.wait_for(process.communicate(), within)
    except TimeoutError:
        process.kill()
        out, err = await process.communicate()
        raise AssertionError(f"example timed out:\n{out.decode()}\n{err.decode()}") from None
    assert process.returncode is not None
    return Ran(process.returncode, out.decode(), err.decode())


async def run_example(script: str, *args: str, env: dict[str, str]) -> Ran:
    return await finish(await start_example(script, *args, env=env))


async def test_checkout_estimates_lists_and_redeems_once(servers: ServerPool) -> None:
    (server,) = await servers.astart()
    partner = server.partner_token()
    alice = await enroll(server, partner, "alice")
    await purchase(server, partner, alice["id"], "o-1", "42.90")
    env = example_env(server, TALLY_TOKEN=server.member_token("alice"))
    args = ("--amount", "59.90", "--reward", "coffee", "--idempotency-key", "cart-77")

    first = await run_example("checkout.py", *args, env=env)
    assert first.returncode == 0, first.stderr
    out = first.stdout
    assert "member: alice (42 points)" in out
    assert "estimate: 59 points for 59.90 EUR (base 59 x 1, tier member)" in out
    assert "reward coffee: 10 points, 1 coffee, can redeem" in first.lines
    assert "reward tote: 50 points, tote bag, not now: INSUFFICIENT_POINTS" in first.lines
    assert any(
        line.startswith("reward lounge:") and "TIER_REQUIRED" in line for line in first.lines
    )
    assert "redeemed coffee: 10 points held, status HELD (idempotency key cart-77)" in out
    codes = re.findall(r"^discount code: (\S+) \(1 coffee\)$", out, re.MULTILINE)
    assert len(codes) == 1
    assert "balance: 32 available, 10 held" in first.lines

    # The same key again (a retry after a lost answer): the same redemption and code.
    retry = await run_example("checkout.py", *args, env=env)
    assert retry.returncode == 0, retry.stderr
    assert re.findall(r"^discount code: (\S+)", retry.stdout, re.MULTILINE) == codes
    assert "balance: 32 available, 10 held" in retry.lines

    # A storefront backend with a partner token names the member.
    env = example_env(server, TALLY_TOKEN=partner)
    shop = await run_example("checkout.py", "--member", "alice", "--amount", "10", env=env)
    assert shop.returncode == 0, shop.stderr
    assert "estimate: 10 points for 10 EUR (base 10 x 1, tier member)" in shop.stdout
    assert "redeemed coffee: 10 points held" in shop.stdout
    assert "balance: 22 available, 20 held" in shop.lines


CHECKOUT_PROGRAM = """
[program]
name = "Checkout Club"
currency = "EUR"
points_per_unit = "1"

[[tiers]]
key = "member"
name = "Member"
threshold = 0

[[rewards]]
key = "coffee"
name = "Coffee"
cost = 10
discount = "1 coffee"

[checkout]
points_value = "0.01"
min_points = 100
step = 100
"""
ACTIVATE = """
mutation($definition: String!, $key: String!) {
  activateProgram(definition: $definition, idempotencyKey: $key) { userErrors { code message } }
}"""


async def test_checkout_pays_with_points_and_the_order_spends_the_hold(
    servers: ServerPool,
) -> None:
    (server,) = await servers.astart()
    partner = server.partner_token()
    activated = await execute(
        server, partner, ACTIVATE, {"definition": CHECKOUT_PROGRAM, "key": key()}
    )
    assert activated["activateProgram"]["userErrors"] == []
    alice = await enroll(server, partner, "alice")
    await purchase(server, partner, alice["id"], "o-1", "1000")  # 1000 points
    env = example_env(server, TALLY_TOKEN=partner)
    args = ("--member", "alice", "--amount", "20.00", "--cart", "cart-9")

    paid = await run_example(
        "checkout.py", *args, "--pay-with-points", "500", "--order", "web-9", env=env
    )
    assert paid.returncode == 0, paid.stdout + paid.stderr
    assert "points at checkout: up to 1000 points, 10.00 EUR off (in steps of 100)" in paid.lines
    assert any(
        line.startswith("points applied: 500 points take 5.00 EUR off (code TLY-")
        for line in paid.lines
    )
    assert "to pay: 15.00 EUR" in paid.lines
    assert "order web-9 paid: 5.00 EUR with points, earned 15 points" in paid.lines
    assert paid.lines[-1] == "balance: 515 available, 0 held"

    # A member's own app holds points for its next cart, then gives them back.
    member = example_env(server, TALLY_TOKEN=server.member_token("alice"))
    mine = ("--amount", "8.00", "--cart", "cart-10")
    held = await run_example("checkout.py", *mine, "--pay-with-points", "300", env=member)
    assert held.returncode == 0, held.stdout + held.stderr
    assert "balance: 215 available, 300 held" in held.lines
    over = await run_example("checkout.py", *mine, "--pay-with-points", "900", env=member)
    assert over.returncode == 1
    assert any(line.startswith("cannot apply points: INVALID_INPUT") for line in over.lines)
    released = await run_example("checkout.py", *mine, "--release", env=member)
    assert released.returncode == 0, released.stdout + released.stderr
    assert released.lines[-2:] == [
        "released 300 points of cart cart-10",
        "balance: 515 available, 0 held",
    ]


async def test_till_scans_a_code_and_uses_it_once(servers: ServerPool) -> None:
    (server,) = await servers.astart()
    partner = server.partner_token()
    alice = await enroll(server, partner, "alice")
    await purchase(server, partner, alice["id"], "o-1", "42.90")
    member = example_env(server, TALLY_TOKEN=server.member_token("alice"))
    bought = await run_example("checkout.py", "--reward", "coffee", env=member)
    [code] = re.findall(r"^discount code: (\S+)", bought.stdout, re.MULTILINE)
    env = example_env(server, TALLY_TOKEN=partner)

    look = await run_example("till.py", code, "--look", env=env)
    assert look.returncode == 0, look.stderr
    assert look.lines == [f"code {code}: 1 coffee (coffee), HELD"]
    used = await run_example("till.py", f" {code} ", "--idempotency-key", "scan-1", env=env)
    assert used.returncode == 0, used.stderr
    assert "used: 10 points spent, status FULFILLED" in used.lines
    again = await run_example("till.py", code, env=env)
    assert again.returncode == 1
    assert "cannot use it: it is FULFILLED" in again.lines
    unknown = await run_example("till.py", "TLY-0000-0000-0000", env=env)
    assert unknown.returncode == 1
    assert "not issued by Tally" in unknown.stdout


async def test_partner_pos_gets_a_token_enrolls_buys_and_returns(
    db_url: str, servers: ServerPool
) -> None:
    db = open_database(db_url)
    try:
        client_id, secret = await ClientRegistry(db).create(
            name="till", scopes=frozenset({"members:write", "points:write"}), now=datetime.now(UTC)
        )
    finally:
        await db.dispose()
    (server,) = await servers.astart()
    env = example_env(server, TALLY_CLIENT_ID=client_id, TALLY_CLIENT_SECRET=secret)
    args = (
        "--member", "cust-1", "--order", "till-1", "--amount", "25.00",
        "--occurred-at", datetime.now(UTC).isoformat(), "--return-amount", "5.00",
    )  # fmt: skip

    first = await run_example("partner_pos.py", *args, env=env)
    assert first.returncode == 0, first.stderr
    assert first.lines[0].startswith("token: Bearer, expires in ")
    assert first.lines[0].endswith("members:write points:write")
    assert re.fullmatch(r"member cust-1: enrolled as \S+", first.lines[1])
    assert first.lines[2:] == [
        "purchase till-1: +25 points, balance 25 available",
        "retry of purchase till-1: same answer",
        "return till-1 (5.00 EUR): -5 points, shortfall 0, balance 20 available",
    ]

    # The till runs again with the same sale: every write replays its first answer.
    again = await run_example("partner_pos.py", *args, env=env)
    assert again.returncode == 0, again.stderr
    assert again.lines[1:] == first.lines[1:]

    bad = example_env(server, TALLY_CLIENT_ID=client_id, TALLY_CLIENT_SECRET="wrong")
    refused = await run_example("partner_pos.py", *args, env=bad)
    assert refused.returncode == 1
    assert "token request failed (401)" in refused.stderr


async def test_partner_pos_queues_sales_offline_and_sends_them_as_a_batch(
    db_url: str, servers: ServerPool, tmp_path: Path
) -> None:
    db = open_database(db_url)
    try:
        client_id, secret = await ClientRegistry(db).create(
            name="till", scopes=frozenset({"members:write", "points:write"}), now=datetime.now(UTC)
        )
    finally:
        await db.dispose()
    queue = tmp_path / "sales.jsonl"
    offline = {
        "TALLY_URL": "http://127.0.0.1:9",  # nothing listens: the till is offline
        "TALLY_CLIENT_ID": client_id,
        "TALLY_CLIENT_SECRET": secret,
        "PYTHONUNBUFFERED": "1",
    }
    for n in range(3):
        sale = ("--queue", str(queue), "--member", "cust-9", "--order", f"off-{n}",
                "--amount", "10.00", "--occurred-at", datetime.now(UTC).isoformat())  # fmt: skip
        ran = await run_example("partner_pos.py", *sale, env=offline)
        assert ran.returncode == 0, ran.stdout + ran.stderr
        assert f"queued off-{n} ({n + 1} in the queue)" in ran.lines
        assert any("Tally unreachable" in line for line in ran.lines)
    assert len(queue.read_text().splitlines()) == 3

    (server,) = await servers.astart()
    env = example_env(server, TALLY_CLIENT_ID=client_id, TALLY_CLIENT_SECRET=secret)
    partner = server.partner_token()
    await enroll(server, partner, "cust-9")
    sent = await run_example("partner_pos.py", "--queue", str(queue), "--flush", env=env)
    assert sent.returncode == 0, sent.stdout + sent.stderr
    assert [line for line in sent.lines if line.startswith("sent ")] == [
        "sent off-0: +10 points",
        "sent off-1: +10 points",
        "sent off-2: +10 points",
    ]
    assert "batch: 3 recorded, 0 refused" in sent.lines
    assert queue.read_text() == ""
    again = await run_example("partner_pos.py", "--queue", str(queue), "--flush", env=env)
    assert "queue: empty" in again.lines


async def read_line(process: asyncio.subprocess.Process) -> str:
    assert process.stdout is not None
    line = await asyncio.wait_for(process.stdout.readline(), RUN_TIMEOUT)
    assert line, "the example exited"
    return line.decode().rstrip("\n")


async def test_mobile_subscribe_resumes_after_the_server_restarts(
    db_url: str, servers: ServerPool
) -> None:
    (server,) = await servers.astart()
    partner = server.partner_token()
    alice = await enroll(server, partner, "alice")
    await purchase(server, partner, alice["id"], "m-1", "12")
    env = example_env(server, TALLY_TOKEN=server.member_token("alice"))
    args = ("--since", "0", "--max-changes", "3", "--max-delay", "0.5")

    process = await start_example("mobile_subscribe.py", *args, env=env)
    try:
        assert await read_line(process) == "connected; following from version 0"
        assert await read_line(process) == (
            "v1 EARN +12 (pending +0, held +0) -> 12 available, 0 pending, 0 held  [m-1]"
        )
        await asyncio.to_thread(server.stop)  # the connection drops
        assert (await read_line(process)).startswith("disconnected (")
        ledger = await Ledger.open(db_url)  # a change the app misses while offline
        try:
            out = await ledger.adjust(from_global_id(alice["id"])[1], -2)
            assert out.ok, out.errors
        finally:
            await ledger.close()
        server = await asyncio.to_thread(servers.restart, server)
        line = await read_line(process)
        while line.startswith("disconnected ("):  # retried while the server was down
            line = await read_line(process)
        assert line == "connected; following from version 1"
        assert await read_line(process) == (
            "v2 ADJUST -2 (pending +0, held +0) -> 10 available, 0 pending, 0 held  [client:test]"
        )
        await purchase(server, partner, alice["id"], "m-2", "5")  # and a live one
        ran = await finish(process)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert ran.returncode == 0, ran.stderr
    assert ran.lines == [
        "v3 EARN +5 (pending +0, held +0) -> 15 available, 0 pending, 0 held  [m-2]",
        "stopped at version 3",
    ]

    # A refused token is final: no reconnect loop.
    env = example_env(server, TALLY_TOKEN="not-a-token")
    rejected = await run_example("mobile_subscribe.py", "--since", "0", env=env)
    assert rejected.returncode == 2
    assert "rejected the token (4403)" in rejected.stderr
