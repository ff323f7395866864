"""A member's tier standing: the tier measure over a window, the tier each member holds,
their progress (what the next tier, or keeping this one, still needs), and saving a
standing with its tier.changed event."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Protocol

from app.domain.program import Program
from app.domain.tiers.lifecycle import Standing, StandingUpdate, held, review_window
from app.domain.tiers.policy import Tier, TierMeasure
from app.domain.tiers.progress import MeasuredTier, TierProgress, measurement_window, tier_progress
from app.ledger.programs import ProgramVersion
from app.ledger.tiers.measures import Measured, TierMeasures, Window
from app.ledger.tiers.standings import TierStore
from app.ledger.uow import WriteTx


class TierSource(Protocol):
    """Where tier reads come from: a write transaction or a read (both carry these stores)."""

    @property
    def tiers(self) -> TierStore: ...

    @property
    def tier_measures(self) -> TierMeasures: ...


async def measure(
    source: TierSource, program: Program, windows: dict[int, Window]
) -> dict[int, Measured]:
    """The program's tier measure (points or spend) over each member's window."""
    measures = source.tier_measures
    if program.tier_measure is TierMeasure.SPEND:
        return await measures.spend(windows)
    return await measures.points(windows)


async def measure_tiers(
    source: TierSource, program: Program, ids: Sequence[int], now: datetime
) -> dict[int, tuple[int, datetime | None]]:
    """Per member: the tier measure over the program's window now, and when that measure
    next drops or resets (a calendar year's end, or when the oldest counted item leaves)."""
    since, period_end = measurement_window(program, now)
    measured = await measure(source, program, dict.fromkeys(ids, (since, None)))
    window = timedelta(days=program.qualifying_days)
    return {
        member_id: (value, period_end or (oldest + window if oldest else None))
        for member_id, (value, oldest) in measured.items()
    }


async def held_tiers(
    source: TierSource, program: Program, ids: Sequence[int], now: datetime
) -> dict[int, Tier]:
    """The tier each member holds: the stored one; for a member not evaluated yet, the
    one the measure supports."""
    standings = await source.tiers.many(ids)
    found: dict[int, Tier] = {}
    for member_id, standing in standings.items():
        tier = held(program, standing)
        if tier is not None:
            found[member_id] = tier
    missing = [i for i in ids if i not in found]
    if missing:
        measured = await measure_tiers(source, program, missing, now)
        found.update({i: program.tier_for(measured[i][0]) for i in missing})
    return found


async def progress(
    source: TierSource, program: Program, ids: Sequence[int], now: datetime
) -> dict[int, TierProgress]:
    """Tier progress per member: the stored standing, the measure now, and (to say what
    keeping the tier needs) the measure over the review window so far."""
    since_now, period_end = measurement_window(program, now)
    current: dict[int, tuple[int, datetime | None]] = {}
    standings: dict[int, Standing] = {}
    if program.tier_measure is TierMeasure.POINTS:  # standings and measure in one query
        span = timedelta(days=program.qualifying_days)
        for member_id, (standing, (value, oldest)) in (
            await source.tiers.with_points(ids, since_now)
        ).items():
            standings[member_id] = standing
            current[member_id] = (value, period_end or (oldest + span if oldest else None))
    else:
        standings = await source.tiers.many(ids)
    missing = [i for i in ids if i not in current]
    if missing:
        current.update(await measure_tiers(source, program, missing, now))
    review_since: dict[int, Window] = {}
    for member_id, standing in standings.items():
        window = review_window(program, standing) if held(program, standing) else None
        if window is not None and window[0] != since_now:
            review_since[member_id] = (window[0], None)
    kept = await measure(source, program, review_since)
    return {
        member_id: tier_progress(
            program,
            standings.get(member_id),
            MeasuredTier(value, ends, kept[member_id][0] if member_id in kept else None),
        )
        for member_id, (value, ends) in current.items()
    }


async def current_tier(tx: WriteTx, program: Program, member_id: int, now: datetime) -> Tier:
    return (await held_tiers(tx, program, [member_id], now))[member_id]


async def measured_now(tx: WriteTx, program: Program, member_id: int, now: datetime) -> int:
    """The member's tier measure over the program's window now."""
    return (await measure_tiers(tx, program, [member_id], now))[member_id][0]


async def stored_standing(tx: WriteTx, member_id: int, now: datetime) -> Standing:
    return await tx.tiers.get(member_id) or Standing(None, now, now)


async def save_standing(
    tx: WriteTx,
    version: ProgramVersion,
    member_id: int,
    settled: StandingUpdate | None,
    now: datetime,
) -> Tier | None:
    """Save a settled standing; on a change of tier, write a tierChanged event. Returns
    the new tier when the member moved up."""
    if settled is None:
        return None
    program, standing = version.program, settled.standing
    await tx.tiers.save(member_id, standing, now, program_version=version.version)
    if settled.moved_from is None or settled.reason is None:
        return None
    up = program.tier_rank(standing.tier) > program.tier_rank(settled.moved_from)
    await tx.tiers.record_change(
        member_id,
        before=settled.moved_from,
        standing=standing,
        reason=settled.reason,
        upgrade=up,
        now=now,
    )
    return program.tier_by_key(standing.tier) if up else None
