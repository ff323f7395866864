"""Sweeps: release pending points and expire lots. Safe to re-run and to run twice at once.

Each lot is handled in its own transaction under its member's lock and re-checked there,
so a second sweeper finds nothing left to do; an expiry's transfer key is derived from
the lot, so the same expiry can never be posted twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from app.domain.accounts import Account, TransferKind
from app.domain.lots import Allocation
from app.ledger.uow import UnitOfWork, WriteTx
from app.services.clock import Clock
from app.services.common import MemberRef, lock_member

BATCH = 200


@dataclass(frozen=True, slots=True)
class SweepReport:
    released: int = 0
    expired: int = 0


async def release_lot(tx: WriteTx, lot_id: int, member_id: int, now: datetime) -> int | None:
    """Make a pending lot available, once (the caller holds the member's lock). Returns
    the points released, or None when the lot was not pending any more."""
    remaining = await tx.lots.release(lot_id)
    if remaining is None:
        return None
    if remaining > 0:
        await tx.transfers.post(
            kind=TransferKind.RELEASE,
            member_id=member_id,
            debit=Account.PENDING,
            credit=Account.AVAILABLE,
            amount=remaining,
            now=now,
            key=f"release:lot:{lot_id}",
        )
    return remaining


async def release_pending(uow: UnitOfWork, clock: Clock) -> int:
    count = 0
    while True:
        async with uow.write() as tx:
            due = await tx.lots.due_for_release(clock.now(), BATCH)
        if not due:
            return count
        for lot_id, member_id in due:
            async with uow.write() as tx:
                await lock_member(tx, MemberRef(id=member_id))
                if await release_lot(tx, lot_id, member_id, clock.now()) is not None:
                    count += 1
        if len(due) < BATCH:
            return count


async def expire_lots(uow: UnitOfWork, clock: Clock) -> int:
    count = 0
    while True:
        async with uow.write() as tx:
            due = await tx.lots.due_for_expiry(clock.now(), BATCH)
        if not due:
            return count
        for lot_id, member_id in due:
            async with uow.write() as tx:
                now = clock.now()
                await lock_member(tx, MemberRef(id=member_id))
                remaining, state, expires_at = await tx.lots.get(lot_id)
                if state != "AVAILABLE" or remaining <= 0 or expires_at is None or expires_at > now:
                    continue
                prefix = f"expire:lot:{lot_id}:"
                sequence = await tx.transfers.count_keys(prefix)
                await tx.lots.take([Allocation(lot_id, remaining)])
                await tx.transfers.post(
                    kind=TransferKind.EXPIRE,
                    member_id=member_id,
                    debit=Account.AVAILABLE,
                    credit=Account.EXPIRED,
                    amount=remaining,
                    now=now,
                    key=f"{prefix}{sequence}",
                )
                count += 1
        if len(due) < BATCH:
            return count


async def run_sweeps(uow: UnitOfWork, clock: Clock) -> SweepReport:
    released = await release_pending(uow, clock)
    expired = await expire_lots(uow, clock)
    return SweepReport(released=released, expired=expired)
