"""`tally dev` (what `make run` runs): a working demo from nothing, then serve."""

from __future__ import annotations

import asyncio
import os
import secrets
import select
import subprocess
import sys
from datetime import timedelta
from decimal import Decimal

from app.auth.scopes import ALL_SCOPES, MEMBER_SCOPES, format_scopes
from app.ledger.migrate import upgrade
from app.main import Runtime, build_runtime
from app.services.common import MemberRef
from app.services.enroll import EnrollMember, enroll_member
from app.services.program import DEMO_PROGRAM, apply_program, load_program_file
from app.services.purchase import RecordPurchase, record_purchase
from app.services.redeem import RedeemReward, redeem_reward
from app.services.returns import RecordReturn, record_return
from app.services.sweeps import run_sweeps
from app.settings import Settings

SEED = "system:seed"
DEMO_MEMBER = "demo-alice"
DEMO_CLIENT = "demo-partner"
# (member, [(order id, amount, days ago)], [(order id, amount returned)], reward key or None)
DEMO_MEMBERS: list[tuple[str, list[tuple[str, str, int]], list[tuple[str, str]], str | None]] = [
    (DEMO_MEMBER, [("demo-1001", "45.00", 40), ("demo-1002", "18.40", 12)], [], "free-coffee"),
    (
        "demo-bob",
        [("demo-2001", "30.00", 20), ("demo-2002", "12.00", 3)],
        [("demo-2001", "10.00")],
        None,
    ),
    ("demo-carol", [("demo-3001", "180.00", 90), ("demo-3002", "95.50", 8)], [], "tasting"),
]


async def seed(runtime: Runtime) -> None:
    """Enroll the demo members with some history. Idempotent: re-running replays answers."""
    uow, clock = runtime.services.uow, runtime.services.clock
    await apply_program(uow, clock, load_program_file(DEMO_PROGRAM))
    now = clock.now()
    for external_id, purchases, returns, reward in DEMO_MEMBERS:
        await enroll_member(
            uow,
            clock,
            principal=SEED,
            idempotency_key=f"enroll:{external_id}",
            cmd=EnrollMember(external_id=external_id),
        )
        ref = MemberRef(external_id=external_id)
        for order_id, amount, days in purchases:
            await record_purchase(
                uow,
                clock,
                principal=SEED,
                idempotency_key=f"purchase:{order_id}",
                cmd=RecordPurchase(
                    ref, order_id, str(Decimal(amount)), "EUR", "POS", now - timedelta(days=days)
                ),
            )
        for order_id, amount in returns:
            await record_return(
                uow,
                clock,
                principal=SEED,
                idempotency_key=f"return:{order_id}",
                cmd=RecordReturn(order_id, amount),
            )
        await run_sweeps(uow, clock)  # older purchases are past the return window by now
        if reward is not None:
            page = await runtime.services.queries.reward_page(after=0, limit=100)
            found = next((r for r in page.items if r.key == reward), None)
            if found is not None:
                await redeem_reward(
                    uow,
                    clock,
                    principal=SEED,
                    idempotency_key=f"redeem:{external_id}:{reward}",
                    cmd=RedeemReward(ref, found.id, 1),
                )


async def _prepare(runtime: Runtime) -> tuple[str, str]:
    try:
        await seed(runtime)
    finally:
        await runtime.db.dispose()
    assert runtime.issuer is not None
    member = runtime.issuer.mint(subject=DEMO_MEMBER, scopes=sorted(MEMBER_SCOPES), ttl=86400)
    partner_scopes = (ALL_SCOPES - MEMBER_SCOPES) | {"rewards:read"}
    partner = runtime.issuer.mint(
        subject=DEMO_CLIENT, client_id=DEMO_CLIENT, scopes=sorted(partner_scopes), ttl=86400
    )
    return member, partner


def _start_sandbox(settings: Settings) -> subprocess.Popen[bytes] | None:
    """The gift-card sandbox the demo's gift card is ordered from (demo.toml points at
    127.0.0.1:8701); it calls Tally back for pending orders and ends with this process."""
    token, secret = "sandbox-token", secrets.token_urlsafe(16)
    os.environ.setdefault("TALLY_PROVIDER_GIFTCARDS_ACCESS_TOKEN", token)
    os.environ.setdefault("TALLY_PROVIDER_GIFTCARDS_WEBHOOK_SECRET", secret)
    command = [
        sys.executable,
        "-m",
        "app.fulfilment.sandbox",
        "giftcard",
        "--port",
        os.environ.get("TALLY_DEMO_SANDBOX_PORT", "8701"),
        "--access-token",
        os.environ["TALLY_PROVIDER_GIFTCARDS_ACCESS_TOKEN"],
        "--webhook-url",
        f"{settings.public_url}/hooks/providers/giftcards",
        "--webhook-secret",
        os.environ["TALLY_PROVIDER_GIFTCARDS_WEBHOOK_SECRET"],
    ]
    sandbox = subprocess.Popen(command, stdout=subprocess.PIPE)
    assert sandbox.stdout is not None
    ready, _, _ = select.select([sandbox.stdout], [], [], 15)
    line = sandbox.stdout.readline().decode().strip() if ready else ""
    if "listening on" not in line:
        sandbox.kill()
        print("the gift-card sandbox did not start (port 8701 taken?): gift cards will fail")
        return None
    return sandbox


def run_dev(settings: Settings) -> int:
    upgrade(settings.database_url)
    sandbox = _start_sandbox(settings)
    runtime = build_runtime(settings)
    if runtime.issuer is None:
        print("tally dev needs the embedded token issuer; unset TALLY_JWKS_URL")
        return 2
    member, partner = asyncio.run(_prepare(runtime))
    url = f"{settings.public_url}/graphql"
    print(
        f"""
Tally is ready: {url}  (GraphiQL opens there in a browser)
Gift cards come from the sandbox on http://127.0.0.1:8701 (tally sandbox giftcard).

Member token ({DEMO_MEMBER}; {format_scopes(set(MEMBER_SCOPES))}):
  {member}

Partner token ({DEMO_CLIENT}; every partner and staff scope):
  {partner}

Try:  curl -s {url} -H "Authorization: Bearer $MEMBER_TOKEN" \\
        -H 'Content-Type: application/json' -d '{{"query":"{{ viewer {{ balance {{ available }} }} }}"}}'
""",
        flush=True,
    )
    from app.cli import _serve  # noqa: PLC0415

    try:
        _serve(settings)
    finally:
        if sandbox is not None:
            sandbox.terminate()
    return 0
