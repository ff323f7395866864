"""The tier lifecycle: upgrades at once, reviews at the end of each tier period.

A member's standing is the tier they hold, since when, when it is next reviewed, and the
tiers they passed through since their standing was last settled (by a review, or by
their first evaluation).

- An earn that lifts the measure to a higher tier upgrades at once, and a new tier period
  starts (12 months on a rolling window; to the end of the calendar year otherwise).
- A return takes back the tiers the returned earn helped reach (those reached at or after
  it, since the last settlement), as far as the measure falls: buying a tier and
  returning the goods does not keep it, and the member is back where they were, review
  date included. A return of anything else moves no one.
- At the end of the period the measure decides: it keeps the tier for another period,
  or (after an optional grace, during which reaching the threshold keeps it) the member
  moves down, to the tier the measure supports or one level at most, never below a
  `never_downgrade` tier already held. The first tier and never-downgrade tiers are
  never reviewed.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from app.domain.program import Program
from app.domain.tier_policy import DowngradePolicy, Tier, TierWindow

TICK = timedelta(microseconds=1)  # the resolution of stored times


class TierChangeReason(StrEnum):
    EARN = "EARN"  # an earn lifted the measure past a threshold
    RETURN = "RETURN"  # a return took back the earn that reached the tier
    REVIEW = "REVIEW"  # the end of a tier period (or of its grace), or a program change


@dataclass(frozen=True, slots=True)
class Reached:
    """A tier held earlier since the last settlement, as it stood then."""

    tier: str
    since: datetime
    period_ends_at: datetime | None


@dataclass(frozen=True, slots=True)
class Standing:
    """Where a member stands. `tier` None: never evaluated (a newcomer holds the first
    tier; a member from before tiers were stored, the tier their measure supports)."""

    tier: str | None
    since: datetime
    settled_at: datetime  # returns of earns counted before this move no one
    period_ends_at: datetime | None = None  # None: never reviewed
    grace_until: datetime | None = None
    earlier: tuple[Reached, ...] = ()  # passed through since settled_at, oldest first

    @property
    def review_at(self) -> datetime | None:
        """When the sweep must next look at this member."""
        return self.grace_until or self.period_ends_at


@dataclass(frozen=True, slots=True)
class Settled:
    """A standing to store; `moved_from` is set when the tier itself changed."""

    standing: Standing
    moved_from: str | None = None
    reason: TierChangeReason | None = None


def reviewed(program: Program, tier: Tier) -> bool:
    return program.tier_rank(tier.key) > 0 and not tier.never_downgrade


def period_end(program: Program, tier: Tier, start: datetime) -> datetime | None:
    """When a period of `tier` that starts at `start` ends (None: the tier is never reviewed)."""
    if not reviewed(program, tier):
        return None
    if program.tier_window is TierWindow.CALENDAR_YEAR:
        zone = ZoneInfo(program.time_zone)
        return datetime(start.astimezone(zone).year + 1, 1, 1, tzinfo=zone)
    return start + timedelta(days=program.qualifying_days)


def review_window(program: Program, standing: Standing) -> tuple[datetime, datetime] | None:
    """The window [start, until) the review measures, extended by any grace.

    Calendar year: the year the period ends in. Rolling: the period itself, after the
    moment it began, so the earn that reached the tier does not also keep it: (start,
    end], written [start + 1µs, end + 1µs), so chained periods share no instant."""
    end = standing.period_ends_at
    if end is None:
        return None
    if program.tier_window is TierWindow.CALENDAR_YEAR:
        zone = ZoneInfo(program.time_zone)
        year = (end - TICK).astimezone(zone).year
        return datetime(year, 1, 1, tzinfo=zone), standing.grace_until or end
    start = end - timedelta(days=program.qualifying_days)
    return start + TICK, (standing.grace_until or end) + TICK


def held(program: Program, standing: Standing) -> Tier | None:
    """The tier the standing holds; None when it needs evaluating (never evaluated, or
    its tier is not in this program)."""
    return program.tier_by_key(standing.tier)


def evaluate(program: Program, standing: Standing, shown: Tier, now: datetime) -> Standing:
    """A first stored standing: the tier the member was shown (the first tier for a
    newcomer, what the measure supports for a member from before stored tiers), settled
    as of their old standing."""
    return Standing(shown.key, standing.since, standing.settled_at, period_end(program, shown, now))


def after_earn(
    program: Program, standing: Standing, supported: Tier, now: datetime, *, keeps: bool = False
) -> Settled | None:
    """After an earn: upgrade when the measure supports a higher tier; in grace, `keeps`
    (the review window so far reaches the threshold) renews the tier for a new period."""
    current = held(program, standing)
    if current is None:
        return None  # evaluate first
    if program.tier_rank(supported.key) > program.tier_rank(current.key):
        passed = Reached(current.key, standing.since, standing.period_ends_at)
        upgraded = replace(
            standing,
            tier=supported.key,
            since=now,
            period_ends_at=period_end(program, supported, now),
            grace_until=None,
            earlier=(*standing.earlier, passed),
        )
        return Settled(upgraded, current.key, TierChangeReason.EARN)
    if standing.grace_until is not None and keeps:
        return Settled(_renewed(program, standing, current))
    return None


def after_return(
    program: Program, standing: Standing, supported: Tier, counted_at: datetime, now: datetime
) -> Settled | None:
    """After a return of an earn counted at `counted_at`: take back the tiers it helped
    reach, as far as the measure (now without it) falls."""
    current = held(program, standing)
    if current is None or counted_at < standing.settled_at or standing.since < counted_at:
        return None  # settled before the earn, or the tier was reached before it
    # Held at the earn's moment (at the same instant counts: the upgrade it caused comes
    # after it), so reached without it.
    before = [r for r in standing.earlier if r.since <= counted_at]
    kept = before[-1] if before else None
    floor = program.tier_rank(kept.tier) if kept else 0
    target = max(program.tier_rank(supported.key), floor)
    if target >= program.tier_rank(current.key):
        return None
    tier = program.tiers[target]
    if kept is not None and kept.tier == tier.key:  # back where the member was
        back = replace(
            standing,
            tier=kept.tier,
            since=kept.since,
            period_ends_at=kept.period_ends_at,
            grace_until=None,
            earlier=tuple(before[:-1]),
        )
    else:  # a tier between: the measure still reaches it
        back = replace(
            standing,
            tier=tier.key,
            since=now,
            period_ends_at=period_end(program, tier, now),
            grace_until=None,
            earlier=tuple(before),
        )
    return Settled(back, current.key, TierChangeReason.RETURN)


def downgrade_target(program: Program, current: Tier, supported: Tier) -> Tier:
    rank = program.tier_rank(current.key)
    target = program.tier_rank(supported.key)
    if program.tier_downgrade is DowngradePolicy.ONE_LEVEL:
        target = max(target, rank - 1)
    for lower in range(rank, -1, -1):
        if program.tiers[lower].never_downgrade:
            target = max(target, lower)
            break
    return program.tiers[min(target, rank)]


def review(program: Program, standing: Standing, supported: Tier, now: datetime) -> Settled:
    """The sweep's decision for a member it found due. `supported` is the best tier the
    measure supports over the review window or over the current window."""
    current = held(program, standing)
    if current is None:
        evaluated = evaluate(program, standing, supported, now)
        return Settled(replace(evaluated, settled_at=now))
    rank, best = program.tier_rank(current.key), program.tier_rank(supported.key)
    if best > rank:
        upgraded = Standing(supported.key, now, now, period_end(program, supported, now))
        return Settled(upgraded, current.key, TierChangeReason.REVIEW)
    ends = standing.period_ends_at
    if not reviewed(program, current):
        return Settled(replace(standing, period_ends_at=None, grace_until=None))
    if ends is None:
        return Settled(replace(standing, period_ends_at=period_end(program, current, now)))
    if ends > now or (standing.grace_until is not None and standing.grace_until > now):
        return Settled(standing)  # not due: looked at early (say, after a program change)
    if best >= rank:
        return Settled(_renewed(program, standing, current))
    if standing.grace_until is None and program.tier_grace_days > 0:
        grace = ends + timedelta(days=program.tier_grace_days)
        return Settled(replace(standing, grace_until=grace, settled_at=ends, earlier=()))
    target = downgrade_target(program, current, supported)
    if target.key == current.key:
        return Settled(_renewed(program, standing, current))
    moved_at = standing.grace_until or ends
    moved = Standing(target.key, moved_at, moved_at, period_end(program, target, ends))
    return Settled(moved, current.key, TierChangeReason.REVIEW)


def points_to_keep(program: Program, standing: Standing, current: Tier, measured: int) -> int:
    """What the measure over the review window still needs for the member to keep the tier."""
    if standing.period_ends_at is None or not reviewed(program, current):
        return 0
    return max(0, current.threshold - measured)


def _renewed(program: Program, standing: Standing, current: Tier) -> Standing:
    """The tier held for another period, which starts where the last one ended."""
    ends = standing.period_ends_at
    assert ends is not None
    return replace(
        standing,
        settled_at=ends,
        period_ends_at=period_end(program, current, ends),
        grace_until=None,
        earlier=(),
    )
