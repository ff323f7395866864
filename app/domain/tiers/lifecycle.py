"""The tier lifecycle: upgrades at once, reviews at the end of each tier period.

A member's standing is the tier they hold, since when, when it is next reviewed, and the
tiers they passed through since their standing was last settled (by a review, or by
their first evaluation).

- An earn that lifts the measure to a higher tier upgrades at once, and a new tier period
  starts (12 months on a rolling window; to the end of the calendar year otherwise).
- A return takes back what the returned earn helped bring about (every change made by an
  earn, or at review, at or after the earn was recorded, since the last settlement), as
  far as the measure without it falls: buying a tier, or a renewal in grace, and
  returning the goods does not keep it, and the member is back where they stood, review
  date and grace included. A return of anything else moves no one. Times compared here
  are all the server's (when things were recorded), never a till's clock.
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
from app.domain.tiers.policy import DowngradePolicy, Tier, TierWindow

TICK = timedelta(microseconds=1)  # the resolution of stored times


class TierChangeReason(StrEnum):
    EARN = "EARN"  # an earn lifted the measure past a threshold
    RETURN = "RETURN"  # a return took back the earn that reached the tier
    REVIEW = "REVIEW"  # the end of a tier period (or of its grace), or a program change


@dataclass(frozen=True, slots=True)
class PriorStanding:
    """How the member stood before a change since the last settlement (an upgrade, a
    renewal in grace), and when that change was made."""

    tier: str
    since: datetime
    period_ends_at: datetime | None
    grace_until: datetime | None
    changed_at: datetime


@dataclass(frozen=True, slots=True)
class Standing:
    """Where a member stands. `tier` None: never evaluated (a newcomer holds the first
    tier; a member from before tiers were stored, the tier their measure supports)."""

    tier: str | None
    since: datetime
    settled_at: datetime  # returns of earns counted before this move no one
    period_ends_at: datetime | None = None  # None: never reviewed
    grace_until: datetime | None = None
    earlier: tuple[PriorStanding, ...] = ()  # changes since settled_at, oldest first

    @property
    def review_at(self) -> datetime | None:
        """When the sweep must next look at this member."""
        return self.grace_until or self.period_ends_at

    def moved_on(self, now: datetime) -> tuple[PriorStanding, ...]:
        """The history once this standing changes at `now`."""
        assert self.tier is not None
        was = PriorStanding(self.tier, self.since, self.period_ends_at, self.grace_until, now)
        return (*self.earlier, was)


@dataclass(frozen=True, slots=True)
class StandingUpdate:
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
) -> StandingUpdate | None:
    """After an earn: upgrade when the measure supports a higher tier; in grace, `keeps`
    (the review window so far reaches the threshold) renews the tier for a new period."""
    current = held(program, standing)
    if current is None:
        return None  # evaluate first
    if program.tier_rank(supported.key) > program.tier_rank(current.key):
        return StandingUpdate(
            _upgraded(program, standing, supported, now), current.key, TierChangeReason.EARN
        )
    grace = standing.grace_until
    if grace is not None and now <= grace and keeps:  # kept by this earn, which may return
        renewed = _renewed(program, standing, current)
        return StandingUpdate(
            replace(renewed, settled_at=standing.settled_at, earlier=standing.moved_on(now))
        )
    return None


def changes_since(standing: Standing, recorded_at: datetime) -> tuple[PriorStanding, ...]:
    """The changes an earn recorded at `recorded_at` may have helped bring about, each as
    the standing before it, oldest first; none when the earn predates the settlement."""
    if recorded_at < standing.settled_at:
        return ()  # judged again since, at a review
    return tuple(r for r in standing.earlier if r.changed_at >= recorded_at)


def after_return(
    program: Program, standing: Standing, back: PriorStanding, without: Tier, now: datetime
) -> StandingUpdate | None:
    """After a return: undo the changes from `back` on (one of `standing.earlier`), unless
    the member stands where they are without the returned earn (`without`: the best tier
    the measure without it supports, then or now)."""
    current = held(program, standing)
    if current is None or program.tier_rank(without.key) >= program.tier_rank(current.key):
        return None
    target = max(program.tier_rank(without.key), program.tier_rank(back.tier))
    kept = standing.earlier[: standing.earlier.index(back)]
    tier = program.tiers[target]
    if tier.key == back.tier:  # back where the member stood
        restored = Standing(
            back.tier, back.since, standing.settled_at, back.period_ends_at, back.grace_until, kept
        )
    else:  # a tier between: the measure still reaches it, from now
        restored = Standing(
            tier.key,
            now,
            standing.settled_at,
            period_end(program, tier, now),
            earlier=(*kept, replace(back, changed_at=now)),
        )
    moved = current.key if restored.tier != current.key else None
    return StandingUpdate(restored, moved, TierChangeReason.RETURN if moved else None)


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


def review(program: Program, standing: Standing, supported: Tier, now: datetime) -> StandingUpdate:
    """The sweep's decision for a member it found due. `supported` is the best tier the
    measure supports over the review window or over the current window."""
    current = held(program, standing)
    if current is None:
        evaluated = evaluate(program, standing, supported, now)
        return StandingUpdate(replace(evaluated, settled_at=now))
    rank, best = program.tier_rank(current.key), program.tier_rank(supported.key)
    if best > rank:  # the tiers changed under the member: a change a return may undo
        upgraded = _upgraded(program, standing, supported, now)
        return StandingUpdate(upgraded, current.key, TierChangeReason.REVIEW)
    ends = standing.period_ends_at
    if not reviewed(program, current):
        return StandingUpdate(replace(standing, period_ends_at=None, grace_until=None))
    if ends is None:
        return StandingUpdate(replace(standing, period_ends_at=period_end(program, current, now)))
    if ends > now or (standing.grace_until is not None and standing.grace_until > now):
        return StandingUpdate(standing)  # not due: looked at early (say, after a program change)
    if best >= rank:
        return StandingUpdate(_renewed(program, standing, current))
    if standing.grace_until is None and program.tier_grace_days > 0:
        grace = ends + timedelta(days=program.tier_grace_days)
        return StandingUpdate(replace(standing, grace_until=grace, settled_at=ends, earlier=()))
    target = downgrade_target(program, current, supported)
    if target.key == current.key:
        return StandingUpdate(_renewed(program, standing, current))
    moved_at = standing.grace_until or ends
    moved = Standing(target.key, moved_at, moved_at, period_end(program, target, ends))
    return StandingUpdate(moved, current.key, TierChangeReason.REVIEW)


def points_to_keep(program: Program, standing: Standing, current: Tier, measured: int) -> int:
    """What the measure over the review window still needs for the member to keep the tier."""
    if standing.period_ends_at is None or not reviewed(program, current):
        return 0
    return max(0, current.threshold - measured)


def _upgraded(program: Program, standing: Standing, tier: Tier, now: datetime) -> Standing:
    """Up to `tier` now, for a new period; the change joins the history a return undoes."""
    return replace(
        standing,
        tier=tier.key,
        since=now,
        period_ends_at=period_end(program, tier, now),
        grace_until=None,
        earlier=standing.moved_on(now),
    )


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
