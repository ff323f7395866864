"""Expiry policies: when a lot of points expires, and when a member is warned."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo


class ExpiryPolicy(StrEnum):
    NEVER = "NEVER"
    ROLLING = "ROLLING"  # each earn expires `days` after it was made
    END_OF_MONTH = "END_OF_MONTH"  # at the end of the month `months` after the earn
    END_OF_YEAR = "END_OF_YEAR"  # at the end of the year holding earn + `months`
    INACTIVITY = "INACTIVITY"  # everything, after `days` without an earn or a redemption


@dataclass(frozen=True, slots=True)
class Expiry:
    policy: ExpiryPolicy = ExpiryPolicy.NEVER
    days: int | None = None
    months: int | None = None
    warning_days: int = 30

    def lot_expires_at(self, earned_at: datetime, zone: ZoneInfo) -> datetime | None:
        """When a lot earned at `earned_at` expires (None: never on its own)."""
        if self.policy is ExpiryPolicy.ROLLING and self.days is not None:
            return earned_at + timedelta(days=self.days)
        if self.policy in (ExpiryPolicy.END_OF_MONTH, ExpiryPolicy.END_OF_YEAR):
            local = earned_at.astimezone(zone)
            month_index = local.year * 12 + (local.month - 1) + (self.months or 0)
            year, month = divmod(month_index, 12)
            if self.policy is ExpiryPolicy.END_OF_YEAR:
                year, month = year + 1, 0  # the first instant of the next year
            else:
                year, month = divmod(year * 12 + month + 1, 12)  # first of the next month
            return datetime.combine(date(year, month + 1, 1), time(0), zone)
        return None

    @property
    def inactivity(self) -> timedelta | None:
        if self.policy is ExpiryPolicy.INACTIVITY and self.days is not None:
            return timedelta(days=self.days)
        return None
