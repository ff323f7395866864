"""No read-then-write races: concurrent writers never overspend, double-write or oversell."""

from __future__ import annotations

import asyncio

from app.domain.errors import ErrorCode
from app.ledger.database import open_database
from app.ledger.uow import UnitOfWork
from app.services import purchase, redeem
from app.services.common import MemberRef
from app.services.outcome import Outcome
from tests.ledger.audit import audit
from tests.ledger.harness import Ledger


async def _writers(ledger: Ledger, backend: str) -> list[UnitOfWork]:
    """On SQLite, a second engine with its own lock stands in for a second process, so
    BEGIN IMMEDIATE (not only the in-process lock) keeps the writers apart."""
    if backend != "sqlite":
        return [ledger.uow]
    return [ledger.uow, UnitOfWork(open_database(ledger.db.url))]


async def test_200_concurrent_redemptions_for_50_affordable_give_exactly_50(
    db_url: str, backend: str
) -> None:
    ledger = await Ledger.open(db_url)
    writers = await _writers(ledger, backend)
    try:
        member = await ledger.enroll("spender")
        assert (await ledger.adjust(member, 500)).ok  # coffee costs 10: 50 affordable
        coffee = await ledger.reward_id("coffee")

        async def attempt(n: int) -> Outcome:
            return await redeem.redeem_reward(
                writers[n % len(writers)],
                ledger.clock,
                principal="client:test",
                idempotency_key=f"r-{n}",
                cmd=redeem.RedeemReward(MemberRef(id=member), coffee, 1),
            )

        outcomes = await asyncio.gather(*(attempt(n) for n in range(200)))
        successes = [o for o in outcomes if o.ok]
        failures = [o.errors[0].code for o in outcomes if not o.ok]
        assert len(successes) == 50
        assert failures == [ErrorCode.INSUFFICIENT_POINTS] * 150
        assert await ledger.balance(member) == {
            "available": 0,
            "pending": 0,
            "held": 500,
            "lifetimeEarned": 0,
            "version": 51,
        }
        async with ledger.uow.read() as r:
            assert await audit(r).versions(member) == list(range(1, 52))
            assert await audit(r).lot_remainders(member) == {"AVAILABLE": 0, "PENDING": 0}
            assert await audit(r).held_by_redemptions(member) == 500
    finally:
        for uow in writers[1:]:
            await uow.db.dispose()
        await ledger.close()


async def test_50_concurrent_requests_with_one_key_make_one_transfer_and_one_answer(
    db_url: str, backend: str
) -> None:
    ledger = await Ledger.open(db_url)
    writers = await _writers(ledger, backend)
    try:
        member = await ledger.enroll("buyer")

        async def attempt(n: int) -> Outcome:
            return await purchase.record_purchase(
                writers[n % len(writers)],
                ledger.clock,
                principal="client:test",
                idempotency_key="same-key",
                cmd=purchase.RecordPurchase(
                    MemberRef(id=member), "order-1", "99.99", "EUR", "POS", ledger.clock.now()
                ),
            )

        outcomes = await asyncio.gather(*(attempt(n) for n in range(50)))
        assert all(o.ok for o in outcomes)
        assert len({repr((o.result, o.errors)) for o in outcomes}) == 1  # identical answers
        assert sum(not o.replayed for o in outcomes) == 1  # one did the work
        assert outcomes[0].value.points == 99
        balance = await ledger.balance(member)
        assert balance["available"] == 99
        assert balance["version"] == 1
    finally:
        for uow in writers[1:]:
            await uow.db.dispose()
        await ledger.close()


async def test_reward_with_stock_10_is_never_redeemed_11_times(db_url: str, backend: str) -> None:
    ledger = await Ledger.open(db_url)
    writers = await _writers(ledger, backend)
    try:
        members = [await ledger.enroll(f"fan-{n}") for n in range(30)]
        for member in members:
            assert (await ledger.adjust(member, 200)).ok
        tote = await ledger.reward_id("tote")  # stock 10, cost 50

        async def attempt(n: int, member: int) -> Outcome:
            return await redeem.redeem_reward(
                writers[n % len(writers)],
                ledger.clock,
                principal="client:test",
                idempotency_key=f"tote-{n}",
                cmd=redeem.RedeemReward(MemberRef(id=member), tote, 1),
            )

        outcomes = await asyncio.gather(*(attempt(n, m) for n, m in enumerate(members)))
        assert sum(o.ok for o in outcomes) == 10
        assert [o.errors[0].code for o in outcomes if not o.ok] == [ErrorCode.OUT_OF_STOCK] * 20
        reward = (await ledger.queries.rewards([tote]))[tote]
        assert reward.redeemed == 10
        assert reward.remaining_stock == 0
        held = sum([(await ledger.balance(m))["held"] for m in members])
        assert held == 10 * 50  # the 20 refused never held a point
    finally:
        for uow in writers[1:]:
            await uow.db.dispose()
        await ledger.close()
