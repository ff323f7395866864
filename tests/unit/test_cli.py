"""The `tally` command: migrate, program apply (diff, no-op, errors), client create, list,
revoke and rotate-secret, token; each write it makes in the audit trail."""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path

import pytest

from app.auth.clients import ClientRegistry
from app.auth.keys import load_or_create_keys
from app.auth.tokens import TokenVerifier
from app.cli import main
from app.ledger.audit import audit_page
from app.ledger.database import open_database
from app.services.audit import operator
from app.services.program import DEMO_PROGRAM


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("TALLY_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path}/var/cli.db")
    monkeypatch.setenv("TALLY_KEYS_FILE", str(tmp_path / "var" / "jwks.json"))
    return tmp_path


def test_migrate_then_apply_shows_the_diff_and_reapplying_is_a_no_op(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["migrate"]) == 0
    assert main(["program", "apply", str(DEMO_PROGRAM)]) == 0
    assert "activated program version 1: Tally Coffee Club" in capsys.readouterr().out
    assert main(["program", "apply", str(DEMO_PROGRAM)]) == 0
    assert "program unchanged (version 1 is active)" in capsys.readouterr().out
    changed = env / "changed.toml"
    changed.write_text(
        DEMO_PROGRAM.read_text().replace("points_per_unit = 10", "points_per_unit = 12")
    )
    assert main(["program", "apply", str(changed)]) == 0
    out = capsys.readouterr().out
    assert "activated program version 2" in out
    assert "~ program.points_per_unit: '10' -> '12'" in out


