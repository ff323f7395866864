"""The tier review: at the end of each tier period (or grace) the measure over that period
decides whether a member keeps, renews or leaves their tier; the sweep that finds who is
due, and the catch-up an earn makes when the sweep is late."""

from __future__ import annotations

from datetime import datetime

from app.domain.program import Program
from app.domain.tiers.lifecycle import Standing, StandingUpdate, held, review, review_window
from app.ledger.programs import ProgramVersion
from app.ledger.uow import UnitOfWork, WriteTx
from app.services.batches import BATCH, each_due
from app.services.clock import Clock
from app.services.tiers.standing import measure, measured_now, save_standing, stored_standing


async def review_standing(
    tx: WriteTx, program: Program, member_id: int, standing: Standing, now: datetime
) -> StandingUpdate:
    """Review a standing: at the end of its period (or grace), by the measure over that
    period alone; looked at early (the tiers changed) or never evaluated, by the measure
    now."""
    window = review_window(program, standing)
    due = standing.review_at is not None and standing.review_at <= now
    if due and window is not None and held(program, standing) is not None:
        value = (await measure(tx, program, {member_id: window}))[member_id][0]
    else:
        value = await measured_now(tx, program, member_id, now)
    return review(program, standing, program.tier_for(value), now)


async def catch_up(
    tx: WriteTx, version: ProgramVersion, member_id: int, standing: Standing, now: datetime
) -> Standing:
    """Make every review that is due (the sweep may be late by several), in order."""
    while standing.review_at is not None and standing.review_at <= now:
        settled = await review_standing(tx, version.program, member_id, standing, now)
        await save_standing(tx, version, member_id, settled, now)
        if settled.standing == standing:
            break  # a review always moves review_at on; this only guards the loop
        standing = settled.standing
    return standing


async def review_member(
    tx: WriteTx, version: ProgramVersion, member_id: int, now: datetime
) -> bool:
    """The sweep's look at one member. Returns whether the tier changed. The caller
    holds the member's lock."""
    standing = await stored_standing(tx, member_id, now)
    settled = await review_standing(tx, version.program, member_id, standing, now)
    await save_standing(tx, version, member_id, settled, now)
    return settled.moved_from is not None


def tier_shape(program: Program) -> tuple[object, ...]:
    """What decides where members stand: tier keys, thresholds and how tiers are kept
    (a new name, multiplier or benefit moves nobody)."""
    tiers = tuple((t.key, t.threshold, t.never_downgrade) for t in program.tiers)
    return tiers, program.tier_settings, program.time_zone, program.qualifying_days


async def tiers_since(tx: WriteTx) -> tuple[ProgramVersion, int] | None:
    """The active version, and the first version from which the tiers stood as they do
    now: a standing computed under an older one is due for a look."""
    history = await tx.programs.history()
    if not history:
        return None
    shape = tier_shape(history[0].program)
    since = history[0].version
    for older in history[1:]:
        if tier_shape(older.program) != shape:
            break
        since = older.version
    return history[0], since


async def review_tiers(uow: UnitOfWork, clock: Clock) -> int:
    """The sweep: review every member whose tier period (or grace) has ended, or whose
    standing predates a change of the program's tiers. Safe to run twice at once."""
    async with uow.write() as tx:
        found = await tiers_since(tx)
    if found is None:
        return 0
    version, since = found  # a version activated meanwhile is seen by the next sweep

    async def review_one(tx: WriteTx, member_id: int) -> int:
        if not await tx.tiers.is_due(member_id, clock.now(), since):
            return 0  # another sweeper (or an earn) got there first
        return int(await review_member(tx, version, member_id, clock.now()))

    return await each_due(uow, lambda tx: tx.tiers.due(clock.now(), since, BATCH), int, review_one)
