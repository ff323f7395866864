"""Posting transfers: balance row, entries and outbox written together, never read-then-write."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import BigInteger, case, cast, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from app.domain.accounts import Account, TransferKind
from app.domain.events import Topic
from app.domain.lots import Allocation, Lot, LotState
from app.domain.points import POINTS_LIMIT, within_points_limit
from app.domain.records import Balance, BalanceChange
from app.ledger import mappers
from app.ledger.outbox import Outbox
from app.ledger.tables import (
    balances,
    entries,
    lot_holds,
    lots,
    transfers,
    unreversed_points,
)

BALANCE_TOPIC = Topic.BALANCE_CHANGED.value


class BalanceTooLow(Exception):
    """A conditional balance update matched no row: the account would go below zero."""


@dataclass(frozen=True, slots=True)
class Posted:
    transfer_id: int
    balance: Balance
    change: BalanceChange


class TransferStore:
    """Writes transfers. Every member balance change goes through `post`."""

    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn
        self.touched_members: set[int] = set()

    async def post(
        self,
        *,
        kind: TransferKind,
        member_id: int,
        debit: Account,
        credit: Account,
        amount: int,
        now: datetime,
        occurred_at: datetime | None = None,
        key: str | None = None,
        order_id: int | None = None,
        redemption_id: int | None = None,
        reference: str | None = None,
        reason: str | None = None,
        program_version: int | None = None,
        earned: int = 0,
        allow_negative: bool = False,
        counts_at: datetime | None = None,
    ) -> Posted:
        """Post one transfer. `allow_negative` lets `available` go below zero: only a
        return under the program's NEGATIVE_BALANCE policy asks for it."""
        if amount <= 0:
            raise ValueError("a transfer moves a positive number of points")
        within_points_limit(amount, "this transfer")
        delta = {Account.AVAILABLE: 0, Account.PENDING: 0, Account.HELD: 0}
        if debit.is_member_account:
            delta[debit] -= amount
        if credit.is_member_account:
            delta[credit] += amount
        c = balances.c
        # The WHERE makes the update conditional: no debited account may go below zero
        # (a credit may leave `available` below zero: it repays part of a debt). The row
        # lock it takes serialises every change of this member (PostgreSQL).
        columns = {Account.AVAILABLE: c.available, Account.PENDING: c.pending, Account.HELD: c.held}
        conditions = [c.member_id == member_id]
        for account, moved in delta.items():
            if moved < 0 and not (allow_negative and account is Account.AVAILABLE):
                conditions.append(columns[account] + moved >= 0)
        # Nothing a member holds may pass what the API can show: the three balances
        # together (so moving points between them never overflows one), and lifetime
        # earned. Summed as 64-bit, so the check itself cannot overflow a 32-bit column.
        gained = sum(delta.values())
        if gained > 0:
            others = cast(c.pending, BigInteger) + c.held
            held_total = case((c.available > 0, others + c.available), else_=others)
            conditions.append(held_total + gained <= POINTS_LIMIT)
        if earned > 0:
            conditions.append(cast(c.lifetime_earned, BigInteger) + earned <= POINTS_LIMIT)
        row = (
            await self.conn.execute(
                update(balances)
                .where(*conditions)
                .values(
                    available=c.available + delta[Account.AVAILABLE],
                    pending=c.pending + delta[Account.PENDING],
                    held=c.held + delta[Account.HELD],
                    lifetime_earned=c.lifetime_earned + earned,
                    version=c.version + 1,
                    updated_at=now,
                )
                .returning(*balances.c)
            )
        ).one_or_none()
        if row is None:
            await self._past_limit(member_id, gained, earned)
            raise BalanceTooLow(f"member {member_id}: {kind} of {amount} from {debit}")
        balance = mappers.balance(row)
        when = occurred_at or now
        transfer_id = (
            await self.conn.execute(
                insert(transfers)
                .values(
                    key=key,
                    kind=kind.value,
                    member_id=member_id,
                    debit_account=debit.value,
                    credit_account=credit.value,
                    amount=amount,
                    order_id=order_id,
                    redemption_id=redemption_id,
                    reference=reference,
                    reason=reason,
                    program_version=program_version,
                    occurred_at=when,
                    counts_at=counts_at,
                    created_at=now,
                )
                .returning(transfers.c.id)
            )
        ).scalar_one()
        after = {
            Account.AVAILABLE: balance.available,
            Account.PENDING: balance.pending,
            Account.HELD: balance.held,
        }
        await self.conn.execute(
            insert(entries),
            [
                {
                    "transfer_id": transfer_id,
                    "account": account.value,
                    "member_id": member_id if account.is_member_account else None,
                    "amount": signed,
                    "balance_after": after.get(account),
                }
                for account, signed in ((debit, -amount), (credit, amount))
            ],
        )
        change = BalanceChange(
            member_id=member_id,
            version=balance.version,
            kind=kind,
            delta=delta[Account.AVAILABLE],
            pending_delta=delta[Account.PENDING],
            held_delta=delta[Account.HELD],
            balance=balance,
            occurred_at=when,
            transfer_id=transfer_id,
            reference=reference,
        )
        await Outbox(self.conn).append(change, now=now, version=balance.version)
        self.touched_members.add(member_id)
        return Posted(transfer_id, balance, change)

    async def _past_limit(self, member_id: int, gained: int, earned: int) -> None:
        """After a refused update: LIMIT_REACHED when the points limit refused it."""
        c = balances.c
        row = (
            await self.conn.execute(
                select(c.available, c.pending, c.held, c.lifetime_earned).where(
                    c.member_id == member_id
                )
            )
        ).one_or_none()
        if row is None:
            return
        within_points_limit(
            max(row.available, 0) + row.pending + row.held + gained, "the member's points"
        )
        within_points_limit(row.lifetime_earned + earned, "the member's lifetime earned")

    async def unreversed(
        self,
        *,
        member_id: int,
        points: int,
        counts_at: datetime,
        now: datetime,
        order_id: int | None = None,
    ) -> None:
        """Points a return could not take back (spent): noted, so they leave the tier
        measure all the same."""
        if points > 0:
            await self.conn.execute(
                insert(unreversed_points).values(
                    member_id=member_id,
                    points=points,
                    counts_at=counts_at,
                    order_id=order_id,
                    created_at=now,
                )
            )

    async def count_keys(self, prefix: str) -> int:
        count = await self.conn.execute(
            select(func.count()).select_from(transfers).where(transfers.c.key.like(prefix + "%"))
        )
        return int(count.scalar_one())


