"""The redemption lifecycle on both backends: goods HELD -> FULFILLING -> SHIPPED ->
DELIVERED with the hold spent at SHIPPED; experiences booked; FAILED and CANCELLED return
the points once; illegal moves refused with INVALID_TRANSITION and nothing written; every
change in the history, numbered per member with no gap; a till finds a redemption by code."""

from __future__ import annotations

import asyncio
from typing import Any

from app.domain.errors import ErrorCode
from app.domain.rewards import RedemptionStatus as S
from app.services import redemption_updates as updates
from app.services import resolve
from app.services.program import apply_program
from tests.ledger.audit import audit
from tests.ledger.harness import Ledger, program_data


def _program() -> dict[str, Any]:
    data = program_data()
    data["rewards"] += [
        {"key": "mug", "name": "Mug", "cost": 30, "stock": 5, "kind": "PHYSICAL"},
        {
            "key": "tasting",
            "name": "Tasting",
            "cost": 40,
            "stock": 3,
            "kind": "EXPERIENCE",
            "experience_at": "2099-06-01T19:00:00+02:00",
        },
    ]
    return data


async def _open(db_url: str) -> Ledger:
    ledger = await Ledger.open(db_url)
    await apply_program(ledger.uow, ledger.clock, _program())
    return ledger


async def _move(ledger: Ledger, redemption_id: int, status: S, **details: str) -> Any:
    return await updates.update_redemption(
        ledger.uow,
        ledger.clock,
        principal="client:3pl",
        idempotency_key=ledger.key(),
        cmd=updates.UpdateRedemption(redemption_id=redemption_id, status=status, **details),
    )


async def _redeemed(ledger: Ledger, member: int, reward: str) -> int:
    out = await ledger.redeem(member, await ledger.reward_id(reward))
    assert out.ok, out.errors
    return int(out.value.redemption_id)


async def _status(ledger: Ledger, redemption_id: int) -> S:
    return (await ledger.queries.redemptions([redemption_id]))[redemption_id].status


async def _consistent(ledger: Ledger, member: int) -> None:
    balance = await ledger.balance(member)
    async with ledger.uow.read() as r:
        assert await audit(r).transfer_imbalances() == 0
        sums = await audit(r).member_account_sums(member)
        assert sums["held"] == balance["held"]
        changes = await r.redemption_changes(member, after_version=0)
    assert [c.version for c in changes] == list(range(1, len(changes) + 1))


async def test_goods_are_shipped_with_tracking_then_delivered_and_spent_at_shipping(
    db_url: str,
) -> None:
    async with await _open(db_url) as ledger:
        m = await ledger.enroll("shopper")
        assert (await ledger.purchase(m, "o-1", "100")).ok
        mug = await _redeemed(ledger, m, "mug")
        assert (await ledger.balance(m))["held"] == 30
        assert (await _move(ledger, mug, S.FULFILLING, note="picked")).ok
        assert (await ledger.balance(m))["held"] == 30  # still held while it is picked
        shipped = await _move(
            ledger,
            mug,
            S.SHIPPED,
            carrier="DHL",
            tracking_number="00340434",
            tracking_url="https://track.example/00340434",
        )
        assert shipped.ok, shipped.errors
        balance = await ledger.balance(m)
        assert (balance["held"], balance["available"]) == (0, 70)  # spent at SHIPPED
        assert (await _move(ledger, mug, S.DELIVERED)).ok
        assert (await ledger.balance(m))["available"] == 70  # DELIVERED changes no points
        found = (await ledger.queries.redemptions([mug]))[mug]
        assert found.status is S.DELIVERED
        assert found.delivery is not None
        assert (found.delivery.carrier, found.delivery.tracking_number) == ("DHL", "00340434")
        assert found.delivery.note == "picked"  # kept from the earlier move
        history = (await ledger.queries.redemption_histories([mug]))[mug]
        assert [c.status for c in history] == [S.HELD, S.FULFILLING, S.SHIPPED, S.DELIVERED]
        assert history[2].actor == "client:3pl"
        assert "DHL 00340434" in history[2].detail
        await _consistent(ledger, m)


