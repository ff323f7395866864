"""EXPERIENCE rewards: seats are the reward's stock, taken atomically, so 5 seats are never
booked 6 times however many members try at once (both backends); once the experience has
taken place it cannot be redeemed (REWARD_UNAVAILABLE)."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from app.domain.errors import ErrorCode
from app.ledger.database import open_database
from app.ledger.uow import UnitOfWork
from app.services import redeem
from app.services.common import MemberRef
from app.services.outcome import Outcome
from app.services.program import apply_program
from tests.ledger.harness import START, Ledger, program_data

AT = START + timedelta(days=10)


def _program() -> dict[str, Any]:
    data = program_data()
    data["rewards"].append(
        {
            "key": "tasting",
            "name": "Wine tasting",
            "cost": 40,
            "stock": 5,
            "kind": "EXPERIENCE",
            "experience_at": AT.isoformat(),
        }
    )
    return data


async def _open(db_url: str) -> Ledger:
    ledger = await Ledger.open(db_url)
    await apply_program(ledger.uow, ledger.clock, _program())
    return ledger


def _redeem(uow: UnitOfWork, ledger: Ledger, key: str, member: int, reward: int) -> Any:
    return redeem.redeem_reward(
        uow,
        ledger.clock,
        principal="client:test",
        idempotency_key=key,
        cmd=redeem.RedeemReward(MemberRef(id=member), reward, 1),
    )


async def test_5_seats_are_never_booked_6_times_by_60_at_once(db_url: str, backend: str) -> None:
    ledger = await _open(db_url)
    writers = [ledger.uow]
    if backend == "sqlite":  # a second engine stands in for a second process
        writers.append(UnitOfWork(open_database(ledger.db.url)))
    try:
        members = [await ledger.enroll(f"guest-{n}") for n in range(60)]
        for member in members:
            assert (await ledger.adjust(member, 100)).ok
        tasting = await ledger.reward_id("tasting")
        outcomes: list[Outcome[Any]] = await asyncio.gather(
            *(
                _redeem(writers[n % len(writers)], ledger, f"seat-{n}", m, tasting)
                for n, m in enumerate(members)
            )
        )
        assert sum(o.ok for o in outcomes) == 5
        assert [o.errors[0].code for o in outcomes if not o.ok] == [ErrorCode.OUT_OF_STOCK] * 55
        reward = (await ledger.queries.rewards([tasting]))[tasting]
        assert (reward.redeemed, reward.remaining_stock) == (5, 0)
        held = sum([(await ledger.balance(m))["held"] for m in members])
        assert held == 5 * 40  # the 55 refused never held a point
    finally:
        for uow in writers[1:]:
            await uow.db.dispose()
        await ledger.close()


async def test_an_experience_cannot_be_redeemed_once_it_has_taken_place(db_url: str) -> None:
    ledger = await _open(db_url)
    try:
        member = await ledger.enroll("late")
        assert (await ledger.adjust(member, 100)).ok
        tasting = await ledger.reward_id("tasting")
        ledger.clock.advance(days=10, seconds=-1)
        assert (await _redeem(ledger.uow, ledger, "just-in-time", member, tasting)).ok
        ledger.clock.advance(seconds=1)
        late = await _redeem(ledger.uow, ledger, "too-late", member, tasting)
        assert [e.code for e in late.errors] == [ErrorCode.REWARD_UNAVAILABLE]
        assert (await ledger.balance(member))["available"] == 60  # only the first held
    finally:
        await ledger.close()
