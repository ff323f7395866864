"""The reward catalog inside a write transaction: rewards created, changed and retired
over the API (the program file keeps its own), and pools of imported discount codes, each
code given out once (`FOR UPDATE SKIP LOCKED` on PostgreSQL, the single writer on SQLite)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from app.domain.records import Reward
from app.domain.reward_definitions import RewardDefinition
from app.ledger import mappers
from app.ledger.tables import reward_codes, rewards

CATALOG = "catalog"  # rewards.source of a reward made over the API; "program" otherwise
SYSTEM = "system"  # rewards.source of Tally's own (never listed, never redeemed as such)
CHECKOUT_REWARD = "points-at-checkout"  # the system reward a checkout's points hold redeems


def definition_values(d: RewardDefinition) -> dict[str, Any]:
    """The columns a reward definition sets (the program's sync and the catalog share it)."""
    return {
        "name": d.name,
        "description": d.description,
        "kind": d.kind,
        "discount": d.discount,
        "cost": d.cost,
        "stock": d.stock,
        "min_tier": d.min_tier,
        "per_member_limit": d.per_member_limit,
        "active_from": d.active_from,
        "active_until": d.active_until,
        "provider": d.provider,
        "product_id": d.product_id,
        "face_value": d.face_value,
        "face_currency": d.face_currency,
        "delivery": d.delivery,
        "deadline_hours": d.deadline,
        "visible_tiers": list(d.visible_tiers) if d.visible_tiers else None,
        "limit_period": d.limit_period,
        "value_type": d.value.type.value if d.value else None,
        "value_amount": d.value.stored_amount if d.value else None,
        "value_currency": d.value.currency if d.value else None,
        "value_sku": d.value.sku if d.value else None,
        "value_level": d.value.level.value if d.value else None,
        "experience_at": d.experience_at,
    }


class CatalogStore:
    def __init__(self, conn: AsyncConnection, *, lock_rows: bool) -> None:
        self.conn = conn
        self.lock_rows = lock_rows

    async def checkout_reward(self) -> Reward:
        """The system reward a checkout's points hold redeems, made by the first checkout
        (safely under concurrency: a second maker's insert does nothing)."""
        found = await self.by_key(CHECKOUT_REWARD)
        if found is not None:
            return found
        insert_into = pg_insert if self.conn.dialect.name == "postgresql" else sqlite_insert
        await self.conn.execute(
            insert_into(rewards)
            .values(
                key=CHECKOUT_REWARD,
                name="Points at checkout",
                description="Points paying for part of an order (applyPointsAtCheckout).",
                kind="DISCOUNT_CODE",
                discount="",
                cost=1,
                redeemed=0,
                active=False,
                deadline_hours=1,
                source=SYSTEM,
                code_source="GENERATED",
                limit_period="LIFETIME",
            )
            .on_conflict_do_nothing(index_elements=["key"])
        )
        made = await self.by_key(CHECKOUT_REWARD)
        assert made is not None
        return made

    async def by_key(self, key: str) -> Reward | None:
        row = (await self.conn.execute(select(rewards).where(rewards.c.key == key))).one_or_none()
        return None if row is None else mappers.reward(row)

    async def create(self, d: RewardDefinition, *, code_source: str) -> int:
        result = await self.conn.execute(
            insert(rewards)
            .values(
                key=d.key,
                source=CATALOG,
                code_source=code_source,
                active=True,
                redeemed=0,
                **definition_values(d),
            )
            .returning(rewards.c.id)
        )
        return int(result.scalar_one())

    async def change(self, reward_id: int, d: RewardDefinition, *, pool: bool) -> None:
        values = definition_values(d)
        if pool:
            values.pop("stock")  # a pool's stock is its codes: left as it is
        await self.conn.execute(update(rewards).where(rewards.c.id == reward_id).values(**values))

    async def retire(self, reward_id: int) -> bool:
        result = await self.conn.execute(
            update(rewards)
            .where(rewards.c.id == reward_id, rewards.c.active.is_(True))
            .values(active=False)
        )
        return bool(result.rowcount == 1)

    async def codes_in_use(self, codes: Sequence[str]) -> set[str]:
        found: set[str] = set()
        for start in range(0, len(codes), 500):
            chunk = list(codes[start : start + 500])
            rows = await self.conn.execute(
                select(reward_codes.c.code).where(reward_codes.c.code.in_(chunk))
            )
            found.update(r.code for r in rows)
        return found

    async def add_codes(self, reward_id: int, codes: Sequence[str], now: datetime) -> None:
        """New codes in the reward's pool; its stock grows by as many."""
        if not codes:
            return
        await self.conn.execute(
            insert(reward_codes),
            [
                {"code": c, "reward_id": reward_id, "redemption_id": None, "added_at": now}
                for c in codes
            ],
        )
        c = rewards.c
        await self.conn.execute(
            update(rewards)
            .where(c.id == reward_id)
            .values(stock=func.coalesce(c.stock, 0) + len(codes))
        )

    async def unused_codes(self, reward_id: int) -> int:
        c = reward_codes.c
        result = await self.conn.execute(
            select(func.count()).where(c.reward_id == reward_id, c.redemption_id.is_(None))
        )
        return int(result.scalar_one())

    async def draw_codes(self, reward_id: int, redemption_id: int, count: int) -> list[str]:
        """`count` unused codes of the pool, now the redemption's (fewer if it ran dry:
        the stock check before makes that a bug, and the caller refuses it)."""
        c = reward_codes.c
        query = (
            select(c.code)
            .where(c.reward_id == reward_id, c.redemption_id.is_(None))
            .order_by(c.added_at, c.code)
            .limit(count)
        )
        if self.lock_rows:
            query = query.with_for_update(skip_locked=True)
        drawn = [r.code for r in await self.conn.execute(query)]
        if drawn:
            await self.conn.execute(
                update(reward_codes).where(c.code.in_(drawn)).values(redemption_id=redemption_id)
            )
        return drawn
