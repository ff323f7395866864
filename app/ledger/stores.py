"""Members, orders and rewards inside a write transaction (redemptions: ledger/redemptions.py)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import insert, null, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from app.domain.errors import DomainError, ErrorCode
from app.domain.events import MemberEnrolled, MemberUpdated, RewardOutOfStock
from app.domain.members import MemberStatus
from app.domain.records import Balance, Member, Order, Reward
from app.domain.reward_definitions import RewardDefinition
from app.ledger import mappers
from app.ledger.catalog import CATALOG, SYSTEM, definition_values
from app.ledger.outbox import Outbox
from app.ledger.tables import (
    balances,
    inbound_events,
    member_tiers,
    members,
    orders,
    redemptions,
    rewards,
)


class MemberStore:
    def __init__(self, conn: AsyncConnection, *, lock_rows: bool) -> None:
        self.conn = conn
        self.lock_rows = lock_rows

    async def create(
        self,
        *,
        external_id: str,
        now: datetime,
        email: str | None,
        display_name: str | None,
        referral_code: str | None = None,
        referred_by: int | None = None,
    ) -> Member:
        member_id = (
            await self.conn.execute(
                insert(members)
                .values(
                    external_id=external_id,
                    email=email,
                    display_name=display_name,
                    referral_code=referral_code,
                    referred_by=referred_by,
                    enrolled_at=now,
                )
                .returning(members.c.id)
            )
        ).scalar_one()
        await self.conn.execute(insert(balances).values(member_id=member_id, updated_at=now))
        # No tier yet: a newcomer holds the first tier until an earn stores one.
        await self.conn.execute(
            insert(member_tiers).values(
                member_id=member_id, since=now, settled_at=now, updated_at=now
            )
        )
        await Outbox(self.conn).append(MemberEnrolled(member_id, now), now=now)
        return Member(member_id, external_id, now, email, display_name, referral_code, referred_by)

    async def by_referral_code(self, code: str) -> Member | None:
        row = (
            await self.conn.execute(select(members).where(members.c.referral_code == code))
        ).one_or_none()
        return None if row is None else mappers.member(row)

    async def by_external_id(self, external_id: str) -> Member | None:
        row = (
            await self.conn.execute(select(members).where(members.c.external_id == external_id))
        ).one_or_none()
        return None if row is None else mappers.member(row)

    async def by_id(self, member_id: int) -> Member | None:
        row = (
            await self.conn.execute(select(members).where(members.c.id == member_id))
        ).one_or_none()
        return None if row is None else mappers.member(row)

    async def update_profile(
        self, member_id: int, changes: dict[str, str | None], now: datetime
    ) -> None:
        """Set `email` and/or `display_name` (None clears one)."""
        allowed = {k: v for k, v in changes.items() if k in ("email", "display_name")}
        if allowed:
            await self.conn.execute(
                update(members).where(members.c.id == member_id).values(**allowed)
            )
            names = tuple(sorted("displayName" if k == "display_name" else k for k in allowed))
            await Outbox(self.conn).append(MemberUpdated(member_id, names, None, now), now=now)

    async def set_status(
        self, member_id: int, status: MemberStatus, reason: str | None, now: datetime
    ) -> None:
        await self.conn.execute(
            update(members)
            .where(members.c.id == member_id)
            .values(status=status.value, status_reason=reason, status_changed_at=now)
        )
        await Outbox(self.conn).append(
            MemberUpdated(member_id, ("status",), status.value, now), now=now
        )

    async def erase(self, member_id: int, pseudonym: str, now: datetime) -> None:
        """Personal data gone: the external id becomes `pseudonym`; e-mail, name, referral
        code and the shipping addresses of their redemptions are cleared. Balances,
        entries, orders, lots and the redemptions themselves stay."""
        await self.conn.execute(
            update(redemptions)
            .where(redemptions.c.member_id == member_id)
            .values(shipping_address=null())  # SQL NULL, not JSON null
        )
        old = (
            await self.conn.execute(select(members.c.external_id).where(members.c.id == member_id))
        ).scalar_one_or_none()
        if old is not None:  # the store webhooks about them: kept, their contents gone
            await self.conn.execute(
                update(inbound_events)
                .where(inbound_events.c.customer == old)
                .values(body={"redacted": "the member was erased"}, customer=None)
            )
        await self.conn.execute(
            update(members)
            .where(members.c.id == member_id)
            .values(
                external_id=pseudonym,
                email=None,
                display_name=None,
                referral_code=None,
                status=MemberStatus.ERASED.value,
                status_reason=None,
                status_changed_at=now,
            )
        )
        erased = ("displayName", "email", "externalId", "status")
        await Outbox(self.conn).append(
            MemberUpdated(member_id, erased, MemberStatus.ERASED.value, now), now=now
        )

    async def lock(self, member_id: int) -> Balance | None:
        """Lock the member's balance row for the rest of the transaction and read it.

        Every write that touches a member takes this lock first, so checks made after it
        (limits, tiers, order state) cannot race. SQLite needs no row lock: BEGIN
        IMMEDIATE already made this the only writer.
        """
        query = select(balances).where(balances.c.member_id == member_id)
        if self.lock_rows:
            query = query.with_for_update()
        row = (await self.conn.execute(query)).one_or_none()
        return None if row is None else mappers.balance(row)


class OrderStore:
    def __init__(self, conn: AsyncConnection, *, lock_rows: bool) -> None:
        self.conn = conn
        self.lock_rows = lock_rows

    async def by_ref(self, order_ref: str) -> Order | None:
        query = select(orders).where(orders.c.order_ref == order_ref)
        if self.lock_rows:
            query = query.with_for_update()
        row = (await self.conn.execute(query)).one_or_none()
        return None if row is None else mappers.order(row)

    async def create(
        self,
        *,
        order_ref: str,
        member_id: int,
        amount: Decimal,
        currency: str,
        channel: str,
        occurred_at: datetime,
        now: datetime,
        lines: list[dict[str, Any]] | None = None,
        shipping: Decimal | None = None,
        points_discount: Decimal | None = None,
    ) -> int:
        result = await self.conn.execute(
            insert(orders)
            .values(
                order_ref=order_ref,
                member_id=member_id,
                amount=amount,
                currency=currency,
                channel=channel,
                returned_amount=Decimal(0),
                lines=lines,
                shipping=shipping,
                points_discount=points_discount,
                occurred_at=occurred_at,
                created_at=now,
            )
            .returning(orders.c.id)
        )
        return int(result.scalar_one())

    async def set_earned(
        self, order_id: int, points: int, explanation: list[dict[str, Any]] | None = None
    ) -> None:
        await self.conn.execute(
            update(orders)
            .where(orders.c.id == order_id)
            .values(points_earned=points, explanation=explanation)
        )

    async def record_return(
        self,
        order_id: int,
        *,
        returned_amount: Decimal,
        reversed_points: int,
        shortfall: int,
        lines: list[dict[str, Any]] | None = None,
    ) -> None:
        values: dict[str, Any] = {
            "returned_amount": returned_amount,
            "points_reversed": orders.c.points_reversed + reversed_points,
            "shortfall": orders.c.shortfall + shortfall,
        }
        if lines is not None:
            values["lines"] = lines
        await self.conn.execute(update(orders).where(orders.c.id == order_id).values(**values))


class RewardStore:
    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def get(self, reward_id: int) -> Reward | None:
        row = (
            await self.conn.execute(select(rewards).where(rewards.c.id == reward_id))
        ).one_or_none()
        return None if row is None else mappers.reward(row)

    async def take_stock(self, reward_id: int, quantity: int, now: datetime) -> bool:
        """Reserve stock with one conditional update: never more than `stock` redeemed.
        Taking the last unit tells the outbox (reward.out_of_stock)."""
        c = rewards.c
        taken = (
            await self.conn.execute(
                update(rewards)
                .where(c.id == reward_id, (c.stock.is_(None)) | (c.redeemed + quantity <= c.stock))
                .values(redeemed=c.redeemed + quantity)
                .returning(c.key, c.stock, c.redeemed)
            )
        ).one_or_none()
        if taken is None:
            return False
        if taken.stock is not None and taken.redeemed >= taken.stock:
            await Outbox(self.conn).append(RewardOutOfStock(reward_id, taken.key, now), now=now)
        return True

    async def return_stock(self, reward_id: int, quantity: int) -> None:
        await self.conn.execute(
            update(rewards)
            .where(rewards.c.id == reward_id)
            .values(redeemed=rewards.c.redeemed - quantity)
        )

    async def sync(self, definitions: tuple[RewardDefinition, ...]) -> None:
        """Make the program's rewards match a program file: upsert by key; rewards no longer
        listed close. Rewards made over the API (the catalog) are not the file's: untouched,
        and a file that names one of their keys is refused."""
        rows = list(await self.conn.execute(select(rewards.c.key, rewards.c.id, rewards.c.source)))
        existing = {r.key: r.id for r in rows if r.source not in (CATALOG, SYSTEM)}
        taken = {r.key: r.source for r in rows if r.source in (CATALOG, SYSTEM)}
        for d in definitions:
            if d.key in taken:
                raise DomainError(
                    ErrorCode.INVALID_INPUT,
                    f"rewards: {d.key!r} is "
                    + (
                        "a catalog reward (createReward)"
                        if taken[d.key] == CATALOG
                        else "the key of Tally's own reward"
                    )
                    + "; give the file's reward another key",
                    "rewards",
                )
            values = {**definition_values(d), "active": True}
            if d.key in existing:
                await self.conn.execute(
                    update(rewards).where(rewards.c.id == existing[d.key]).values(**values)
                )
            else:
                await self.conn.execute(insert(rewards).values(key=d.key, **values))
        gone = set(existing) - {d.key for d in definitions}
        if gone:
            await self.conn.execute(
                update(rewards).where(rewards.c.key.in_(gone)).values(active=False)
            )
