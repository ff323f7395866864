"""Referrals: earned on the newcomer's first qualifying purchase, capped per referrer,
taken back when that purchase is fully returned."""

from __future__ import annotations

from app.domain.errors import ErrorCode
from app.services.program import apply_program
from tests.ledger.audit import audit
from tests.ledger.harness import Ledger
from tests.ledger.programs import enroll_referred, referral_code_of, referral_program


async def test_both_earn_on_the_first_qualifying_purchase_only(db_url: str) -> None:
    ledger = await Ledger.open(db_url)
    async with ledger:
        await apply_program(ledger.uow, ledger.clock, referral_program())
        ann = await ledger.enroll("ann")
        bob = (
            await enroll_referred(ledger, "bob", await referral_code_of(ledger, ann))
        ).value.member_id
        small = await ledger.purchase(bob, "o-small", "10")  # under the minimum
        assert small.value.referral_points == 0
        first = await ledger.purchase(bob, "o-first", "30")
        assert first.value.referral_points == 200
        assert first.value.balance.available == 10 + 30 + 200
        assert (await ledger.purchase(bob, "o-next", "50")).value.referral_points == 0
        assert (await ledger.balance(ann))["available"] == 500
        unknown = await enroll_referred(ledger, "eve", "REF-NOPE")
        assert unknown.errors[0].code == ErrorCode.INVALID_INPUT
        assert unknown.errors[0].field == "referralCode"


async def test_a_referrer_earns_up_to_the_cap_per_period(db_url: str) -> None:
    ledger = await Ledger.open(db_url)
    async with ledger:
        await apply_program(ledger.uow, ledger.clock, referral_program(max_per_referrer=2))
        ann = await ledger.enroll("ann")
        code = await referral_code_of(ledger, ann)
        for n in range(3):
            friend = (await enroll_referred(ledger, f"friend-{n}", code)).value.member_id
            out = await ledger.purchase(friend, f"o-{n}", "25")
            assert out.value.referral_points == 200  # the newcomer always earns
        assert (await ledger.balance(ann))["available"] == 2 * 500
        ledger.clock.advance(days=366)  # a new year: room again
        late = (await enroll_referred(ledger, "friend-late", code)).value.member_id
        assert (await ledger.purchase(late, "o-late", "25")).ok
        assert (await ledger.balance(ann))["available"] == 3 * 500


async def test_a_full_return_of_the_first_purchase_takes_both_awards_back(db_url: str) -> None:
    ledger = await Ledger.open(db_url)
    async with ledger:
        await apply_program(ledger.uow, ledger.clock, referral_program())
        ann = await ledger.enroll("ann")
        bob = (
            await enroll_referred(ledger, "bob", await referral_code_of(ledger, ann))
        ).value.member_id
        assert (await ledger.purchase(bob, "o-1", "40")).value.referral_points == 200
        partial = await ledger.return_("o-1", "10")
        assert partial.value.referral_points_reversed == 0
        full = await ledger.return_("o-1", "30")
        assert full.value.referral_points_reversed == 700
        assert (await ledger.balance(ann))["available"] == 0
        assert (await ledger.balance(bob))["available"] == 0
        async with ledger.uow.read() as r:
            assert sum((await audit(r).account_totals()).values()) == 0
            assert await audit(r).transfer_imbalances() == 0
