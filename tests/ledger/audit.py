"""Invariant reads the ledger tests check after every step: they read the tables directly,
so they stay out of the application's read side (which serves the dataloaders)."""

from __future__ import annotations

from sqlalchemy import and_, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from app.domain.accounts import Account
from app.domain.rewards import RedemptionStatus
from app.ledger.queries import ReadLedger
from app.ledger.tables import entries, lots, outbox, redemptions
from app.ledger.transfers import BALANCE_TOPIC


class LedgerAudit:
    """Sums and sequences that must always hold: every transfer balances, every account
    agrees with its lots, versions have no gap."""

    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def transfer_imbalances(self) -> int:
        """How many transfers have entries that do not sum to zero (should be none)."""
        per_transfer = (
            select(entries.c.transfer_id)
            .group_by(entries.c.transfer_id)
            .having(func.sum(entries.c.amount) != 0)
            .subquery()
        )
        return int(
            (await self.conn.execute(select(func.count()).select_from(per_transfer))).scalar_one()
        )

    async def account_totals(self) -> dict[str, int]:
        rows = await self.conn.execute(
            select(entries.c.account, func.sum(entries.c.amount)).group_by(entries.c.account)
        )
        return {account: int(total) for account, total in rows}

    async def member_account_sums(self, member_id: int) -> dict[str, int]:
        rows = await self.conn.execute(
            select(entries.c.account, func.sum(entries.c.amount))
            .where(entries.c.member_id == member_id)
            .group_by(entries.c.account)
        )
        found = {a.value: 0 for a in (Account.AVAILABLE, Account.PENDING, Account.HELD)}
        found.update({account: int(total) for account, total in rows})
        return found

    async def lot_remainders(self, member_id: int) -> dict[str, int]:
        rows = await self.conn.execute(
            select(lots.c.state, func.sum(lots.c.remaining))
            .where(lots.c.member_id == member_id)
            .group_by(lots.c.state)
        )
        found = {"AVAILABLE": 0, "PENDING": 0}
        found.update({state: int(total) for state, total in rows})
        return found

    async def versions(self, member_id: int) -> list[int]:
        rows = await self.conn.execute(
            select(outbox.c.version)
            .where(outbox.c.member_id == member_id, outbox.c.topic == BALANCE_TOPIC)
            .order_by(outbox.c.version)
        )
        return [int(v) for (v,) in rows]

    async def held_by_redemptions(self, member_id: int) -> int:
        rows = await self.conn.execute(
            select(func.coalesce(func.sum(redemptions.c.points), 0)).where(
                and_(
                    redemptions.c.member_id == member_id,
                    redemptions.c.status == RedemptionStatus.HELD,
                )
            )
        )
        return int(rows.scalar_one())


def audit(read: ReadLedger) -> LedgerAudit:
    """The audit queries on a read's connection."""
    return LedgerAudit(read.conn)
