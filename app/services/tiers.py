"""Tiers in use: the upgrade in the earn's own transaction, the undoing of what a returned
earn brought about, and the review sweep at the end of each tier period."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from app.domain.program import Program
from app.domain.tier_lifecycle import (
    TICK,
    Reached,
    Settled,
    Standing,
    after_earn,
    after_return,
    changes_since,
    evaluate,
    held,
    review,
    review_window,
)
from app.domain.tier_policy import Tier, TierMeasure
from app.domain.tiers import measurement_window
from app.ledger.programs import ProgramVersion
from app.ledger.tier_measures import Window
from app.ledger.uow import UnitOfWork, WriteTx
from app.services.batches import BATCH, each_due
from app.services.clock import Clock
from app.services.tier_standing import measure, measure_tiers


@dataclass(frozen=True, slots=True)
class BeforeEarn:
    """What `follow_earn` needs from before the earn: the standing (evaluated, and with
    any review the sweep has not made yet made), the tier it holds, the POINTS measure
    then (None: not read), and whether the standing is new (not stored yet)."""

    standing: Standing
    tier: Tier
    measured: int | None = None
    fresh: bool = False


async def current_standing(
    tx: WriteTx, version: ProgramVersion, member_id: int, now: datetime
) -> BeforeEarn:
    """Before an earn, under the member's lock: the standing and the tier it holds, which
    prices the earn. A member never evaluated is evaluated from what they were shown; a
    review the sweep has not made yet is made now, as of the period's end, so an earn
    after a period ended never counts for it, and is priced at the reviewed tier."""
    program = version.program
    measured: int | None = None
    if program.tier_measure is TierMeasure.POINTS:  # standing and measure in one query
        since = measurement_window(program, now)[0]
        found = (await tx.tiers.with_points([member_id], since)).get(member_id)
        standing = found[0] if found else Standing(None, now, now)
        measured = found[1][0] if found else None
    else:
        standing = await _standing(tx, member_id, now)
    fresh = held(program, standing) is None
    if fresh:  # first evaluation: from what the member was shown (the measure), no event
        shown = program.tier_for(await _measured_now(tx, program, member_id, now))
        standing = evaluate(program, standing, shown, now)
    standing = await _catch_up(tx, version, member_id, standing, now)
    tier = held(program, standing)
    assert tier is not None
    return BeforeEarn(standing, tier, measured, fresh)


async def _catch_up(
    tx: WriteTx, version: ProgramVersion, member_id: int, standing: Standing, now: datetime
) -> Standing:
    """Make every review that is due (the sweep may be late by several), in order."""
    while standing.review_at is not None and standing.review_at <= now:
        settled = await _review(tx, version.program, member_id, standing, now)
        await _store(tx, version, member_id, settled, now)
        if settled.standing == standing:
            break  # a review always moves review_at on; this only guards the loop
        standing = settled.standing
    return standing


async def _measured_now(tx: WriteTx, program: Program, member_id: int, now: datetime) -> int:
    """The member's tier measure over the program's window now."""
    return (await measure_tiers(tx, program, [member_id], now))[member_id][0]


async def _standing(tx: WriteTx, member_id: int, now: datetime) -> Standing:
    return await tx.tiers.get(member_id) or Standing(None, now, now)


async def _store(
    tx: WriteTx, version: ProgramVersion, member_id: int, settled: Settled | None, now: datetime
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


async def follow_earn(
    tx: WriteTx,
    version: ProgramVersion,
    member_id: int,
    now: datetime,
    *,
    before: BeforeEarn,
    gained: int,
) -> Tier | None:
    """After points (or spend) were added, in the same transaction: upgrade when the
    measure reaches a higher tier; in grace, keep the tier when the threshold is reached.
    `before` is `current_standing` from before the earn (the caller holds the member's
    lock, so it is still what is stored); `gained`, the points this transaction credited.
    Returns the tier moved up to."""
    program = version.program
    standing, fresh = before.standing, before.fresh
    current = before.tier
    upcoming = program.next_tier(current)
    if not (fresh or standing.grace_until):
        if upcoming is None:
            return None  # at the top: nothing to reach
        if before.measured is not None and before.measured + gained < upcoming.threshold:
            return None  # even counting every point gained, the next tier is out of reach
    value = await _measured_now(tx, program, member_id, now)
    keeps = False
    window = review_window(program, standing)
    if standing.grace_until is not None and window is not None:
        so_far = await measure(tx, program, {member_id: (window[0], None)})
        keeps = so_far[member_id][0] >= current.threshold
    settled = after_earn(program, standing, program.tier_for(value), now, keeps=keeps)
    if settled is None and fresh:
        settled = Settled(standing)
    return await _store(tx, version, member_id, settled, now)


async def follow_return(
    tx: WriteTx, version: ProgramVersion, member_id: int, recorded_at: datetime, now: datetime
) -> None:
    """After a return of an earn recorded at `recorded_at` (the server's time of that
    earn's transaction), in the same transaction: what that earn helped bring about is
    undone, unless it stands without the earn. The latest change since then that stands
    on its own stays, with all before it: an upgrade stands if the measure without the
    earn reached its tier when it was made; a renewal in grace, if the grace window
    without the earn reaches the threshold. What came after it is undone, as far as
    today's measure falls."""
    program = version.program
    standing = await tx.tiers.get(member_id)
    if standing is None or held(program, standing) is None:
        return
    undone = changes_since(standing, recorded_at)
    rank = program.tier_rank
    back: Reached | None = None
    then = program.tiers[0]
    for i in range(len(undone) - 1, -1, -1):
        reached = undone[i + 1].tier if i + 1 < len(undone) else (standing.tier or "")
        supported = await _without(tx, program, member_id, standing, undone[i], reached)
        if rank(supported.key) >= rank(reached):
            break  # change i stands on its own
        back, then = undone[i], supported
    if back is None:
        return  # the latest change stands (or there was none): nothing to undo
    if back.grace_until is not None and then.key == program.tiers[0].key:
        without = then  # a renewal that did not hold: back in grace, later earns after
    else:
        today = await _measured_now(tx, program, member_id, now)
        without = max(then, program.tier_for(today), key=lambda t: rank(t.key))
    settled = after_return(program, standing, back, without, now)
    if settled is not None:
        await _restored(tx, version, member_id, settled, now)


async def _without(
    tx: WriteTx,
    program: Program,
    member_id: int,
    standing: Standing,
    change: Reached,
    reached: str,
) -> Tier:
    """The tier a change reached, judged now that the returned earn is gone: a renewal
    in grace (the tier stayed) on its grace window (the renewed tier, or the first);
    an upgrade on the measure at the moment it was made."""
    renewed = program.tier_by_key(change.tier)
    if change.grace_until is not None and reached == change.tier and renewed is not None:
        was = Standing(
            change.tier,
            change.since,
            standing.settled_at,
            change.period_ends_at,
            change.grace_until,
        )
        window = review_window(program, was)
        assert window is not None
        kept = (await measure(tx, program, {member_id: window}))[member_id][0]
        return renewed if kept >= renewed.threshold else program.tiers[0]
    at = change.changed_at
    at_the_time: dict[int, Window] = {member_id: (measurement_window(program, at)[0], at + TICK)}
    return program.tier_for((await measure(tx, program, at_the_time))[member_id][0])


async def _restored(
    tx: WriteTx, version: ProgramVersion, member_id: int, settled: Settled, now: datetime
) -> None:
    """Store a standing a return went back to; make the reviews that passed meanwhile;
    then the earns that came after the one returned still count: today's measure may
    reach a tier again (an upgrade the member may return, as any)."""
    program = version.program
    await _store(tx, version, member_id, settled, now)
    standing = await _catch_up(tx, version, member_id, settled.standing, now)
    today = await _measured_now(tx, program, member_id, now)
    await _store(
        tx, version, member_id, after_earn(program, standing, program.tier_for(today), now), now
    )


async def _review(
    tx: WriteTx, program: Program, member_id: int, standing: Standing, now: datetime
) -> Settled:
    """Review a standing: at the end of its period (or grace), by the measure over that
    period alone; looked at early (the tiers changed) or never evaluated, by the measure
    now."""
    window = review_window(program, standing)
    due = standing.review_at is not None and standing.review_at <= now
    if due and window is not None and held(program, standing) is not None:
        value = (await measure(tx, program, {member_id: window}))[member_id][0]
    else:
        value = await _measured_now(tx, program, member_id, now)
    return review(program, standing, program.tier_for(value), now)


async def review_member(
    tx: WriteTx, version: ProgramVersion, member_id: int, now: datetime
) -> bool:
    """The sweep's look at one member. Returns whether the tier changed. The caller
    holds the member's lock."""
    standing = await _standing(tx, member_id, now)
    settled = await _review(tx, version.program, member_id, standing, now)
    await _store(tx, version, member_id, settled, now)
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
