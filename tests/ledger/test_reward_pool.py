"""A pool of imported discount codes under load, on SQLite and PostgreSQL: 200 concurrent
redemptions of a pool of 10 give exactly 10 redemptions with 10 distinct codes."""

from __future__ import annotations

import asyncio

from app.domain.errors import ErrorCode
from app.domain.reward_definitions import RewardSpec
from app.services import catalog, redeem
from app.services.common import MemberRef
from app.services.outcome import Outcome
from tests.ledger.audit import audit
from tests.ledger.harness import Ledger


async def test_200_concurrent_redemptions_of_a_pool_of_10_give_10_distinct_codes(
    db_url: str,
) -> None:
    async with await Ledger.open(db_url) as ledger:
        made = await catalog.create_reward(
            ledger.uow,
            ledger.clock,
            principal="client:staff",
            idempotency_key="make-pool",
            cmd=catalog.CreateReward(
                catalog.RewardFields(
                    RewardSpec(key="pool", name="Pool", kind="DISCOUNT_CODE", cost=5),
                    code_source=catalog.POOL,
                )
            ),
        )
        assert made.ok, made.errors
        pool = made.value.reward_id
        codes = [f"POOL-{n:02}" for n in range(10)]
        imported = await catalog.import_reward_codes(
            ledger.uow,
            ledger.clock,
            principal="client:staff",
            idempotency_key="fill-pool",
            cmd=catalog.ImportRewardCodes(pool, tuple(codes)),
        )
        assert imported.ok
        assert imported.value.imported == 10
        members = [await ledger.enroll(f"fan-{n}") for n in range(40)]
        for member in members:
            assert (await ledger.adjust(member, 50)).ok

        async def attempt(n: int) -> Outcome:
            return await redeem.redeem_reward(
                ledger.uow,
                ledger.clock,
                principal="client:test",
                idempotency_key=f"pool-{n}",
                cmd=redeem.RedeemReward(MemberRef(id=members[n % len(members)]), pool, 1),
            )

        outcomes = await asyncio.gather(*(attempt(n) for n in range(200)))
        won = [o.value.redemption_id for o in outcomes if o.ok]
        assert len(won) == 10
        assert {o.errors[0].code for o in outcomes if not o.ok} == {ErrorCode.OUT_OF_STOCK}
        given: list[str] = []
        for redemption_id in won:
            found = await ledger.queries.redemptions([redemption_id])
            given.extend(found[redemption_id].codes)
        assert sorted(given) == codes  # each code given out exactly once
        async with ledger.uow.read() as r:
            for member in members:
                assert (
                    await audit(r).held_by_redemptions(member)
                    == (await ledger.balance(member))["held"]
                )
