"""Referral terms: what a referrer and a new member earn on the newcomer's first purchase."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from app.domain.definition_reader import Reader
from app.domain.points import MAX_AMOUNT
from app.domain.rules import Period


@dataclass(frozen=True, slots=True)
class ReferralTerms:
    referrer_points: int
    referee_points: int
    min_order_amount: Decimal = Decimal(0)
    max_per_referrer: int | None = None  # awards per referrer per `period`
    period: Period = Period.YEAR


def parse_referral(read: Reader, raw: object) -> ReferralTerms | None:
    if raw is None:
        return None
    if not isinstance(raw, dict):
        read.fail("referral", "a [referral] table is required")
        return None
    period = str(raw.get("period", "YEAR")).upper()
    if period not in Period.__members__:
        read.fail("referral.period", f"one of {list(Period.__members__)} is required")
        period = "YEAR"
    minimum = Decimal(0)
    if "min_order_amount" in raw:
        minimum = read.decimal(raw, "min_order_amount", "referral", "1", maximum=MAX_AMOUNT)
    return ReferralTerms(
        referrer_points=read.integer(raw, "referrer_points", "referral", maximum=1_000_000) or 0,
        referee_points=read.integer(raw, "referee_points", "referral", maximum=1_000_000) or 0,
        min_order_amount=minimum,
        max_per_referrer=read.integer(
            raw, "max_per_referrer", "referral", minimum=1, optional=True
        ),
        period=Period(period),
    )


def referral_to_data(terms: ReferralTerms) -> dict[str, Any]:
    data: dict[str, Any] = {
        "referrer_points": terms.referrer_points,
        "referee_points": terms.referee_points,
        "period": terms.period.value,
    }
    if terms.min_order_amount:
        data["min_order_amount"] = str(terms.min_order_amount)
    if terms.max_per_referrer is not None:
        data["max_per_referrer"] = terms.max_per_referrer
    return data
