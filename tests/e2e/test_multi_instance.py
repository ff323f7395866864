"""Two server processes on one database: a change made through A reaches a subscriber on B.

PostgreSQL wakes B with LISTEN/NOTIFY; SQLite, with B's tail of the outbox. Either way the
change must arrive well before the subscription's 15-second re-check would find it anyway.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from app.domain.accounts import Account, TransferKind
from app.graphql.ids import to_global_id
from app.services.balance_stream import HEARTBEAT_SECONDS
from app.services.common import active_program
from tests.e2e.conftest import ServerPool
from tests.e2e.helpers import Subscription, adjust, follow, purchase
from tests.ledger.harness import Ledger

WAKE_UP = 5.0  # seconds: a cross-process wake-up, not the heartbeat re-check
assert WAKE_UP < HEARTBEAT_SECONDS


async def seed(db_url: str, external_id: str, changes: int) -> str:
    """Enroll a member and credit 1 point `changes` times in one transaction (fast).

    Returns the member's global id."""
    ledger = await Ledger.open(db_url)
    try:
        member_id = await ledger.enroll(external_id)
        if changes:
            async with ledger.uow.write() as tx:
                version = await active_program(tx)
                now = ledger.clock.now()
                for _ in range(changes):
                    posted = await tx.transfers.post(
                        kind=TransferKind.ADJUST,
                        member_id=member_id,
                        debit=Account.ADJUSTED,
                        credit=Account.AVAILABLE,
                        amount=1,
                        now=now,
                        reason="seed",
                        program_version=version.version,
                    )
                    await tx.lots.add(
                        member_id=member_id,
                        transfer_id=posted.transfer_id,
                        points=1,
                        state="AVAILABLE",
                        expires_at=version.program.lot_expires_at(now),
                        now=now,
                    )
    finally:
        await ledger.close()
    return to_global_id("Member", member_id)


async def next_within(changes: Subscription, seconds: float, what: str) -> dict[str, Any]:
    """The next change; an AssertionError (not a bare timeout) when it does not come."""
    try:
        return await changes.next(seconds)
    except TimeoutError:
        raise AssertionError(f"{what}: nothing within {seconds} s") from None


async def test_change_through_one_server_reaches_a_subscriber_on_another(
    db_url: str, servers: ServerPool
) -> None:
    alice = await seed(db_url, "alice", 1)  # version 1; the outbox is not empty
    a, b = await servers.astart("a", "b")
    partner = a.partner_token()

    async with follow(b, b.member_token("alice"), since=1) as on_b:
        await purchase(a, partner, alice, "through-a", "20")
        first = await next_within(on_b, WAKE_UP, "purchase through A, seen on B")
        assert (first["version"], first["kind"], first["delta"]) == (2, "EARN", 20)
        # B's subscription now waits for a wake-up: only the other process can give it.
        await adjust(a, partner, alice, -3)
        second = await next_within(on_b, WAKE_UP, "adjustment through A, seen on B")
        assert (second["version"], second["kind"], second["delta"]) == (3, "ADJUST", -3)
        assert second["balance"]["available"] == 18

    async with follow(a, a.member_token("alice"), since=3) as on_a:  # and the other way
        for version, points in ((4, 4), (5, 5)):
            await adjust(b, b.partner_token(), alice, points)
            change = await next_within(on_a, WAKE_UP, "adjustment through B, seen on A")
            assert (change["version"], change["delta"]) == (version, points)


@pytest.mark.parametrize("backend", ["sqlite"])
async def test_sqlite_first_change_in_an_empty_outbox_wakes_the_other_process(
    db_url: str, servers: ServerPool
) -> None:
    alice = await seed(db_url, "alice", 0)  # enrolling writes no outbox row
    a, b = await servers.astart("a", "b")
    async with follow(b, b.member_token("alice"), since=0) as on_b:
        await asyncio.sleep(1.0)  # B's subscription waits; B's tail has polled "empty"
        await purchase(a, a.partner_token(), alice, "first-ever", "20")
        change = await next_within(on_b, WAKE_UP, "first change ever, through A, seen on B")
        assert (change["version"], change["delta"]) == (1, 20)


async def test_resume_with_more_than_one_page_of_missed_changes(
    db_url: str, servers: ServerPool
) -> None:
    await seed(db_url, "busy", 501)
    (server,) = await servers.astart()
    async with follow(server, server.member_token("busy"), since=0) as changes:
        versions = [
            (await next_within(changes, WAKE_UP, f"missed change {n}"))["version"]
            for n in range(1, 502)
        ]
    assert versions == list(range(1, 502))