async def test_an_illegal_move_is_refused_and_writes_nothing(db_url: str) -> None:
    async with await _open(db_url) as ledger:
        m = await ledger.enroll("mover")
        assert (await ledger.purchase(m, "o-1", "100")).ok
        mug = await _redeemed(ledger, m, "mug")
        tasting = await _redeemed(ledger, m, "tasting")
        coffee = await _redeemed(ledger, m, "coffee")
        refusals = [
            (await _move(ledger, mug, S.DELIVERED), ErrorCode.INVALID_TRANSITION),
            (await _move(ledger, mug, S.FULFILLED), ErrorCode.INVALID_TRANSITION),
            (
                await _move(ledger, tasting, S.SHIPPED, carrier="x", tracking_number="y"),
                ErrorCode.INVALID_TRANSITION,
            ),
            (await _move(ledger, coffee, S.FULFILLING), ErrorCode.INVALID_TRANSITION),
            (await _move(ledger, mug, S.SHIPPED, carrier="DHL"), ErrorCode.INVALID_INPUT),
            (
                await _move(
                    ledger,
                    mug,
                    S.SHIPPED,
                    carrier="DHL",
                    tracking_number="1",
                    tracking_url="javascript:alert(1)",
                ),
                ErrorCode.INVALID_INPUT,
            ),
        ]
        for out, code in refusals:
            assert not out.ok
            assert out.errors[0].code is code, out.errors
        assert (
            "can go to CANCELLED, FAILED, FULFILLING, SHIPPED" in refusals[0][0].errors[0].message
        )
        assert [await _status(ledger, r) for r in (mug, tasting, coffee)] == [S.HELD] * 3
        assert (await ledger.balance(m))["held"] == 30 + 40 + 10
        await _consistent(ledger, m)


async def test_failed_and_cancelled_return_the_points_and_stock_exactly_once(
    db_url: str,
) -> None:
    async with await _open(db_url) as ledger:
        m = await ledger.enroll("unlucky")
        assert (await ledger.purchase(m, "o-1", "100")).ok
        mug = await _redeemed(ledger, m, "mug")
        tasting = await _redeemed(ledger, m, "tasting")
        assert (await _move(ledger, mug, S.FULFILLING)).ok
        failed = await asyncio.gather(
            *(_move(ledger, mug, S.FAILED, note="lost in the warehouse") for _ in range(4))
        )
        assert sum(out.ok for out in failed) == 1
        assert {out.errors[0].code for out in failed if not out.ok} == {ErrorCode.INVALID_STATE}
        assert (await _move(ledger, tasting, S.CANCELLED)).ok
        assert not (await ledger.cancel(tasting)).ok  # already CANCELLED
        balance = await ledger.balance(m)
        assert (balance["held"], balance["available"]) == (0, 100)
        page = await ledger.queries.reward_page(after=0, limit=100)
        stock = {r.key: r.remaining_stock for r in page.items}
        assert (stock["mug"], stock["tasting"]) == (5, 3)
        await _consistent(ledger, m)


async def test_an_experience_is_booked_and_spent_when_fulfilled(db_url: str) -> None:
    async with await _open(db_url) as ledger:
        m = await ledger.enroll("guest")
        assert (await ledger.purchase(m, "o-1", "100")).ok
        tasting = await _redeemed(ledger, m, "tasting")
        assert (await _move(ledger, tasting, S.FULFILLED, booking_reference="BK-77")).ok
        found = (await ledger.queries.redemptions([tasting]))[tasting]
        assert found.delivery is not None
        assert found.delivery.booking_reference == "BK-77"
        assert (await ledger.balance(m))["available"] == 60
        assert not (await _move(ledger, tasting, S.CANCELLED)).ok  # final
        await _consistent(ledger, m)


