"""The program definition: earn rate, expiry, return window, tiers and rewards.

Parsed from a plain mapping (a TOML file or a stored JSON version) and validated with
one message per problem, each naming where it is.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from app.domain.checkout import CheckoutTerms, checkout_to_data, parse_checkout
from app.domain.definition_reader import Reader
from app.domain.errors import ProgramInvalid
from app.domain.expiry import Expiry, ExpiryPolicy
from app.domain.points import ReturnPolicy, currency_decimals
from app.domain.referrals import ReferralTerms, parse_referral, referral_to_data
from app.domain.reward_definitions import (
    ProviderDefinition,
    RewardDefinition,
    parse_providers,
    parse_rewards,
    providers_to_data,
    rewards_to_data,
)
from app.domain.rule_definitions import parse_rules, rules_to_data
from app.domain.rules import Effect, Rule
from app.domain.tiers.definition import (
    parse_tier_settings,
    parse_tiers,
    tier_settings_to_data,
    tiers_to_data,
)
from app.domain.tiers.policy import DowngradePolicy, Tier, TierMeasure, TierSettings, TierWindow


@dataclass(frozen=True, slots=True)
class Program:
    name: str
    currency: str
    points_per_unit: Decimal
    expiry_days: int | None
    pending_days: int
    time_zone: str
    tiers: tuple[Tier, ...]
    rewards: tuple[RewardDefinition, ...] = field(default=())
    providers: tuple[ProviderDefinition, ...] = field(default=())
    rules: tuple[Rule, ...] = field(default=())
    expiry_policy: ExpiryPolicy | None = None  # None: ROLLING with expiry_days, else NEVER
    expiry_months: int | None = None
    inactivity_days: int | None = None
    expiry_warning_days: int = 30
    custom_activities: frozenset[str] = frozenset()
    referral: ReferralTerms | None = None
    tier_measure: TierMeasure = TierMeasure.POINTS
    tier_window: TierWindow = TierWindow.ROLLING_12_MONTHS
    qualifying_days: int = 365  # the rolling window, and the length of a rolling tier period
    tier_downgrade: DowngradePolicy = DowngradePolicy.SUPPORTED
    tier_grace_days: int = 0
    return_policy: ReturnPolicy = ReturnPolicy.RECORD_SHORTFALL
    max_backdate_days: int = 90  # how far back a till may date a purchase or activity
    checkout: CheckoutTerms | None = None  # None: no points at checkout

    @property
    def tier_settings(self) -> TierSettings:
        return TierSettings(
            self.tier_measure, self.tier_window, self.tier_downgrade, self.tier_grace_days
        )

    @property
    def expiry(self) -> Expiry:
        policy = self.expiry_policy or (
            ExpiryPolicy.ROLLING if self.expiry_days is not None else ExpiryPolicy.NEVER
        )
        days = self.inactivity_days if policy is ExpiryPolicy.INACTIVITY else self.expiry_days
        return Expiry(policy, days, self.expiry_months, self.expiry_warning_days)

    @property
    def earning_rules(self) -> tuple[Rule, ...]:
        """The program's rules; without any, one base rule at `points_per_unit`."""
        if self.rules:
            return self.rules
        return (Rule("base", "Base points", 0, Effect.PER_UNIT, self.points_per_unit),)

    def tier_rank(self, key: str | None) -> int:
        """Index of a tier (0 lowest); -1 when the key names no tier."""
        for index, tier in enumerate(self.tiers):
            if tier.key == key:
                return index
        return -1

    def tier_for(self, qualifying_points: int) -> Tier:
        current = self.tiers[0]
        for tier in self.tiers:
            if qualifying_points >= tier.threshold:
                current = tier
        return current

    def tier_by_key(self, key: str | None) -> Tier | None:
        rank = self.tier_rank(key)
        return self.tiers[rank] if rank >= 0 else None

    def next_tier(self, tier: Tier) -> Tier | None:
        rank = self.tier_rank(tier.key)
        return self.tiers[rank + 1] if rank + 1 < len(self.tiers) else None

    def lot_expires_at(self, earned_at: datetime) -> datetime | None:
        return self.expiry.lot_expires_at(earned_at, ZoneInfo(self.time_zone))

    def release_at(self, earned_at: datetime) -> datetime | None:
        return None if self.pending_days == 0 else earned_at + timedelta(days=self.pending_days)


#: Sane ranges for a program's values: with them, no computation on a valid program leaves
#: the numbers it can hold, and a write that would still pass a member's limit is refused.
MAX_POINTS_PER_UNIT = 1000
MAX_MULTIPLIER = 100
MAX_BONUS = 1_000_000
MAX_DAYS = 3660  # ten years
MAX_BACKDATE_DAYS = 90  # the default for max_backdate_days


