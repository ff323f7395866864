"""Expiry by lots: spending consumes the lots that expire first."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class LotState(StrEnum):
    """A lot waits out the return window (PENDING), then can be spent (AVAILABLE)."""

    PENDING = "PENDING"
    AVAILABLE = "AVAILABLE"


@dataclass(frozen=True, slots=True)
class Lot:
    id: int
    remaining: int
    expires_at: datetime | None


@dataclass(frozen=True, slots=True)
class Allocation:
    lot_id: int
    points: int


def spend_order(lot: Lot) -> tuple[int, float, int]:
    """Earliest expiry first; lots that never expire last; ties by lot id (oldest first)."""
    if lot.expires_at is None:
        return (1, 0.0, lot.id)
    return (0, lot.expires_at.timestamp(), lot.id)


def allocate(lots: list[Lot], points: int, *, prefer: int | None = None) -> list[Allocation]:
    """Take `points` from `lots`; the lot `prefer` first (an order's own lot on return).

    Raises ValueError when the lots hold less than `points`: the caller checked the
    balance, so a shortfall here means the ledger is inconsistent.
    """
    if points < 0:
        raise ValueError("cannot allocate a negative amount")
    ordered = sorted((lot for lot in lots if lot.remaining > 0), key=spend_order)
    if prefer is not None:
        ordered.sort(key=lambda lot: lot.id != prefer)
    allocations: list[Allocation] = []
    left = points
    for lot in ordered:
        if left == 0:
            break
        take = min(lot.remaining, left)
        allocations.append(Allocation(lot.id, take))
        left -= take
    if left:
        raise ValueError(f"lots hold {points - left} points, {points} needed")
    return allocations
