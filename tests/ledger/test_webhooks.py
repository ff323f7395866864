"""Webhook deliveries in the ledger, on SQLite and PostgreSQL: an endpoint hears the
events committed after it was made, of its types only, each once; claims are leased and
bounded per endpoint; concurrent claimers never send one delivery twice at once."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from app.domain.published import EventType as T
from app.domain.webhooks import DeliveryStatus
from app.ledger.webhooks import Claimed
from app.services.events import sequence_events
from tests.ledger.harness import Ledger


async def _endpoint(ledger: Ledger, types: tuple[T, ...] = ()) -> int:
    async with ledger.uow.write() as tx:
        return await tx.webhooks.create(
            url="https://crm.example.com/hooks",
            description="",
            event_types=types,
            secret="whsec_c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0",
            created_by="client:test",
            now=ledger.clock.now(),
        )


async def _fan_out(ledger: Ledger) -> int:
    await sequence_events(ledger.uow)
    made = 0
    async with ledger.uow.write() as tx:
        for endpoint in await tx.webhooks.enabled():
            made += await tx.webhooks.fan_out(endpoint, ledger.clock.now())
    return made


async def _claim(ledger: Ledger, endpoint_id: int, most: int = 4) -> list[Claimed]:
    async with ledger.uow.write() as tx:
        endpoint = await tx.webhooks.get(endpoint_id)
        assert endpoint is not None
        now = ledger.clock.now()
        return await tx.webhooks.claim(
            endpoint, now, lease_until=now + timedelta(seconds=60), most=most
        )


async def test_an_endpoint_hears_only_later_events_of_its_types_once(db_url: str) -> None:
    async with await Ledger.open(db_url) as ledger:
        before = await ledger.enroll("before")
        assert (await ledger.adjust(before, 5)).ok
        await sequence_events(ledger.uow)
        every = await _endpoint(ledger)
        points = await _endpoint(ledger, (T.POINTS_ADJUSTED,))
        assert (await ledger.adjust(before, 7)).ok
        await ledger.enroll("after")
        assert await _fan_out(ledger) == 3  # every: adjusted + enrolled; points: adjusted
        assert await _fan_out(ledger) == 0  # each event once per endpoint
        got = await _claim(ledger, every)
        assert [c.event.type for c in got] == [T.POINTS_ADJUSTED, T.MEMBER_ENROLLED]
        assert [c.event.type for c in await _claim(ledger, points)] == [T.POINTS_ADJUSTED]


async def test_claims_are_leased_and_bounded_per_endpoint(db_url: str) -> None:
    async with await Ledger.open(db_url) as ledger:
        endpoint = await _endpoint(ledger)
        for n in range(10):
            await ledger.enroll(f"m-{n}")
        assert await _fan_out(ledger) == 10
        first = await _claim(ledger, endpoint)
        assert len(first) == 4
        assert await _claim(ledger, endpoint) == []  # 4 in flight: the bound
        async with ledger.uow.write() as tx:
            await tx.webhooks.record_attempt(
                first[0].delivery.id,
                at=ledger.clock.now(),
                status=200,
                latency_ms=3,
                error=None,
                excerpt="ok",
                outcome=DeliveryStatus.SUCCEEDED,
                next_attempt_at=None,
            )
        assert len(await _claim(ledger, endpoint)) == 1  # one slot came free
        ledger.clock.advance(seconds=61)  # the leases ran out: a dead worker's are resent
        again = await _claim(ledger, endpoint)
        assert len(again) == 4
        assert {c.delivery.id for c in again} & {c.delivery.id for c in first[1:]}


async def test_concurrent_claimers_never_take_one_delivery_twice(postgres_url: str) -> None:
    async with await Ledger.open(postgres_url) as ledger:
        endpoint = await _endpoint(ledger)
        for n in range(30):
            await ledger.enroll(f"c-{n}")
        assert await _fan_out(ledger) == 30
        batches = await asyncio.gather(*(_claim(ledger, endpoint, most=8) for _ in range(6)))
        taken = [c.delivery.id for batch in batches for c in batch]
        assert len(taken) == len(set(taken))
        assert len(taken) == 8  # the bound holds across claimers, not per claimer


async def test_review_findings_on_deliveries_stay_fixed(db_url: str) -> None:
    from sqlalchemy import insert

    from app.ledger.tables import outbox

    async with await Ledger.open(db_url) as ledger:
        endpoint = await _endpoint(ledger)
        for n in range(6):
            await ledger.enroll(f"r-{n}")
        assert await _fan_out(ledger) == 6
        sending = await _claim(ledger, endpoint)
        assert len(sending) == 4
        # A replay while four are being sent leaves their leases: nobody sends them twice.
        async with ledger.uow.write() as tx:
            found = await tx.webhooks.get(endpoint)
            assert found is not None
            assert (
                await tx.webhooks.replay_since(
                    found, ledger.clock.now() - timedelta(days=1), ledger.clock.now()
                )
                == 6
            )
        assert await _claim(ledger, endpoint) == []
        # A replay of more events than one statement can carry (asyncpg: 32,767 parameters).
        now = ledger.clock.now()
        async with ledger.uow.write() as tx:
            await tx.conn.execute(
                insert(outbox),
                [
                    {"topic": "member.enrolled", "member_id": None, "version": None,
                     "payload": {"at": now.isoformat()}, "created_at": now,
                     "event_type": "member.enrolled"}
                    for _ in range(4200)
                ],
            )  # fmt: skip
        await sequence_events(ledger.uow)
        async with ledger.uow.write() as tx:
            found = await tx.webhooks.get(endpoint)
            assert found is not None
            replayed = await tx.webhooks.replay_since(found, now - timedelta(days=1), now)
        assert replayed == 4206  # every one, not the first page only
