"""The active program: name, currency, earn rate, tiers."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import strawberry

from app.domain.program import Tier as TierRecord
from app.graphql.types.activity import RuleAward
from app.ledger.programs import ProgramVersion


@strawberry.type
class Tier:
    key: str
    name: str
    threshold: int = strawberry.field(description="Qualifying points needed (last 12 months).")
    multiplier: Decimal = strawberry.field(description="Earn multiplier for members in this tier.")
    benefits: list[str]

    @classmethod
    def of(cls, t: TierRecord) -> Tier:
        return cls(
            key=t.key,
            name=t.name,
            threshold=t.threshold,
            multiplier=t.multiplier,
            benefits=list(t.benefits),
        )


@strawberry.type
class Program:
    name: str
    version: int
    currency: str
    points_per_unit: Decimal = strawberry.field(description="Points per currency unit spent.")
    points_expiry_days: int | None
    pending_days: int = strawberry.field(description="Days earned points stay pending (returns).")
    tiers: list[Tier]
    activated_at: datetime

    @classmethod
    def of(cls, v: ProgramVersion) -> Program:
        p = v.program
        return cls(
            name=p.name,
            version=v.version,
            currency=p.currency,
            points_per_unit=p.points_per_unit,
            points_expiry_days=p.expiry_days,
            pending_days=p.pending_days,
            tiers=[Tier.of(t) for t in p.tiers],
            activated_at=v.activated_at,
        )


@strawberry.type(description="What an order would earn; nothing is written.")
class PointsEstimate:
    points: int
    breakdown: list[RuleAward] = strawberry.field(
        description="Which earning rules would give what, in order (the checkout can show it)."
    )
    base_points: int
    multiplier: Decimal
    tier: Tier | None
    currency: str
