"""Redemptions inside a write transaction: created with their codes, moved along their
lifecycle by conditional updates, every change recorded and numbered per member."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import func, insert, null, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from app.domain.events import RedemptionUpdated
from app.domain.records import Delivery, Redemption, RedemptionChange
from app.domain.rewards import RedemptionStatus, RewardKind
from app.domain.shipping import ShippingAddress
from app.ledger import mappers
from app.ledger.outbox import Outbox
from app.ledger.tables import redemption_events, redemptions, reward_codes

#: Redemptions that count against a per-member limit: not those whose points came back.
_RETURNED = (RedemptionStatus.CANCELLED, RedemptionStatus.FAILED)


async def redemption_by_code(conn: AsyncConnection, code: str) -> Redemption | None:
    """The redemption a code was given out with; None for an unknown or unissued code."""
    row = (
        await conn.execute(
            select(redemptions)
            .join(reward_codes, reward_codes.c.redemption_id == redemptions.c.id)
            .where(reward_codes.c.code == code)
        )
    ).one_or_none()
    return None if row is None else mappers.redemption(row)


class RedemptionStore:
    def __init__(
        self,
        conn: AsyncConnection,
        *,
        lock_rows: bool,
        touch: Callable[[int], None] = lambda _member: None,
    ) -> None:
        self.conn = conn
        self.lock_rows = lock_rows
        self._touch = touch  # tells the unit of work whose subscribers to wake

    async def create(
        self,
        *,
        member_id: int,
        reward_id: int,
        kind: RewardKind,
        quantity: int,
        points: int,
        codes: list[str],
        now: datetime,
        deadline_at: datetime | None = None,
        delivery: Delivery | None = None,
        shipping_address: ShippingAddress | None = None,
    ) -> int:
        """A HELD redemption; its codes are recorded so a till can find it by one."""
        result = await self.conn.execute(
            insert(redemptions)
            .values(
                member_id=member_id,
                reward_id=reward_id,
                kind=kind.value,
                quantity=quantity,
                points=points,
                status=RedemptionStatus.HELD,
                codes=codes,
                created_at=now,
                updated_at=now,
                deadline_at=deadline_at,
                delivery=(delivery.as_stored() or None) if delivery else None,
                shipping_address=shipping_address.as_stored() if shipping_address else null(),
            )
            .returning(redemptions.c.id)
        )
        redemption_id = int(result.scalar_one())
        if codes:
            await self.conn.execute(
                insert(reward_codes),
                [
                    {
                        "code": c,
                        "reward_id": reward_id,
                        "redemption_id": redemption_id,
                        "added_at": now,
                    }
                    for c in codes
                ],
            )
        return redemption_id

    async def set_codes(self, redemption_id: int, codes: list[str]) -> None:
        """The codes drawn for it from a pool (already recorded in reward_codes)."""
        await self.conn.execute(
            update(redemptions).where(redemptions.c.id == redemption_id).values(codes=codes)
        )

    async def get(self, redemption_id: int) -> Redemption | None:
        row = (
            await self.conn.execute(select(redemptions).where(redemptions.c.id == redemption_id))
        ).one_or_none()
        return None if row is None else mappers.redemption(row)

    async def by_code(self, code: str) -> Redemption | None:
        return await redemption_by_code(self.conn, code)

    async def move(
        self,
        redemption: Redemption,
        to: RedemptionStatus,
        now: datetime,
        *,
        resolves_hold: bool,
        delivery: Delivery | None,
    ) -> bool:
        """From the status `redemption` was read in to `to`, with one conditional update:
        False when another change got there first (nothing is written)."""
        values: dict[str, object] = {"status": to.value, "updated_at": now}
        if resolves_hold:
            values["resolved_at"] = now
        if delivery is not None:
            values["delivery"] = delivery.as_stored() or None
        result = await self.conn.execute(
            update(redemptions)
            .where(redemptions.c.id == redemption.id, redemptions.c.status == redemption.status)
            .values(**values)
        )
        return bool(result.rowcount == 1)

    async def record_change(
        self,
        redemption: Redemption,
        status: RedemptionStatus,
        *,
        at: datetime,
        actor: str,
        detail: str,
    ) -> RedemptionChange:
        """The next of the member's numbered redemption changes (the member row is locked,
        and the unique (member, version) refuses a gap or a twin if it were not), with its
        outbox event in the same transaction."""
        c = redemption_events.c
        last = (
            await self.conn.execute(
                select(func.coalesce(func.max(c.version), 0)).where(
                    c.member_id == redemption.member_id
                )
            )
        ).scalar_one()
        change = RedemptionChange(
            id=0,
            redemption_id=redemption.id,
            member_id=redemption.member_id,
            version=int(last) + 1,
            status=status,
            at=at,
            actor=actor[:300],
            detail=detail[:500],
        )
        result = await self.conn.execute(
            insert(redemption_events)
            .values(
                redemption_id=change.redemption_id,
                member_id=change.member_id,
                version=change.version,
                status=change.status.value,
                at=change.at,
                actor=change.actor,
                detail=change.detail,
            )
            .returning(c.id)
        )
        await Outbox(self.conn).append(
            RedemptionUpdated(
                member_id=change.member_id,
                redemption_id=change.redemption_id,
                version=change.version,
                status=change.status.value,
                at=change.at,
                actor=change.actor,
                detail=change.detail,
            ),
            now=at,
            version=change.version,
        )
        self._touch(change.member_id)
        return dataclasses.replace(change, id=int(result.scalar_one()))

    async def overdue(self, now: datetime, limit: int = 500) -> list[Redemption]:
        """Redemptions still holding points past their deadline, oldest deadline first."""
        c = redemptions.c
        rows = await self.conn.execute(
            select(redemptions)
            .where(
                c.status.in_((RedemptionStatus.HELD, RedemptionStatus.FULFILLING)),
                c.deadline_at.is_not(None),
                c.deadline_at <= now,
            )
            .order_by(c.deadline_at, c.id)
            .limit(limit)
        )
        return [mappers.redemption(r) for r in rows]

    async def quantity_redeemed(
        self, member_id: int, reward_id: int, since: datetime | None = None
    ) -> int:
        """Units the member redeemed (not returned), since `since` when given."""
        query = select(func.coalesce(func.sum(redemptions.c.quantity), 0)).where(
            redemptions.c.member_id == member_id,
            redemptions.c.reward_id == reward_id,
            redemptions.c.status.not_in(_RETURNED),
        )
        if since is not None:
            query = query.where(redemptions.c.created_at >= since)
        result = await self.conn.execute(query)
        return int(result.scalar_one())