def parse_program(data: dict[str, Any], *, limits: bool = True) -> Program:
    """Validate a program mapping; raise ProgramInvalid listing every problem found.
    `limits=False` reads a stored version back without today's ranges."""
    read = Reader(limits=limits)
    head = data.get("program")
    if not isinstance(head, dict):
        raise ProgramInvalid(["program: a [program] table is required"])
    name = read.text(head, "name", "program")
    currency = read.text(head, "currency", "program")
    if currency and (len(currency) != 3 or not currency.isalpha() or not currency.isupper()):
        read.fail("program.currency", "an ISO 4217 code such as EUR is required")
    rate = read.decimal(head, "points_per_unit", "program", "1", maximum=MAX_POINTS_PER_UNIT)
    expiry = read.integer(
        head, "points_expiry_days", "program", minimum=1, maximum=MAX_DAYS, optional=True
    )
    pending = (
        read.integer(head, "pending_days", "program", minimum=0, maximum=365, optional=True) or 0
    )
    backdate = read.integer(
        head, "max_backdate_days", "program", minimum=0, maximum=MAX_DAYS, optional=True
    )
    zone = str(head.get("time_zone", "UTC"))
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        read.fail("program.time_zone", f"{zone!r} is not a known IANA time zone")
    tiers = parse_tiers(read, data.get("tiers"))
    providers = parse_providers(read, data.get("providers"))
    rewards = parse_rewards(
        read, data.get("rewards", []), {t.key for t in tiers}, providers, currency=currency
    )
    custom_raw = head.get("custom_activities", [])
    if not isinstance(custom_raw, list) or not all(
        isinstance(c, str) and c.isupper() and c.replace("_", "").isalnum() for c in custom_raw
    ):
        read.fail("program.custom_activities", "a list of names such as STORE_VISIT is required")
        custom_raw = []
    custom = frozenset(custom_raw)
    rules = parse_rules(read, data.get("rules"), {t.key for t in tiers}, custom)
    policy_name = head.get("expiry_policy")
    policy: ExpiryPolicy | None = None
    if policy_name is not None:
        if str(policy_name).upper() not in ExpiryPolicy.__members__:
            read.fail("program.expiry_policy", f"one of {list(ExpiryPolicy.__members__)}")
        else:
            policy = ExpiryPolicy(str(policy_name).upper())
    months = read.integer(head, "expiry_months", "program", minimum=0, maximum=120, optional=True)
    inactivity = read.integer(
        head, "inactivity_days", "program", minimum=1, maximum=MAX_DAYS, optional=True
    )
    warning = read.integer(
        head, "expiry_warning_days", "program", minimum=0, maximum=365, optional=True
    )
    needs = {
        ExpiryPolicy.ROLLING: ("points_expiry_days", expiry),
        ExpiryPolicy.END_OF_MONTH: ("expiry_months", months),
        ExpiryPolicy.END_OF_YEAR: ("expiry_months", months),
        ExpiryPolicy.INACTIVITY: ("inactivity_days", inactivity),
    }
    if policy in needs and needs[policy][1] is None:
        read.fail(f"program.{needs[policy][0]}", f"is required by expiry_policy {policy}")
    referral = parse_referral(read, data.get("referral"))
    checkout = parse_checkout(read, data.get("checkout"))
    if checkout is not None and currency and read.limits:
        unit = Decimal(1).scaleb(-currency_decimals(currency))
        if (checkout.points_value * checkout.step) % unit:
            read.fail(
                "checkout.points_value",
                f"a step of {checkout.step} points must be worth a whole number of "
                f"{unit} {currency} (so no applied points are lost to rounding)",
            )
    tier_settings = parse_tier_settings(read, head)
    return_policy = str(head.get("return_policy", ReturnPolicy.RECORD_SHORTFALL.value)).upper()
    if return_policy not in ReturnPolicy.__members__:
        read.fail("program.return_policy", f"one of {list(ReturnPolicy.__members__)}")
        return_policy = ReturnPolicy.RECORD_SHORTFALL.value
    if read.problems:
        raise ProgramInvalid(read.problems)
    return Program(
        name=name,
        currency=currency,
        points_per_unit=rate,
        expiry_days=expiry,
        pending_days=pending,
        time_zone=zone,
        tiers=tiers,
        rewards=rewards,
        providers=providers,
        rules=rules,
        expiry_policy=policy,
        expiry_months=months,
        inactivity_days=inactivity,
        expiry_warning_days=30 if warning is None else warning,
        custom_activities=custom,
        referral=referral,
        tier_measure=tier_settings.measure,
        tier_window=tier_settings.window,
        tier_downgrade=tier_settings.downgrade,
        tier_grace_days=tier_settings.grace_days,
        return_policy=ReturnPolicy(return_policy),
        max_backdate_days=MAX_BACKDATE_DAYS if backdate is None else backdate,
        checkout=checkout,
    )


def program_to_data(program: Program) -> dict[str, Any]:
    """The inverse of parse_program, as JSON-safe data (for storing a version)."""
    head: dict[str, Any] = {
        "name": program.name,
        "currency": program.currency,
        "points_per_unit": str(program.points_per_unit),
        "pending_days": program.pending_days,
        "time_zone": program.time_zone,
    }
    if program.expiry_days is not None:
        head["points_expiry_days"] = program.expiry_days
    head.update(tier_settings_to_data(program.tier_settings))
    if program.return_policy is not ReturnPolicy.RECORD_SHORTFALL:
        head["return_policy"] = program.return_policy.value
    if program.max_backdate_days != MAX_BACKDATE_DAYS:
        head["max_backdate_days"] = program.max_backdate_days
    if program.custom_activities:
        head["custom_activities"] = sorted(program.custom_activities)
    for key, value in (
        ("expiry_policy", program.expiry_policy.value if program.expiry_policy else None),
        ("expiry_months", program.expiry_months),
        ("inactivity_days", program.inactivity_days),
        (
            "expiry_warning_days",
            None if program.expiry_warning_days == 30 else program.expiry_warning_days,
        ),
    ):
        if value is not None:
            head[key] = value
    tiers = tiers_to_data(program.tiers)
    rewards = rewards_to_data(program.rewards)
    data: dict[str, Any] = {"program": head, "tiers": tiers, "rewards": rewards}
    if program.rules:
        data["rules"] = rules_to_data(program.rules)
    if program.referral is not None:
        data["referral"] = referral_to_data(program.referral)
    if program.providers:
        data["providers"] = providers_to_data(program.providers)
    if program.checkout is not None:
        data["checkout"] = checkout_to_data(program.checkout)
    return data
