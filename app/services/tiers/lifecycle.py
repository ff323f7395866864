"""A member's tier as earns and returns move it, in the write's own transaction: the
standing before an earn (reviews the sweep has not made yet made first), the upgrade the
earn reaches, and the undoing of what a returned earn brought about."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from app.domain.program import Program
from app.domain.tiers.lifecycle import (
    TICK,
    PriorStanding,
    Standing,
    StandingUpdate,
    after_earn,
    after_return,
    changes_since,
    evaluate,
    held,
    review_window,
)
from app.domain.tiers.policy import Tier, TierMeasure
from app.domain.tiers.progress import measurement_window
from app.ledger.programs import ProgramVersion
from app.ledger.tiers.measures import Window
from app.ledger.uow import WriteTx
from app.services.tiers.review import catch_up
from app.services.tiers.standing import measure, measured_now, save_standing, stored_standing


@dataclass(frozen=True, slots=True)
class BeforeEarn:
    """What `upgrade_after_earn` needs from before the earn: the standing (evaluated, and with
    any review the sweep has not made yet made), the tier it holds, the POINTS measure
    then (None: not read), and whether the standing is new (not stored yet)."""

    standing: Standing
    tier: Tier
    measured: int | None = None
    fresh: bool = False


async def standing_before_earn(
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
        standing = await stored_standing(tx, member_id, now)
    fresh = held(program, standing) is None
    if fresh:  # first evaluation: from what the member was shown (the measure), no event
        shown = program.tier_for(await measured_now(tx, program, member_id, now))
        standing = evaluate(program, standing, shown, now)
    standing = await catch_up(tx, version, member_id, standing, now)
    tier = held(program, standing)
    assert tier is not None
    return BeforeEarn(standing, tier, measured, fresh)


async def upgrade_after_earn(
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
    `before` is `standing_before_earn` from before the earn (the caller holds the member's
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
    value = await measured_now(tx, program, member_id, now)
    keeps = False
    window = review_window(program, standing)
    if standing.grace_until is not None and window is not None:
        so_far = await measure(tx, program, {member_id: (window[0], None)})
        keeps = so_far[member_id][0] >= current.threshold
    settled = after_earn(program, standing, program.tier_for(value), now, keeps=keeps)
    if settled is None and fresh:
        settled = StandingUpdate(standing)
    return await save_standing(tx, version, member_id, settled, now)


async def undo_after_return(
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
    back: PriorStanding | None = None
    then = program.tiers[0]
    for i in range(len(undone) - 1, -1, -1):
        reached = undone[i + 1].tier if i + 1 < len(undone) else (standing.tier or "")
        supported = await _supported_without(tx, program, member_id, standing, undone[i], reached)
        if rank(supported.key) >= rank(reached):
            break  # change i stands on its own
        back, then = undone[i], supported
    if back is None:
        return  # the latest change stands (or there was none): nothing to undo
    if back.grace_until is not None and then.key == program.tiers[0].key:
        without = then  # a renewal that did not hold: back in grace, later earns after
    else:
        today = await measured_now(tx, program, member_id, now)
        without = max(then, program.tier_for(today), key=lambda t: rank(t.key))
    settled = after_return(program, standing, back, without, now)
    if settled is not None:
        await _restored(tx, version, member_id, settled, now)


async def _supported_without(
    tx: WriteTx,
    program: Program,
    member_id: int,
    standing: Standing,
    change: PriorStanding,
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
    tx: WriteTx, version: ProgramVersion, member_id: int, settled: StandingUpdate, now: datetime
) -> None:
    """Store a standing a return went back to; make the reviews that passed meanwhile;
    then the earns that came after the one returned still count: today's measure may
    reach a tier again (an upgrade the member may return, as any)."""
    program = version.program
    await save_standing(tx, version, member_id, settled, now)
    standing = await catch_up(tx, version, member_id, settled.standing, now)
    today = await measured_now(tx, program, member_id, now)
    await save_standing(
        tx, version, member_id, after_earn(program, standing, program.tier_for(today), now), now
    )
