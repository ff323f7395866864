"""A ledger under test: real database, fixed clock, the same wiring as the app."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from app.domain.program import program_to_data
from app.domain.shipping import ShippingAddress
from app.events.feed import ChangeFeed
from app.ledger.database import Database, open_database
from app.ledger.uow import UnitOfWork
from app.services import adjust, enroll, purchase, redeem, resolve, returns
from app.services.clock import FixedClock
from app.services.codec import AnswerCodec
from app.services.common import MemberRef
from app.services.outcome import Outcome
from app.services.program import apply_program, load_program_file
from app.services.queries import Queries


def answer(outcome: Outcome[Any]) -> dict[str, Any]:
    """A write's answer in the shape the idempotency store keeps it (what the model predicts)."""
    if outcome.result is None:
        return {}
    return AnswerCodec(type(outcome.result)).encode(outcome.result)


START = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
TEST_ADDRESS = ShippingAddress(
    name="Ada Member", line1="Hauptstr. 1", city="Berlin", postal_code="10115", country="DE"
)
PROGRAM_FILE = Path(__file__).resolve().parents[2] / "app" / "programs" / "demo.toml"


def program_data(**changes: Any) -> dict[str, Any]:
    """A small program: 1 point per EUR, gold at 1000 points (x2), two rewards."""
    data: dict[str, Any] = {
        "program": {
            "name": "Test Club",
            "currency": "EUR",
            "points_per_unit": "1",
            "pending_days": 0,
            "time_zone": "UTC",
            "points_expiry_days": 365,
        },
        "tiers": [
            {"key": "member", "name": "Member", "threshold": 0, "multiplier": "1"},
            {"key": "gold", "name": "Gold", "threshold": 1000, "multiplier": "2"},
        ],
        "rewards": [
            {"key": "coffee", "name": "Coffee", "cost": 10, "discount": "1 coffee"},
            {"key": "tote", "name": "Tote", "cost": 50, "stock": 10, "discount": "tote bag"},
            {
                "key": "lounge",
                "name": "Lounge",
                "cost": 5,
                "min_tier": "gold",
                "per_member_limit": 1,
            },
        ],
    }
    for key, value in changes.items():
        data["program"][key] = value
    return data


def rules_program() -> dict[str, Any]:
    data = program_data()
    data["rules"] = [
        {"key": "base", "name": "Base", "priority": 10, "effect": "PER_UNIT", "value": "1"},
        {
            "key": "tuesday",
            "name": "Double points Tuesday",
            "priority": 20,
            "effect": "MULTIPLIER",
            "value": "2",
            "conditions": {"weekdays": ["TUE"]},
        },
        {
            "key": "big-basket",
            "name": "Big basket bonus",
            "priority": 30,
            "effect": "BONUS",
            "value": "50",
            "conditions": {"min_order_amount": "100"},
            "cap": {"points": 60, "period": "DAY"},
        },
    ]
    return data


@dataclass
class Ledger:
    db: Database
    clock: FixedClock
    feed: ChangeFeed
    uow: UnitOfWork
    queries: Queries
    principal: str = "client:test"
    _keys: int = field(default=0)

    @classmethod
    async def open(cls, url: str, **program: Any) -> Ledger:
        db = open_database(url)
        feed = ChangeFeed()
        clock = FixedClock(START)
        uow = UnitOfWork(db, on_commit=feed.publish)
        ledger = cls(db, clock, feed, uow, Queries(uow, clock))
        await apply_program(uow, clock, program_data(**program))
        return ledger

    async def close(self) -> None:
        await self.db.dispose()

    async def __aenter__(self) -> Ledger:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        """`async with ledger:` closes it however the test ends."""
        await self.close()

    def key(self) -> str:
        self._keys += 1
        return f"k-{self._keys}"

    async def enroll(self, external_id: str, key: str | None = None) -> int:
        out = await enroll.enroll_member(
            self.uow,
            self.clock,
            principal=self.principal,
            idempotency_key=key or self.key(),
            cmd=enroll.EnrollMember(external_id=external_id),
        )
        assert out.ok, out.errors
        return int(out.value.member_id)

    async def purchase(
        self, member_id: int, order: str, amount: str, key: str | None = None
    ) -> Outcome[Any]:
        return await purchase.record_purchase(
            self.uow,
            self.clock,
            principal=self.principal,
            idempotency_key=key or self.key(),
            cmd=purchase.RecordPurchase(
                MemberRef(id=member_id), order, amount, "EUR", "POS", self.clock.now()
            ),
        )

    async def purchase_with_cart(
        self, member_id: int, order: str, amount: str, cart_id: str, key: str | None = None
    ) -> Outcome[Any]:
        """A purchase paying a cart with points applied (applyPointsAtCheckout)."""
        return await purchase.record_purchase(
            self.uow,
            self.clock,
            principal=self.principal,
            idempotency_key=key or self.key(),
            cmd=purchase.RecordPurchase(
                MemberRef(id=member_id),
                order,
                amount,
                "EUR",
                "POS",
                self.clock.now(),
                cart_id=cart_id,
            ),
        )

    async def return_(self, order: str, amount: str, key: str | None = None) -> Outcome[Any]:
        return await returns.record_return(
            self.uow,
            self.clock,
            principal=self.principal,
            idempotency_key=key or self.key(),
            cmd=returns.RecordReturn(order, amount),
        )

    async def reward_id(self, key: str) -> int:
        page = await self.queries.reward_page(after=0, limit=100)
        return next(r.id for r in page.items if r.key == key)

    async def redeem(
        self, member_id: int, reward_id: int, quantity: int = 1, key: str | None = None
    ) -> Outcome[Any]:
        """Goods (PHYSICAL) are shipped to TEST_ADDRESS."""
        found = (await self.queries.rewards([reward_id])).get(reward_id)
        physical = found is not None and found.kind == "PHYSICAL"
        return await redeem.redeem_reward(
            self.uow,
            self.clock,
            principal=self.principal,
            idempotency_key=key or self.key(),
            cmd=redeem.RedeemReward(
                MemberRef(id=member_id),
                reward_id,
                quantity,
                shipping_address=TEST_ADDRESS if physical else None,
            ),
        )

    async def cancel(self, redemption_id: int, key: str | None = None) -> Outcome[Any]:
        return await resolve.cancel_redemption(
            self.uow,
            self.clock,
            principal=self.principal,
            idempotency_key=key or self.key(),
            cmd=resolve.ResolveRedemption(redemption_id),
        )

    async def fulfill(self, redemption_id: int, key: str | None = None) -> Outcome[Any]:
        return await resolve.fulfill_redemption(
            self.uow,
            self.clock,
            principal=self.principal,
            idempotency_key=key or self.key(),
            cmd=resolve.ResolveRedemption(redemption_id),
        )

    async def adjust(self, member_id: int, points: int, key: str | None = None) -> Outcome[Any]:
        return await adjust.adjust_points(
            self.uow,
            self.clock,
            principal=self.principal,
            idempotency_key=key or self.key(),
            cmd=adjust.AdjustPoints(MemberRef(id=member_id), points, "test"),
        )

    async def balance(self, member_id: int) -> dict[str, int]:
        return (await self.queries.balances([member_id]))[member_id].as_data()


__all__ = [
    "Ledger",
    "PROGRAM_FILE",
    "load_program_file",
    "program_to_data",
    "program_data",
    "rules_program",
]
