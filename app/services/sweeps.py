"""Sweeps: release pending points, warn of and expire lots, review tiers. Safe to re-run
and to run twice at once.

Each item is handled in its own transaction under its member's lock and re-checked there
(`batches.each_due`), so a second sweeper finds nothing left to do; an expiry's transfer
key is derived from the lot, so the same expiry can never be posted twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from app.domain.accounts import Account, TransferKind
from app.domain.lots import Allocation, LotState
from app.ledger.uow import UnitOfWork, WriteTx
from app.services.batches import BATCH, each_due
from app.services.clock import Clock
from app.services.common import repay_debt
from app.services.fulfil import fail_overdue
from app.services.tiers.review import review_tiers


@dataclass(frozen=True, slots=True)
class SweepReport:
    released: int = 0
    expired: int = 0
    warned: int = 0
    tiers_changed: int = 0
    lapsed: int = 0  # redemptions failed at their deadline, points back

    @property
    def summary(self) -> str:
        return (
            f"released {self.released} pending lots, expired {self.expired} lots, "
            f"warned of {self.warned} expiries, changed {self.tiers_changed} tiers, "
            f"failed {self.lapsed} overdue redemptions"
        )

    @property
    def did_anything(self) -> bool:
        return bool(
            self.released or self.expired or self.warned or self.tiers_changed or self.lapsed
        )


async def release_lot(tx: WriteTx, lot_id: int, member_id: int, now: datetime) -> int | None:
    """Make a pending lot available, once (the caller holds the member's lock). Returns
    the points released, or None when the lot was not pending any more."""
    remaining = await tx.lots.release(lot_id)
    if remaining is None:
        return None
    if remaining > 0:
        posted = await tx.transfers.post(
            kind=TransferKind.RELEASE,
            member_id=member_id,
            debit=Account.PENDING,
            credit=Account.AVAILABLE,
            amount=remaining,
            now=now,
            key=f"release:lot:{lot_id}",
        )
        await repay_debt(tx, posted, prefer=lot_id)
    return remaining


def _lot_member(item: tuple[int, int]) -> int:
    return item[1]


async def release_pending(uow: UnitOfWork, clock: Clock) -> int:
    async def release(tx: WriteTx, item: tuple[int, int]) -> int:
        return int(await release_lot(tx, item[0], item[1], clock.now()) is not None)

    return await each_due(
        uow, lambda tx: tx.lots.due_for_release(clock.now(), BATCH), _lot_member, release
    )


async def expire_lots(uow: UnitOfWork, clock: Clock) -> int:
    async def expire(tx: WriteTx, item: tuple[int, int]) -> int:
        return int(await expire_lot(tx, item[0], item[1], clock.now()))

    return await each_due(
        uow, lambda tx: tx.lots.due_for_expiry(clock.now(), BATCH), _lot_member, expire
    )


async def expire_lot(
    tx: WriteTx, lot_id: int, member_id: int, now: datetime, *, due_only: bool = True
) -> bool:
    """Expire what is left of a lot (the caller holds the member's lock). The transfer key
    derives from the lot, so the same expiry is never posted twice."""
    remaining, state, expires_at = await tx.lots.get(lot_id)
    if state != LotState.AVAILABLE or remaining <= 0:
        return False
    if due_only and (expires_at is None or expires_at > now):
        return False
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
    return True


async def expire_inactive(uow: UnitOfWork, clock: Clock) -> int:
    """INACTIVITY policy: all points of members with no earn or redemption for N days."""
    async with uow.write() as tx:
        version = await tx.programs.active()
    window = version.program.expiry.inactivity if version else None
    if window is None:
        return 0
    cutoff = clock.now() - window

    async def expire_all(tx: WriteTx, member_id: int) -> int:
        if not await tx.expiry.is_inactive(member_id, cutoff):
            return 0  # an earn or redemption arrived meanwhile
        expired = 0
        for lot_id in await tx.expiry.spendable_lot_ids(member_id):
            expired += await expire_lot(tx, lot_id, member_id, clock.now(), due_only=False)
        return expired

    return await each_due(
        uow, lambda tx: tx.expiry.inactive_members(cutoff, BATCH), int, expire_all
    )


async def warn_expiring(uow: UnitOfWork, clock: Clock) -> int:
    """Write a pointsExpiring event `expiry_warning_days` before lots expire, once each."""
    async with uow.write() as tx:
        version = await tx.programs.active()
    if version is None:
        return 0
    until = clock.now() + timedelta(days=version.program.expiry.warning_days)

    async def warn(tx: WriteTx, item: tuple[int, datetime, int]) -> int:
        return int(await tx.expiry.warn(item[0], item[1], clock.now()) > 0)

    return await each_due(
        uow, lambda tx: tx.expiry.unwarned(until, BATCH), lambda item: item[0], warn
    )


async def run_sweeps(uow: UnitOfWork, clock: Clock) -> SweepReport:
    released = await release_pending(uow, clock)
    warned = await warn_expiring(uow, clock)
    expired = await expire_lots(uow, clock) + await expire_inactive(uow, clock)
    tiers_changed = await review_tiers(uow, clock)
    lapsed = await fail_overdue(uow, clock)
    return SweepReport(
        released=released,
        expired=expired,
        warned=warned,
        tiers_changed=tiers_changed,
        lapsed=lapsed,
    )