async def test_a_till_finds_and_fulfils_a_redemption_by_its_code(db_url: str) -> None:
    async with await _open(db_url) as ledger:
        m = await ledger.enroll("regular")
        assert (await ledger.purchase(m, "o-1", "100")).ok
        coffee = await _redeemed(ledger, m, "coffee")
        [code] = (await ledger.queries.redemptions([coffee]))[coffee].codes
        assert (await ledger.queries.redemption_by_code(code)) is not None
        assert await ledger.queries.redemption_by_code("TLY-NOPE-NOPE-NOPE") is None

        async def by_code(value: str) -> Any:
            return await resolve.fulfill_redemption(
                ledger.uow,
                ledger.clock,
                principal="client:till",
                idempotency_key=ledger.key(),
                cmd=resolve.ResolveRedemption(code=value),
            )

        unknown = await by_code("TLY-0000-0000-0000")
        assert unknown.errors[0].code is ErrorCode.REDEMPTION_NOT_FOUND
        assert unknown.errors[0].field == "code"
        assert (await by_code(f" {code} ")).ok  # as scanned, with stray spaces
        assert (await by_code(code)).errors[0].code is ErrorCode.INVALID_STATE
        assert await _status(ledger, coffee) is S.FULFILLED
        assert (await ledger.balance(m))["available"] == 90
        await _consistent(ledger, m)


async def test_200_concurrent_redemptions_of_a_stock_of_10_give_exactly_10(db_url: str) -> None:
    async with await _open(db_url) as ledger:
        data = _program()
        data["rewards"].append(
            {"key": "poster", "name": "Poster", "cost": 10, "stock": 10, "kind": "PHYSICAL"}
        )
        await apply_program(ledger.uow, ledger.clock, data)
        members = [await ledger.enroll(f"fan-{i}") for i in range(40)]
        for i, m in enumerate(members):
            assert (await ledger.purchase(m, f"o-{i}", "100")).ok
        poster = await ledger.reward_id("poster")
        outs = await asyncio.gather(*(ledger.redeem(m, poster) for m in members * 5))
        assert sum(o.ok for o in outs) == 10  # the stock, whatever the interleaving
        assert {o.errors[0].code for o in outs if not o.ok} == {ErrorCode.OUT_OF_STOCK}
        page = await ledger.queries.reward_page(after=0, limit=100)
        assert {r.key: r.remaining_stock for r in page.items}["poster"] == 0
        held = [(await ledger.balance(m))["held"] for m in members]
        assert sum(held) == 10 * 10
        for m in members:
            await _consistent(ledger, m)


async def test_an_erased_members_overdue_redemption_lapses_and_blocks_no_one(db_url: str) -> None:
    """Found in review: one erased member's open redemption made every sweep fail."""
    from app.services import members
    from app.services.common import MemberRef
    from app.services.fulfil import fail_overdue

    async with await _open(db_url) as ledger:
        gone = await ledger.enroll("gone")
        stays = await ledger.enroll("stays")
        for i, m in enumerate((gone, stays)):
            assert (await ledger.purchase(m, f"o-{i}", "100")).ok
        first = await _redeemed(ledger, gone, "coffee")
        second = await _redeemed(ledger, stays, "coffee")
        erased = await members.erase_member(
            ledger.uow,
            ledger.clock,
            principal="client:staff",
            idempotency_key=ledger.key(),
            cmd=members.EraseMember(MemberRef(id=gone), "request"),
        )
        assert erased.ok, erased.errors
        ledger.clock.advance(days=31)
        assert await fail_overdue(ledger.uow, ledger.clock) == 2
        assert [await _status(ledger, r) for r in (first, second)] == [S.FAILED, S.FAILED]
        assert (await ledger.balance(stays))["available"] == 100
        assert not (await ledger.cancel(first)).ok  # nobody writes for the erased member