class LotStore:
    """Lots: each earn's points with their own expiry, consumed earliest-expiry first."""

    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def add(
        self,
        *,
        member_id: int,
        transfer_id: int,
        points: int,
        state: LotState,
        now: datetime,
        order_id: int | None = None,
        release_at: datetime | None = None,
        expires_at: datetime | None = None,
    ) -> int:
        result = await self.conn.execute(
            insert(lots)
            .values(
                member_id=member_id,
                transfer_id=transfer_id,
                order_id=order_id,
                points=points,
                remaining=points,
                state=state,
                release_at=release_at,
                expires_at=expires_at,
                created_at=now,
            )
            .returning(lots.c.id)
        )
        return int(result.scalar_one())

    async def spendable(self, member_id: int) -> list[Lot]:
        rows = await self.conn.execute(
            select(lots.c.id, lots.c.remaining, lots.c.expires_at).where(
                lots.c.member_id == member_id,
                lots.c.state == LotState.AVAILABLE,
                lots.c.remaining > 0,
            )
        )
        return [Lot(r.id, r.remaining, r.expires_at) for r in rows]

    async def take(self, allocations: list[Allocation]) -> None:
        for a in allocations:
            result = await self.conn.execute(
                update(lots)
                .where(lots.c.id == a.lot_id, lots.c.remaining >= a.points)
                .values(remaining=lots.c.remaining - a.points)
            )
            if result.rowcount != 1:
                raise BalanceTooLow(f"lot {a.lot_id} holds less than {a.points}")

    async def give_back(self, allocations: list[Allocation]) -> None:
        for a in allocations:
            await self.conn.execute(
                update(lots)
                .where(lots.c.id == a.lot_id)
                .values(remaining=lots.c.remaining + a.points)
            )

    async def for_order(self, order_id: int) -> list[tuple[int, int, str]]:
        rows = await self.conn.execute(
            select(lots.c.id, lots.c.remaining, lots.c.state)
            .where(lots.c.order_id == order_id)
            .order_by(lots.c.id)
        )
        return [(r.id, r.remaining, r.state) for r in rows]

    async def record_hold(self, redemption_id: int, allocations: list[Allocation]) -> None:
        if allocations:
            await self.conn.execute(
                insert(lot_holds),
                [
                    {"redemption_id": redemption_id, "lot_id": a.lot_id, "points": a.points}
                    for a in allocations
                ],
            )

    async def held_for(self, redemption_id: int) -> list[Allocation]:
        rows = await self.conn.execute(
            select(lot_holds.c.lot_id, lot_holds.c.points).where(
                lot_holds.c.redemption_id == redemption_id
            )
        )
        return [Allocation(r.lot_id, r.points) for r in rows]

    async def release(self, lot_id: int) -> int | None:
        """Mark a pending lot available; its remaining points, or None if already done."""
        result = await self.conn.execute(
            update(lots)
            .where(lots.c.id == lot_id, lots.c.state == LotState.PENDING)
            .values(state=LotState.AVAILABLE)
            .returning(lots.c.remaining)
        )
        remaining = result.scalar_one_or_none()
        return None if remaining is None else int(remaining)

    async def due_for_release(self, now: datetime, limit: int) -> list[tuple[int, int]]:
        rows = await self.conn.execute(
            select(lots.c.id, lots.c.member_id)
            .where(lots.c.state == LotState.PENDING, lots.c.release_at <= now)
            .order_by(lots.c.release_at, lots.c.id)
            .limit(limit)
        )
        return [(r.id, r.member_id) for r in rows]

    async def due_for_expiry(self, now: datetime, limit: int) -> list[tuple[int, int]]:
        rows = await self.conn.execute(
            select(lots.c.id, lots.c.member_id)
            .where(
                lots.c.state == LotState.AVAILABLE, lots.c.remaining > 0, lots.c.expires_at <= now
            )
            .order_by(lots.c.expires_at, lots.c.id)
            .limit(limit)
        )
        return [(r.id, r.member_id) for r in rows]

    async def get(self, lot_id: int) -> tuple[int, str, datetime | None]:
        row = (
            await self.conn.execute(
                select(lots.c.remaining, lots.c.state, lots.c.expires_at).where(lots.c.id == lot_id)
            )
        ).one()
        return int(row.remaining), str(row.state), row.expires_at
