"""The published events on SQLite and PostgreSQL: every change a consumer hears of is in
the feed with its public type, in commit order once sequenced, with the member named as
the API names it and no personal data kept in the event; a transaction that commits late
is never stepped over; migration 0016 types and numbers the rows written before it."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from sqlalchemy import JSON, column, insert, select, table
from sqlalchemy.ext.asyncio import create_async_engine

from app.domain.ids import global_id
from app.domain.published import EventType as T
from app.ledger import migrate
from app.ledger.tables import outbox
from app.ledger.types import UTCDateTime
from app.services import members
from app.services.common import MemberRef
from app.services.events import all_events, sequence_events
from app.services.sweeps import run_sweeps
from tests.ledger.harness import Ledger
from tests.ledger.test_migration_0007 import empty_db

__all__ = ["empty_db"]


async def _feed(ledger: Ledger) -> list[tuple[T, int | None]]:
    await sequence_events(ledger.uow)
    return [(e.type, e.member_id) async for e in all_events(ledger.uow)]


async def test_each_change_is_published_once_with_its_type_in_commit_order(db_url: str) -> None:
    async with await Ledger.open(db_url) as ledger:
        ana = await ledger.enroll("ana")
        assert (await ledger.purchase(ana, "o-1", "40")).ok
        assert (await ledger.adjust(ana, 15)).ok
        tote = await ledger.reward_id("tote")
        held = await ledger.redeem(ana, tote)
        assert held.ok
        assert (await ledger.fulfill(held.value.redemption_id)).ok
        assert (await ledger.return_("o-1", "10")).ok
        assert await _feed(ledger) == [
            (T.MEMBER_ENROLLED, ana),
            (T.POINTS_EARNED, ana),
            (T.POINTS_ADJUSTED, ana),
            (T.REDEMPTION_CREATED, ana),  # its HOLD is not told twice
            (T.REDEMPTION_UPDATED, ana),
            (T.POINTS_REVERSED, ana),
        ]
        events = [e async for e in all_events(ledger.uow)]
        assert [e.sequence for e in events] == sorted(e.sequence for e in events)
        assert len({e.id for e in events}) == len(events)
        earned = events[1]
        assert earned.data["memberId"] == global_id("Member", ana)
        assert earned.data["externalId"] == "ana"
        assert earned.data["delta"] == 40
        assert earned.version == 1
        assert earned.data["reference"] == "o-1"
        updated = events[4]
        assert updated.data["status"] == "FULFILLED"
        assert updated.data["redemptionId"] == global_id("Redemption", held.value.redemption_id)
        assert updated.version is None  # a redemption's version is not the balance's
        assert updated.data["redemptionVersion"] == 2
        assert await sequence_events(ledger.uow) == 0  # numbered once


async def test_the_last_unit_a_tier_a_status_and_an_expiry_are_published(db_url: str) -> None:
    async with await Ledger.open(db_url, pending_days=0) as ledger:
        buyers = [await ledger.enroll(f"b-{n}") for n in range(10)]
        tote = await ledger.reward_id("tote")  # stock 10
        for member in buyers:
            assert (await ledger.adjust(member, 50)).ok
            assert (await ledger.redeem(member, tote)).ok
        rich = await ledger.enroll("rich")
        assert (await ledger.purchase(rich, "o-big", "1200")).ok  # gold at 1000
        suspended = await members.suspend_member(
            ledger.uow,
            ledger.clock,
            principal="client:staff",
            idempotency_key="s-1",
            cmd=members.ChangeStanding(MemberRef(id=rich), "fraud check"),
        )
        assert suspended.ok
        ledger.clock.advance(days=400)
        await run_sweeps(ledger.uow, ledger.clock)
        feed = await _feed(ledger)
        types = [t for t, _ in feed]
        assert types.count(T.REWARD_OUT_OF_STOCK) == 1
        assert (T.REWARD_OUT_OF_STOCK, None) in feed
        assert (T.TIER_CHANGED, rich) in feed
        assert (T.MEMBER_UPDATED, rich) in feed
        assert (T.POINTS_EXPIRED, rich) in feed
        events = [e async for e in all_events(ledger.uow, types={T.MEMBER_UPDATED})]
        assert [(e.data["fields"], e.data["status"]) for e in events] == [(["status"], "SUSPENDED")]


async def test_an_erased_members_events_carry_no_personal_data(db_url: str) -> None:
    async with await Ledger.open(db_url) as ledger:
        out = await ledger.enroll("private-person")
        erased = await members.erase_member(
            ledger.uow,
            ledger.clock,
            principal="client:staff",
            idempotency_key="e-1",
            cmd=members.EraseMember(MemberRef(id=out), "their request"),
        )
        assert erased.ok
        await sequence_events(ledger.uow)
        events = [e async for e in all_events(ledger.uow)]
        assert [e.type for e in events] == [T.MEMBER_ENROLLED, T.MEMBER_UPDATED]
        assert all("private-person" not in str(e.as_message()) for e in events)
        assert events[1].data["status"] == "ERASED"


async def test_a_transaction_that_commits_late_is_not_stepped_over(postgres_url: str) -> None:
    async with await Ledger.open(postgres_url) as ledger:
        early, late = await ledger.enroll("early"), await ledger.enroll("late")
        await sequence_events(ledger.uow)
        cursor = max([e.sequence async for e in all_events(ledger.uow)])
        inserted, release = asyncio.Event(), asyncio.Event()

        async def slow() -> None:  # inserts first (the lower outbox id), commits last
            async with ledger.uow.write() as tx:
                balance = await tx.members.lock(late)
                assert balance is not None
                await tx.members.update_profile(
                    late, {"email": "late@example.com"}, ledger.clock.now()
                )
                inserted.set()
                await release.wait()

        task = asyncio.create_task(slow())
        await inserted.wait()
        assert (await ledger.adjust(early, 5)).ok  # a higher id, committed first
        await sequence_events(ledger.uow)
        first = [e async for e in all_events(ledger.uow, after=cursor)]
        assert [e.type for e in first] == [T.POINTS_ADJUSTED]
        release.set()
        await task
        await sequence_events(ledger.uow)
        after = [e async for e in all_events(ledger.uow, after=first[-1].sequence)]
        assert [(e.type, e.member_id) for e in after] == [(T.MEMBER_UPDATED, late)]


OUTBOX = table(
    "outbox",
    column("id"),
    column("topic"),
    column("member_id"),
    column("version"),
    column("payload", JSON()),
    column("created_at", UTCDateTime()),
)
MEMBERS = table(
    "members", column("id"), column("external_id"), column("enrolled_at", UTCDateTime())
)


async def test_0016_types_and_numbers_the_events_written_before_it(empty_db: str) -> None:
    await asyncio.to_thread(migrate.upgrade, empty_db, "0015")
    at = datetime(2026, 11, 1, tzinfo=UTC)

    def change(kind: str, delta: int, pending: int = 0) -> dict[str, object]:
        return {"kind": kind, "delta": delta, "pendingDelta": pending, "heldDelta": 0}

    rows = [
        ("balance.changed", change("EARN", 10)),
        ("balance.changed", change("EARN", 0, 7)),
        ("balance.changed", change("HOLD", -5)),
        ("balance.changed", change("RETURN", -3)),
        ("balance.changed", change("EXPIRE", -1)),
        ("redemption.updated", {"status": "HELD", "redemptionId": 1, "version": 1}),
        ("redemption.updated", {"status": "CANCELLED", "redemptionId": 1, "version": 2}),
        ("tier.changed", {"direction": "UP"}),
        ("points.expiring", {"points": 4}),
    ]
    engine = create_async_engine(empty_db)
    try:
        async with engine.begin() as conn:
            await conn.execute(insert(MEMBERS), [{"id": 1, "external_id": "m", "enrolled_at": at}])
            await conn.execute(
                insert(OUTBOX),
                [
                    {
                        "id": n,
                        "topic": t,
                        "member_id": 1,
                        "version": None,
                        "payload": p,
                        "created_at": at,
                    }
                    for n, (t, p) in enumerate(rows, start=1)
                ],
            )
        await asyncio.to_thread(migrate.upgrade, empty_db, "0016")
        async with engine.connect() as conn:
            found = list(
                await conn.execute(
                    select(outbox.c.id, outbox.c.event_type, outbox.c.sequence).order_by(
                        outbox.c.id
                    )
                )
            )
    finally:
        await engine.dispose()
    assert [(r.event_type, r.sequence) for r in found] == [
        ("points.earned", 1),
        ("points.pending", 2),
        (None, None),
        ("points.reversed", 4),
        ("points.expired", 5),
        ("redemption.created", 6),
        ("redemption.updated", 7),
        ("tier.changed", 8),
        ("points.expiring", 9),
    ]