def test_an_invalid_program_is_refused_with_its_problems(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["migrate"]) == 0
    bad = env / "bad.toml"
    bad.write_text('[program]\nname = "X"\ncurrency = "euro"\n')
    assert main(["program", "apply", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "program.currency" in err
    assert "tiers" in err


def test_client_create_prints_a_secret_that_authenticates(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["migrate"]) == 0
    assert main(["client", "create", "--name", "POS", "--scopes", "points:write members:read"]) == 0
    out = capsys.readouterr().out
    client_id = re.search(r"^export CLIENT_ID=(\S+)$", out, re.M)
    secret = re.search(r"^export CLIENT_SECRET=(\S+)  # shown once", out, re.M)
    assert client_id
    assert secret

    async def check() -> None:
        db = open_database(f"sqlite+aiosqlite:///{env}/var/cli.db")
        try:
            record = await ClientRegistry(db).authenticate(client_id.group(1), secret.group(1))
            assert record is not None
            assert record.scopes == {"points:write", "members:read"}
        finally:
            await db.dispose()

    asyncio.run(check())
    assert main(["client", "create", "--scopes", "points:everything"]) == 2


def test_token_mints_a_member_token_the_server_accepts(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["token", "--member", "demo-bob", "--scopes", "loyalty:read"]) == 0
    token = capsys.readouterr().out.strip()
    keys = load_or_create_keys(env / "var" / "jwks.json")
    verifier = TokenVerifier(issuer="http://127.0.0.1:8000", audience="tally", keys=keys)
    principal = asyncio.run(verifier.verify(token))
    assert principal.is_member
    assert principal.subject == "demo-bob"
    assert principal.scopes == {"loyalty:read"}


def test_seed_is_idempotent(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from app.ledger.database import open_database
    from app.ledger.queries import ReadLedger

    assert main(["migrate"]) == 0
    assert main(["seed"]) == 0
    assert main(["seed"]) == 0  # replays its idempotency keys: nothing twice

    async def check() -> dict[str, int]:
        db = open_database(f"sqlite+aiosqlite:///{env}/var/cli.db")
        try:
            async with db.read_engine.connect() as conn:
                reads = ReadLedger(conn)
                members = await reads.members_by_external_ids(["demo-alice", "demo-bob"])
                balances = await reads.balances_by_member([m.id for m in members.values()])
                return {
                    m.external_id: (balances[m.id].version, balances[m.id].pending > 0)
                    for m in members.values()
                }
        finally:
            await db.dispose()

    # Two earns (pending: 14-day return window), the older one released, then a hold
    # (alice) or a return (bob); the recent purchase is still pending.
    assert asyncio.run(check()) == {"demo-alice": (4, True), "demo-bob": (4, True)}


def test_worker_runs_the_sweeps_on_a_schedule(
    env: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TALLY_SWEEP_INTERVAL", "0.01")
    assert main(["migrate"]) == 0
    assert main(["worker", "--max-runs", "2"]) == 0
    assert capsys.readouterr().out.count("sweep: released 0 pending lots, expired 0 lots") == 2


def test_client_list_revoke_and_rotate_secret(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["migrate"]) == 0
    assert main(["client", "create", "--name", "Kiosk", "--scopes", "points:write"]) == 0
    assert main(["client", "create", "--name", "Web", "--scopes", "members:read"]) == 0
    assert main(["client", "create", "--scopes", "members:read", "--rate", "50000/5000"]) == 0
    out = capsys.readouterr().out
    kiosk, web, big = re.findall(r"^export CLIENT_ID=(\S+)$", out, re.M)
    assert "# rate: 50000 cost points, 5000 restored per second" in out
    assert main(["client", "create", "--scopes", "members:read", "--rate", "lots"]) == 2
    assert "CAPACITY/RESTORE" in capsys.readouterr().err

    assert main(["client", "rotate-secret", web]) == 0
    new_secret = re.search(r"^export CLIENT_SECRET=(\S+)", capsys.readouterr().out, re.M)
    assert new_secret
    assert main(["client", "revoke", kiosk]) == 0
    assert "revoked" in capsys.readouterr().out
    assert main(["client", "revoke", "tly_nobody"]) == 2
    assert main(["client", "rotate-secret", kiosk]) == 2  # revoked: no new secret
    capsys.readouterr()

    assert main(["client", "list"]) == 0
    rows = {line.split()[0]: line for line in capsys.readouterr().out.splitlines()}
    assert rows[kiosk].split()[1] == "revoked"
    assert rows[web].split()[1] == "active"
    assert rows[big].split()[2] == "50000/5000"
    assert rows[web].split()[2].endswith("*")  # the default rate

    async def check() -> None:
        db = open_database(f"sqlite+aiosqlite:///{env}/var/cli.db")
        try:
            registry = ClientRegistry(db)
            assert await registry.authenticate(web, new_secret.group(1)) is not None
        finally:
            await db.dispose()

    asyncio.run(check())


def test_every_write_a_command_makes_is_in_the_audit_trail(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """As the API's writes are: who (the operator), what, on which client, and how it ended."""
    assert main(["migrate"]) == 0
    assert main(["program", "apply", str(DEMO_PROGRAM)]) == 0
    assert main(["program", "apply", str(DEMO_PROGRAM)]) == 0
    bad = env / "bad.toml"
    bad.write_text('[program]\nname = "X"\n')
    assert main(["program", "apply", str(bad)]) == 2
    assert main(["client", "create", "--name", "Kiosk", "--scopes", "points:write"]) == 0
    [kiosk] = re.findall(r"^export CLIENT_ID=(\S+)$", capsys.readouterr().out, re.M)
    assert main(["client", "rotate-secret", kiosk]) == 0
    assert main(["client", "revoke", kiosk]) == 0
    assert main(["client", "revoke", "tly_nobody"]) == 2

    async def trail() -> list[tuple[str, str | None, str, str, str]]:
        db = open_database(f"sqlite+aiosqlite:///{env}/var/cli.db")
        try:
            async with db.read_engine.connect() as conn:
                entries = await audit_page(conn, before_id=None, limit=50, member_id=None)
        finally:
            await db.dispose()
        assert all(e.request_id and e.request_id.startswith("cli-") for e in entries)
        return [
            (e.operation, e.client_id, e.outcome, e.principal, e.source_address or "")
            for e in reversed(entries)
        ]

    rows = asyncio.run(trail())
    me = operator()
    assert rows == [
        ("program apply", None, "OK", me, "cli"),
        ("program apply", None, "UNCHANGED", me, "cli"),
        ("program apply", None, "PROGRAM_INVALID", me, "cli"),
        ("client create", kiosk, "OK", me, "cli"),
        ("client rotate-secret", kiosk, "OK", me, "cli"),
        ("client revoke", kiosk, "OK", me, "cli"),
        ("client revoke", "tly_nobody", "NOT_FOUND", me, "cli"),
    ]
    assert me.startswith("operator:")


def test_reward_import_codes_fills_a_pool_from_a_file_once(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["migrate"]) == 0
    assert main(["program", "apply", str(DEMO_PROGRAM)]) == 0

    async def pool() -> None:
        from app.domain.reward_definitions import RewardSpec
        from app.main import build_runtime
        from app.services.catalog import CreateReward, RewardFields, create_reward
        from app.settings import Settings

        runtime = build_runtime(Settings())
        try:
            spec = RewardSpec(key="pool", name="Pool", kind="DISCOUNT_CODE", cost=5)
            made = await create_reward(
                runtime.services.uow,
                runtime.services.clock,
                principal="operator:test",
                idempotency_key="pool-1",
                cmd=CreateReward(RewardFields(spec, "POOL")),
            )
            assert made.ok, made.errors
        finally:
            await runtime.db.dispose()

    asyncio.run(pool())
    capsys.readouterr()
    codes = env / "codes.txt"
    codes.write_text("SPRING-1\nSPRING-2\n\nSPRING-1\nSPRING 3\nSPRING-4\n")
    assert main(["reward", "import-codes", "--reward", "pool", str(codes)]) == 1  # some rejected
    out = capsys.readouterr().out
    assert "line 4: 'SPRING-1': a repeat of an earlier line" in out
    assert "line 5: 'SPRING 3': whitespace inside the code" in out
    assert "imported 3 codes into pool" in out
    assert main(["reward", "import-codes", "--reward", "pool", str(codes)]) == 1
    assert "imported 3 codes into pool (a replay)" in capsys.readouterr().out  # changed nothing
    assert main(["reward", "import-codes", "--reward", "free-coffee", str(codes)]) == 2
    assert "only a POOL reward" in capsys.readouterr().err
    assert main(["reward", "import-codes", "--reward", "nope", str(codes)]) == 2


def test_events_export_writes_every_event_as_ndjson(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["migrate"]) == 0
    assert main(["seed"]) == 0
    capsys.readouterr()
    assert main(["events", "export"]) == 0
    captured = capsys.readouterr()
    lines = [json.loads(line) for line in captured.out.splitlines()]
    assert lines, "the seeded members' events"
    assert {"id", "type", "timestamp", "sequence", "version", "data"} <= set(lines[0])
    assert [m["sequence"] for m in lines] == sorted(m["sequence"] for m in lines)
    assert f"exported {len(lines)} events" in captured.err
    enrolled = [m for m in lines if m["type"] == "member.enrolled"]
    assert {m["data"]["externalId"] for m in enrolled} >= {"demo-alice", "demo-bob"}

    assert main(["events", "export", "--types", "member.enrolled"]) == 0
    only = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert only == enrolled
    assert main(["events", "export", "--since", "2999-01-01T00:00:00+00:00"]) == 0
    assert capsys.readouterr().out == ""
    assert main(["events", "export", "--types", "points.spent"]) == 2
    assert "--types takes" in capsys.readouterr().err
    assert main(["events", "export", "--since", "2026-01-01"]) == 2


def test_webhook_add_prints_a_secret_and_list_shows_the_endpoint(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["migrate"]) == 0
    assert (
        main(
            [
                "webhook",
                "add",
                "https://crm.example.com/tally",
                "--events",
                "points.earned,tier.changed",
            ]
        )
        == 0
    )
    printed = capsys.readouterr().out
    assert "WEBHOOK_SECRET=whsec_" in printed
    assert main(["webhook", "list"]) == 0
    listed = capsys.readouterr().out
    assert "ENABLED" in listed
    assert "https://crm.example.com/tally" in listed
    assert "points.earned,tier.changed" in listed
    assert main(["webhook", "add", "http://10.0.0.1/x"]) == 2
    assert "url:" in capsys.readouterr().err


def test_source_add_sets_up_a_shop_for_its_webhooks(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["migrate"]) == 0
    assert main(["source", "add", "eu-shop", "--secret", "shpss_0123456789abcdef"]) == 0
    assert "POST /hooks/shopify/eu-shop" in capsys.readouterr().out
    assert main(["source", "add", "eu-shop", "--secret", "short"]) == 2
    assert "secret" in capsys.readouterr().err
    assert main(["source", "add", "bad name!", "--secret", "shpss_0123456789abcdef"]) == 2
