"""Referrals: earned on the newcomer's first qualifying purchase, capped per referrer,
taken back when that purchase is fully returned."""

from __future__ import annotations

from typing import Any

from app.domain.errors import ErrorCode
from app.services import enroll
from app.services.program import apply_program
from tests.ledger.harness import Ledger, program_data


def referral_program(**terms: Any) -> dict[str, Any]:
    data = program_data()
    data["referral"] = {
        "referrer_points": 500,
        "referee_points": 200,
        "min_order_amount": "20",
        **terms,
    }
    return data


async def _enroll(ledger: Ledger, external_id: str, code: str | None) -> Any:
    return await enroll.enroll_member(
        ledger.uow,
        ledger.clock,
        principal="client:t",
        idempotency_key=f"e-{external_id}",
        cmd=enroll.EnrollMember(external_id=external_id, referral_code=code),
    )


async def _code(ledger: Ledger, member_id: int) -> str:
    member = (await ledger.queries.members([member_id]))[member_id]
    assert member.referral_code is not None
    return member.referral_code


async def test_both_earn_on_the_first_qualifying_purchase_only(db_url: str) -> None:
    ledger = await Ledger.open(db_url)
    async with ledger:
        await apply_program(ledger.uow, ledger.clock, referral_program())
        ann = await ledger.enroll("ann")
        bob = (await _enroll(ledger, "bob", await _code(ledger, ann))).value.member_id
        small = await ledger.purchase(bob, "o-small", "10")  # under the minimum
        assert small.value.referral_points == 0
        first = await ledger.purchase(bob, "o-first", "30")
        assert first.value.referral_points == 200
        assert first.value.balance.available == 10 + 30 + 200
        assert (await ledger.purchase(bob, "o-next", "50")).value.referral_points == 0
        assert (await ledger.balance(ann))["available"] == 500
        unknown = await _enroll(ledger, "eve", "REF-NOPE")
        assert unknown.errors[0].code == ErrorCode.INVALID_INPUT
        assert unknown.errors[0].field == "referralCode"


async def test_a_referrer_earns_up_to_the_cap_per_period(db_url: str) -> None:
    ledger = await Ledger.open(db_url)
    async with ledger:
        await apply_program(ledger.uow, ledger.clock, referral_program(max_per_referrer=2))
        ann = await ledger.enroll("ann")
        code = await _code(ledger, ann)
        for n in range(3):
            friend = (await _enroll(ledger, f"friend-{n}", code)).value.member_id
            out = await ledger.purchase(friend, f"o-{n}", "25")
            assert out.value.referral_points == 200  # the newcomer always earns
        assert (await ledger.balance(ann))["available"] == 2 * 500
        ledger.clock.advance(days=366)  # a new year: room again
        late = (await _enroll(ledger, "friend-late", code)).value.member_id
        assert (await ledger.purchase(late, "o-late", "25")).ok
        assert (await ledger.balance(ann))["available"] == 3 * 500


async def test_a_full_return_of_the_first_purchase_takes_both_awards_back(db_url: str) -> None:
    ledger = await Ledger.open(db_url)
    async with ledger:
        await apply_program(ledger.uow, ledger.clock, referral_program())
        ann = await ledger.enroll("ann")
        bob = (await _enroll(ledger, "bob", await _code(ledger, ann))).value.member_id
        assert (await ledger.purchase(bob, "o-1", "40")).value.referral_points == 200
        partial = await ledger.return_("o-1", "10")
        assert partial.value.referral_points_reversed == 0
        full = await ledger.return_("o-1", "30")
        assert full.value.referral_points_reversed == 700
        assert (await ledger.balance(ann))["available"] == 0
        assert (await ledger.balance(bob))["available"] == 0
        async with ledger.uow.read() as r:
            assert sum((await r.account_totals()).values()) == 0
            assert await r.transfer_imbalances() == 0
