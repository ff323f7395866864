"""How a purchase earns: the program's rules, the member's tier, the caps left this period."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from app.domain.program import Program
from app.domain.rules import Explanation, Line, Purchase, evaluate, period_bounds
from app.domain.tiers.policy import Tier
from app.ledger.awards import AwardStore


def single_line(amount: Decimal, channel: str, occurred_at: datetime) -> Purchase:
    """An order recorded without lines earns as one line of its whole amount."""
    return Purchase(channel, occurred_at, (Line("", 1, amount),))


async def explain(
    program: Program, purchase: Purchase, tier: Tier, awards: AwardStore, member_id: int | None
) -> Explanation:
    """Evaluate the rules; capped rules see what they already gave in their period."""
    zone = ZoneInfo(program.time_zone)
    rules = program.earning_rules
    given: dict[str, int] = {}
    if member_id is not None:
        periods = {
            r.key: period_bounds(purchase.occurred_at, r.cap.period, zone)
            for r in rules
            if r.cap is not None
        }
        if periods:
            given = await awards.given_within(member_id, periods)
    return evaluate(
        rules,
        purchase,
        tier=tier.key,
        zone=zone,
        awarded_in_period=given,
        rate_multiplier=tier.multiplier,
    )


def points_by_rule(explanation: Explanation) -> dict[str, int]:
    totals: dict[str, int] = {}
    for award in explanation.awards:
        totals[award.rule_key] = totals.get(award.rule_key, 0) + award.points
    return totals


def explanation_data(explanation: Explanation) -> list[dict[str, Any]]:
    """The stored form of an earn's explanation: which rule gave what, to which line."""
    return [
        {
            "rule": award.rule_key,
            "name": award.rule_name,
            "points": award.points,
            "lines": [[index, points] for index, points in award.line_points],
            "cappedBy": award.capped_by,
        }
        for award in explanation.awards
    ]
