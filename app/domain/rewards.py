"""Reward eligibility: whether a member can redeem a reward now and, if not, why."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from zoneinfo import ZoneInfo

from app.domain.errors import ErrorCode


class RewardKind(StrEnum):
    """What a reward gives the member."""

    DISCOUNT_CODE = "DISCOUNT_CODE"
    GIFT_CARD = "GIFT_CARD"
    PHYSICAL = "PHYSICAL"
    EXPERIENCE = "EXPERIENCE"


class RedemptionStatus(StrEnum):
    """Where a redemption is in its lifecycle (app/domain/redemptions.py says which status
    may follow which)."""

    HELD = "HELD"
    FULFILLING = "FULFILLING"
    FULFILLED = "FULFILLED"
    SHIPPED = "SHIPPED"
    DELIVERED = "DELIVERED"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"


def period_start(period: str, now: datetime, zone: str) -> datetime | None:
    """Where the current DAY, MONTH or YEAR began in the program's time zone (None for
    LIFETIME): a per-member limit counts the redemptions made since."""
    if period == "LIFETIME":
        return None
    local = now.astimezone(ZoneInfo(zone))
    start = local.replace(hour=0, minute=0, second=0, microsecond=0)
    if period in ("MONTH", "YEAR"):
        start = start.replace(day=1)
    if period == "YEAR":
        start = start.replace(month=1)
    return start.astimezone(UTC)


@dataclass(frozen=True, slots=True)
class RewardState:
    cost: int
    stock: int | None
    redeemed: int
    min_tier_rank: int  # -1 when the reward has no minimum tier
    per_member_limit: int | None
    active: bool
    active_from: datetime | None
    active_until: datetime | None

    @property
    def remaining_stock(self) -> int | None:
        return None if self.stock is None else max(0, self.stock - self.redeemed)


def redeem_blocker(
    reward: RewardState,
    *,
    now: datetime,
    quantity: int,
    tier_rank: int,
    already_redeemed: int,
    available: int,
) -> ErrorCode | None:
    """The first reason this redemption cannot happen, or None when it can."""
    if not reward.active:
        return ErrorCode.REWARD_UNAVAILABLE
    if reward.active_from is not None and now < reward.active_from:
        return ErrorCode.REWARD_UNAVAILABLE
    if reward.active_until is not None and now >= reward.active_until:
        return ErrorCode.REWARD_UNAVAILABLE
    if tier_rank < reward.min_tier_rank:
        return ErrorCode.TIER_REQUIRED
    if (
        reward.per_member_limit is not None
        and already_redeemed + quantity > reward.per_member_limit
    ):
        return ErrorCode.LIMIT_REACHED
    remaining = reward.remaining_stock
    if remaining is not None and remaining < quantity:
        return ErrorCode.OUT_OF_STOCK
    if available < reward.cost * quantity:
        return ErrorCode.INSUFFICIENT_POINTS
    return None


BLOCKER_MESSAGES: dict[ErrorCode, str] = {
    ErrorCode.REWARD_UNAVAILABLE: "This reward is not available now.",
    ErrorCode.TIER_REQUIRED: "This reward needs a higher tier.",
    ErrorCode.LIMIT_REACHED: "The per-member limit for this reward is reached (for now: "
    "a limit per day, month or year opens again in the next one).",
    ErrorCode.OUT_OF_STOCK: "This reward is out of stock.",
    ErrorCode.INSUFFICIENT_POINTS: "Not enough available points.",
}
