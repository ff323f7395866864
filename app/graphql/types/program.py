"""The active program: name, currency, earn rate, tiers."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import strawberry

from app.domain.checkout import CheckoutOffer as CheckoutOfferRecord
from app.domain.checkout import CheckoutTerms as CheckoutTermsRecord
from app.domain.rule_definitions import WEEKDAYS
from app.domain.rules import Rule as RuleRecord
from app.domain.tiers.policy import Tier as TierRecord
from app.graphql.types.activity import RuleAward
from app.graphql.types.order import Channel
from app.ledger.programs import ProgramVersion


@strawberry.type(
    description="A level of the program: members reach it by the tier measure and earn at its "
    "multiplier."
)
class Tier:
    key: str = strawberry.field(
        description="The tier's stable id in the program (Reward.minTier and EarningRule.tiers "
        "name tiers by it)."
    )
    name: str = strawberry.field(description="The tier's display name.")
    threshold: int = strawberry.field(
        description="The tier measure needed (program.tierMeasure over program.tierWindow)."
    )
    multiplier: Decimal = strawberry.field(description="Earn multiplier for members in this tier.")
    benefits: list[str] = strawberry.field(
        description="What the tier gives, as lines of text to show the member."
    )
    never_downgrade: bool = strawberry.field(
        description="Once held (or passed), a member never drops below this tier at a review."
    )

    @classmethod
    def of(cls, t: TierRecord) -> Tier:
        return cls(
            key=t.key,
            name=t.name,
            threshold=t.threshold,
            multiplier=t.multiplier,
            benefits=list(t.benefits),
            never_downgrade=t.never_downgrade,
        )


@strawberry.type(description="The most points one earning rule gives a member per period.")
class RuleCap:
    points: int = strawberry.field(description="At most this many points per member and period.")
    period: str = strawberry.field(description="DAY, WEEK, MONTH or YEAR, per member.")


@strawberry.type(description="An earning rule, as a storefront may show it.")
class EarningRule:
    key: str = strawberry.field(
        description="The rule's stable id in the program; RuleAward.rule names it."
    )
    name: str = strawberry.field(description="The rule's display name, for a storefront to show.")
    priority: int = strawberry.field(description="Rules run in ascending priority.")
    effect: str = strawberry.field(description="PER_UNIT, MULTIPLIER or BONUS.")
    value: Decimal = strawberry.field(
        description="PER_UNIT: points per currency unit of each line after discounts, scaled by "
        "the tier multiplier. MULTIPLIER: the factor on what earlier rules gave the same lines. "
        "BONUS: whole points per order or activity."
    )
    channels: list[Channel] | None = strawberry.field(
        description="Applies only to purchases on these channels; null means any channel."
    )
    skus: list[str] | None = strawberry.field(
        description="Applies only to order lines with these SKUs; null means any."
    )
    categories: list[str] | None = strawberry.field(
        description="Applies only to order lines in these categories; null means any."
    )
    tiers: list[str] | None = strawberry.field(
        description="Applies only to members in these tiers (Tier.key); null means any tier."
    )
    weekdays: list[str] | None = strawberry.field(
        description="Applies only on these days, MON to SUN in the program's time zone; null "
        "means any day."
    )
    activities: list[str] | None = strawberry.field(
        description="Set on activity rules: the activities they reward."
    )
    min_order_amount: Decimal | None = strawberry.field(
        description="Applies only to orders of at least this amount, in the program's currency; "
        "null means no minimum."
    )
    cap: RuleCap | None = strawberry.field(
        description="The most this rule gives a member per period; null means no cap."
    )
    stop: bool = strawberry.field(
        description="True: when this rule applies, no later rule is evaluated."
    )

    @classmethod
    def of(cls, r: RuleRecord) -> EarningRule:
        c = r.conditions

        def listed(values: frozenset[str] | None) -> list[str] | None:
            return sorted(values) if values is not None else None

        return cls(
            key=r.key,
            name=r.name,
            priority=r.priority,
            effect=r.effect.value,
            value=r.value,
            channels=[Channel(v) for v in sorted(c.channels)] if c.channels is not None else None,
            skus=listed(c.skus),
            categories=listed(c.categories),
            tiers=listed(c.tiers),
            weekdays=[WEEKDAYS[d] for d in sorted(c.weekdays)] if c.weekdays is not None else None,
            activities=listed(c.activities),
            min_order_amount=c.min_order_amount,
            cap=RuleCap(points=r.cap.points, period=r.cap.period.value) if r.cap else None,
            stop=r.stop,
        )


@strawberry.type(description="How the program takes points as payment at checkout.")
class CheckoutTerms:
    points_value: Decimal = strawberry.field(
        description="What one point takes off, in the program's currency (0.01: 100 points = 1.00)."
    )
    min_points: int = strawberry.field(description="The fewest points a checkout may apply.")
    step: int = strawberry.field(description="Points are applied in multiples of this.")
    hold_minutes: int = strawberry.field(
        description="Minutes a cart's points stay held unless an order pays it."
    )

    @classmethod
    def of(cls, t: CheckoutTermsRecord) -> CheckoutTerms:
        return cls(
            points_value=t.points_value,
            min_points=t.min_points,
            step=t.step,
            hold_minutes=t.hold_minutes,
        )


@strawberry.type(
    description="What a checkout can take off with points: the most it may apply (the "
    "member's available points, in the program's steps, and no more than the order needs) "
    "and what they are worth."
)
class CheckoutOffer:
    points: int = strawberry.field(
        description="The most points applyPointsAtCheckout would take now; 0 below the minimum."
    )
    value: Decimal = strawberry.field(description="What they take off, in currency.")
    currency: str = strawberry.field(description="The program's currency (ISO 4217).")
    terms: CheckoutTerms = strawberry.field(description="The program's checkout terms.")

    @classmethod
    def of(cls, o: CheckoutOfferRecord) -> CheckoutOffer:
        return cls(
            points=o.points, value=o.value, currency=o.currency, terms=CheckoutTerms.of(o.terms)
        )


@strawberry.type(
    description="The active program version: earn rate, pending and expiry, tiers and earning "
    "rules."
)
class Program:
    name: str = strawberry.field(description="The program's display name.")
    version: int = strawberry.field(
        description="The version number; each activation that changes the program adds one."
    )
    currency: str = strawberry.field(
        description="ISO 4217 code; purchases and estimates in another currency are refused "
        "(INVALID_INPUT)."
    )
    points_per_unit: Decimal = strawberry.field(description="Points per currency unit spent.")
    points_expiry_days: int | None = strawberry.field(
        description="Under the default ROLLING expiry: days after it is earned that each earn "
        "expires. Null when points expire another way (end of month or year, inactivity) or "
        "never."
    )
    pending_days: int = strawberry.field(description="Days earned points stay pending (returns).")
    tiers: list[Tier] = strawberry.field(
        description="The tiers, lowest first; the first starts at threshold 0."
    )
    tier_measure: str = strawberry.field(description="POINTS earned or SPEND, for tiers.")
    tier_window: str = strawberry.field(description="ROLLING_12_MONTHS or CALENDAR_YEAR.")
    tier_downgrade: str = strawberry.field(
        description="At the end of a tier period that the measure does not support: SUPPORTED "
        "(down to the tier it supports) or ONE_LEVEL (one tier at most)."
    )
    tier_grace_days: int = strawberry.field(
        description="Days a member keeps a tier after a review fell short; reaching the "
        "threshold within them keeps it for a new period."
    )
    return_policy: str = strawberry.field(
        description="When a return takes back points already spent: RECORD_SHORTFALL (take "
        "what is there) or NEGATIVE_BALANCE (available goes below zero; later credits repay)."
    )
    rules: list[EarningRule] = strawberry.field(description="How points are earned, in order.")
    activated_at: datetime = strawberry.field(description="When this version became active.")
    checkout: CheckoutTerms | None = strawberry.field(
        description="Points at checkout (applyPointsAtCheckout); null when the program takes "
        "no points as payment."
    )

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
            tier_measure=p.tier_measure.value,
            tier_window=p.tier_window.value,
            tier_downgrade=p.tier_downgrade.value,
            tier_grace_days=p.tier_grace_days,
            return_policy=p.return_policy.value,
            rules=[EarningRule.of(r) for r in p.earning_rules],
            activated_at=v.activated_at,
            checkout=CheckoutTerms.of(p.checkout) if p.checkout else None,
        )


@strawberry.type(description="What an order would earn; nothing is written.")
class PointsEstimate:
    points: int = strawberry.field(
        description="Points the order would earn now, with the tier multiplier and the rules' caps."
    )
    breakdown: list[RuleAward] = strawberry.field(
        description="Which earning rules would give what, in order (the checkout can show it)."
    )
    base_points: int = strawberry.field(
        description="What the same order would earn at multiplier 1: points less the tier's boost."
    )
    multiplier: Decimal = strawberry.field(
        description="The tier multiplier applied: the member's tier, or the first tier's without "
        "a member."
    )
    tier: Tier | None = strawberry.field(
        description="The member's tier the estimate used; null without a member (the first tier "
        "is used)."
    )
    currency: str = strawberry.field(description="The program's currency (ISO 4217).")
    checkout: CheckoutOffer | None = strawberry.field(
        default=None,
        description="What points could take off this order at checkout (for the member when "
        "one is given, else the most the order allows); null when the program takes no "
        "points at checkout.",
    )
