from __future__ import annotations

from tests.ledger.harness import Ledger


async def test_earn_redeem_cancel_return_keep_balances_consistent(db_url: str) -> None:
    ledger = await Ledger.open(db_url)
    async with ledger:
        m = await ledger.enroll("alice")
        out = await ledger.purchase(m, "o-1", "120.50")
        assert out.ok, out.errors
        assert out.value.points == 120
        coffee = await ledger.reward_id("coffee")
        red = await ledger.redeem(m, coffee, 2)
        assert red.ok, red.errors
        assert await ledger.balance(m) == {
            "available": 100,
            "pending": 0,
            "held": 20,
            "lifetimeEarned": 120,
            "version": 2,
        }
        assert (await ledger.cancel(red.value.redemption_id)).ok
        ret = await ledger.return_("o-1", "60.25")
        assert ret.ok, ret.errors
        assert ret.value.points == 60
        assert await ledger.balance(m) == {
            "available": 60,
            "pending": 0,
            "held": 0,
            "lifetimeEarned": 60,
            "version": 4,
        }
