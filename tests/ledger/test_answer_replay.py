"""Answers stored before typed results replay exactly as they did.

Until the answer codec, the idempotency store kept `{"data": {camelCase...}, "errors": [...]}`
with no version. Each case writes its first answer, rewrites the stored row the old way (as
today's rows on disk are), and replays it through the new code: the same typed result, the
same errors, marked as a replay. The request hash is pinned too, so a key used before an
upgrade still matches the same request after it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, update

from app.domain.records import Balance
from app.ledger.tables import idempotency_keys
from app.services.idempotent import request_hash
from app.services.purchase import PurchaseRecorded
from app.services.returns import ReturnRecorded
from tests.ledger.harness import Ledger


async def _store_the_old_way(ledger: Ledger, key: str, response: dict[str, Any]) -> None:
    async with ledger.db.write_engine.begin() as conn:
        await conn.execute(
            update(idempotency_keys)
            .where(idempotency_keys.c.principal == ledger.principal, idempotency_keys.c.key == key)
            .values(response=response)
        )


def _old_balance(b: Balance) -> dict[str, int]:
    return {
        "available": b.available,
        "pending": b.pending,
        "held": b.held,
        "lifetimeEarned": b.lifetime_earned,
        "version": b.version,
    }


async def test_old_answers_of_every_write_replay_as_typed_results(db_url: str) -> None:
    ledger = await Ledger.open(db_url)
    async with ledger:
        member = await ledger.enroll("alice", key="enroll-1")
        bought = (await ledger.purchase(member, "o-1", "1200", key="buy-1")).value
        adjusted = (await ledger.adjust(member, 40, key="adjust-1")).value
        coffee = await ledger.reward_id("coffee")
        redeemed = (await ledger.redeem(member, coffee, key="redeem-1")).value
        cancelled = (await ledger.cancel(redeemed.redemption_id, key="cancel-1")).value
        returned = (await ledger.return_("o-1", "200", key="return-1")).value
        failed = await ledger.redeem(member, coffee, quantity=0, key="redeem-bad")

        # What the code before typed results wrote for each of them, key for key.
        old = {
            "enroll-1": {"data": {"memberId": member}, "errors": []},
            "buy-1": {
                "data": {
                    "upgradedTo": "gold",
                    "memberId": member,
                    "orderId": "o-1",
                    "points": bought.points,
                    "pending": False,
                    "tier": "member",
                    "balance": _old_balance(bought.balance),
                },
                "errors": [],
            },
            "adjust-1": {
                "data": {
                    "memberId": member,
                    "points": 40,
                    "balance": _old_balance(adjusted.balance),
                },
                "errors": [],
            },
            "redeem-1": {
                "data": {
                    "memberId": member,
                    "redemptionId": redeemed.redemption_id,
                    "points": redeemed.points,
                    "balance": _old_balance(redeemed.balance),
                },
                "errors": [],
            },
            "cancel-1": {
                "data": {
                    "memberId": member,
                    "redemptionId": cancelled.redemption_id,
                    "points": cancelled.points,
                    "balance": _old_balance(cancelled.balance),
                },
                "errors": [],
            },
            "return-1": {
                "data": {
                    "memberId": member,
                    "orderId": "o-1",
                    "points": returned.points,
                    "shortfall": returned.shortfall,
                    "balance": _old_balance(returned.balance),
                },
                "errors": [],
            },
        }
        for key, response in old.items():
            await _store_the_old_way(ledger, key, response)

        again_enroll = await ledger.enroll("alice", key="enroll-1")
        again_buy = await ledger.purchase(member, "o-1", "1200", key="buy-1")
        again_adjust = await ledger.adjust(member, 40, key="adjust-1")
        again_redeem = await ledger.redeem(member, coffee, key="redeem-1")
        again_cancel = await ledger.cancel(redeemed.redemption_id, key="cancel-1")
        again_return = await ledger.return_("o-1", "200", key="return-1")
        again_failed = await ledger.redeem(member, coffee, quantity=0, key="redeem-bad")

        assert again_enroll == member
        assert again_buy.replayed
        assert again_buy.value == bought
        assert bought == PurchaseRecorded(
            member_id=member,
            order_id="o-1",
            points=1200,
            pending=False,
            tier="member",
            balance=bought.balance,
            upgraded_to="gold",
        )
        assert (again_adjust.value, again_adjust.replayed) == (adjusted, True)
        assert (again_redeem.value, again_redeem.replayed) == (redeemed, True)
        assert (again_cancel.value, again_cancel.replayed) == (cancelled, True)
        assert (again_return.value, again_return.replayed) == (returned, True)
        assert isinstance(again_return.value, ReturnRecorded)
        assert again_failed.errors == failed.errors  # failures are never stored: judged again


async def test_a_stored_failure_replays_its_error(db_url: str) -> None:
    ledger = await Ledger.open(db_url)
    async with ledger:
        member = await ledger.enroll("alice")
        first = await ledger.adjust(member, -5, key="adjust-1")  # more than available
        assert first.errors
        await _store_the_old_way(
            ledger,
            "adjust-1",
            {
                "data": {},
                "errors": [
                    {"code": e.code.value, "message": e.message, "field": e.field}
                    for e in first.errors
                ],
            },
        )

        again = await ledger.adjust(member, -5, key="adjust-1")

        assert again.replayed
        assert again.result is None
        assert again.errors == first.errors


async def test_request_hashes_are_the_ones_keys_were_stored_with(db_url: str) -> None:
    """The shape of a purchase request, frozen: the hash earlier code stored for it, so a key
    used before an upgrade still matches the same request after it."""
    ledger = await Ledger.open(db_url)
    async with ledger:
        member = await ledger.enroll("alice")
        await ledger.purchase(member, "o-1", "12.50", key="buy-1")
        async with ledger.db.read_engine.connect() as conn:
            stored = (
                await conn.execute(
                    select(idempotency_keys.c.request_hash).where(idempotency_keys.c.key == "buy-1")
                )
            ).scalar_one()
    expected = {
        "memberId": member,
        "externalId": None,
        "orderId": "o-1",
        "amount": "12.50",
        "currency": "EUR",
        "channel": "POS",
        "occurredAt": datetime(2026, 1, 5, 12, 0, tzinfo=UTC).isoformat(),
    }
    assert member == 1
    assert stored == request_hash("recordPurchase", expected) == PURCHASE_HASH


#: Computed by the code before typed results (a5e9526) for the request above.
PURCHASE_HASH = "dfc379e2c3981f5b752aa5f1bafb03a23253775a9cc272fee1ee42c299e51d7e"


async def test_every_operation_keeps_the_request_shape_its_keys_were_stored_with(
    db_url: str,
) -> None:
    """Each write's request shape, frozen by its hash: a key used before an upgrade still
    matches the same request after it, and an accidental change of shape (a renamed,
    added or reordered field) fails here rather than as IDEMPOTENCY_CONFLICT in the field."""
    ledger = await Ledger.open(db_url)
    async with ledger:
        member = await ledger.enroll("alice", key="enroll")
        assert (await ledger.purchase(member, "o-1", "120.00", key="purchase")).ok
        assert (await ledger.return_("o-1", "20.00", key="return")).ok
        reward = await ledger.reward_id("coffee")
        held = await ledger.redeem(member, reward, key="redeem")
        assert held.ok, held.errors
        assert (await ledger.cancel(held.value.redemption_id, key="cancel")).ok
        again = await ledger.redeem(member, reward, key="redeem-2")
        assert (await ledger.fulfill(again.value.redemption_id, key="fulfill")).ok
        assert (await ledger.adjust(member, -5, key="adjust")).ok
        async with ledger.db.read_engine.connect() as conn:
            rows = await conn.execute(
                select(idempotency_keys.c.key, idempotency_keys.c.request_hash)
            )
            stored = {key: digest[:16] for key, digest in rows}
    assert stored == REQUEST_HASHES


#: The first 16 hex digits of each request's hash, as the code before typed results
#: (a5e9526) stored them for the same calls, on SQLite and PostgreSQL alike.
REQUEST_HASHES = {
    "enroll": "51cea98e70e9bc9a",
    "purchase": "ede7c64cb2716a3a",
    "return": "2aa47cbf8bad6312",
    "redeem": "4f58e282d3055c14",
    "cancel": "59d797b858d520f4",
    "redeem-2": "4f58e282d3055c14",
    "fulfill": "9706669ad863dad8",
    "adjust": "3c6424b111533fa7",
}
