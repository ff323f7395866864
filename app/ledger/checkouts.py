"""Carts paying with points, inside a write transaction: one row per cart id, naming its
current hold; the first checkout of a cart id owns it (a second member's is refused)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from app.domain.records import CheckoutCart
from app.ledger.tables import checkout_carts


def _cart(row: Any) -> CheckoutCart:
    return CheckoutCart(
        cart_id=row.cart_id,
        member_id=row.member_id,
        redemption_id=row.redemption_id,
        points=row.points,
        discount=row.discount,
        currency=row.currency,
        order_ref=row.order_ref,
        updated_at=row.updated_at,
    )


class CheckoutStore:
    def __init__(self, conn: AsyncConnection, *, lock_rows: bool) -> None:
        self.conn = conn
        self.lock_rows = lock_rows

    async def get(self, cart_id: str) -> CheckoutCart | None:
        query = select(checkout_carts).where(checkout_carts.c.cart_id == cart_id)
        if self.lock_rows:
            query = query.with_for_update()
        row = (await self.conn.execute(query)).one_or_none()
        return None if row is None else _cart(row)

    async def open(
        self,
        *,
        cart_id: str,
        member_id: int,
        redemption_id: int,
        points: int,
        discount: Decimal,
        currency: str,
        now: datetime,
    ) -> bool:
        """Record a new cart's hold; False when the cart id is already taken (a concurrent
        checkout of it committed first: on PostgreSQL this waits for it, then declines)."""
        values = {
            "cart_id": cart_id,
            "member_id": member_id,
            "redemption_id": redemption_id,
            "points": points,
            "discount": discount,
            "currency": currency,
            "created_at": now,
            "updated_at": now,
        }
        insert = pg_insert if self.conn.dialect.name == "postgresql" else sqlite_insert
        result = await self.conn.execute(
            insert(checkout_carts)
            .values(**values)
            .on_conflict_do_nothing(index_elements=["cart_id"])
        )
        return bool(result.rowcount == 1)

    async def replace(
        self, cart_id: str, *, redemption_id: int, points: int, discount: Decimal, now: datetime
    ) -> None:
        await self.conn.execute(
            update(checkout_carts)
            .where(checkout_carts.c.cart_id == cart_id, checkout_carts.c.order_ref.is_(None))
            .values(redemption_id=redemption_id, points=points, discount=discount, updated_at=now)
        )

    async def mark_paid(self, cart_id: str, order_ref: str, now: datetime) -> None:
        await self.conn.execute(
            update(checkout_carts)
            .where(checkout_carts.c.cart_id == cart_id)
            .values(order_ref=order_ref, updated_at=now)
        )
