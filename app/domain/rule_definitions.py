"""`[[rules]]` in a program file: parsed into Rules, validated, and written back."""

from __future__ import annotations

from datetime import date, time
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any, TypeVar

from app.domain.definition_reader import Reader
from app.domain.points import MAX_AMOUNT
from app.domain.rules import Cap, Conditions, Effect, Period, Rule


class Channel(StrEnum):
    """Where a purchase happened."""

    POS = "POS"
    ONLINE = "ONLINE"
    APP = "APP"
    OTHER = "OTHER"


class ActivityKind(StrEnum):
    """What a member did that activity rules can reward."""

    SIGNUP = "SIGNUP"
    PROFILE_COMPLETED = "PROFILE_COMPLETED"
    BIRTHDAY = "BIRTHDAY"
    REVIEW = "REVIEW"
    SOCIAL_SHARE = "SOCIAL_SHARE"
    CUSTOM = "CUSTOM"


CHANNELS = frozenset(channel.value for channel in Channel)
ACTIVITY_KINDS = tuple(kind.value for kind in ActivityKind)
WEEKDAYS = ("MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN")


def _strings(read: Reader, item: dict[str, Any], key: str, path: str) -> frozenset[str] | None:
    raw = item.get(key)
    if raw is None:
        return None
    if not isinstance(raw, list) or not raw or not all(isinstance(v, str) and v for v in raw):
        read.fail(f"{path}.{key}", "a non-empty list of strings is required")
        return None
    return frozenset(raw)


T = TypeVar("T", time, date)


def _iso(
    read: Reader, item: dict[str, Any], key: str, path: str, kind: type[T], example: str
) -> T | None:
    """A TOML time or date (or its ISO text); a clear problem when it is neither."""
    raw = item.get(key)
    if raw is None or isinstance(raw, kind):
        return raw
    try:
        return kind.fromisoformat(str(raw))
    except ValueError:
        read.fail(f"{path}.{key}", f"{raw!r} is not a {kind.__name__} such as {example}")
        return None


def _conditions(
    read: Reader, raw: object, path: str, tier_keys: set[str], custom: frozenset[str]
) -> Conditions:
    if raw is None:
        return Conditions()
    if not isinstance(raw, dict):
        read.fail(path, "a table is required")
        return Conditions()
    known = {
        "channels",
        "skus",
        "categories",
        "min_order_amount",
        "weekdays",
        "time_from",
        "time_until",
        "date_from",
        "date_until",
        "tiers",
        "activities",
    }
    for unknown in sorted(set(raw) - known):
        read.fail(f"{path}.{unknown}", "is not a rule condition")
    channels = _strings(read, raw, "channels", path)
    if channels is not None and not channels <= CHANNELS:
        read.fail(f"{path}.channels", f"channels are {sorted(CHANNELS)}")
    tiers = _strings(read, raw, "tiers", path)
    if tiers is not None and not tiers <= tier_keys:
        read.fail(f"{path}.tiers", f"unknown tier keys {sorted(tiers - tier_keys)}")
    days = _strings(read, raw, "weekdays", path)
    weekdays = None
    if days is not None:
        if not days <= set(WEEKDAYS):
            read.fail(f"{path}.weekdays", f"weekdays are {list(WEEKDAYS)}")
        weekdays = frozenset(WEEKDAYS.index(d) for d in days if d in WEEKDAYS)
    minimum = None
    if "min_order_amount" in raw:
        minimum = read.decimal(raw, "min_order_amount", path, "1", maximum=MAX_AMOUNT)
    time_from, time_until = (
        _iso(read, raw, "time_from", path, time, "07:30"),
        _iso(read, raw, "time_until", path, time, "07:30"),
    )
    if (time_from is None) != (time_until is None):
        read.fail(path, "time_from and time_until go together")
    date_from, date_until = (
        _iso(read, raw, "date_from", path, date, "2026-12-24"),
        _iso(read, raw, "date_until", path, date, "2026-12-24"),
    )
    if date_from and date_until and date_until < date_from:
        read.fail(f"{path}.date_until", "must not be before date_from")
    activities = _strings(read, raw, "activities", path)
    if activities is not None:
        allowed = {k for k in ACTIVITY_KINDS if k != "CUSTOM"} | {f"CUSTOM:{c}" for c in custom}
        if not activities <= allowed:
            read.fail(
                f"{path}.activities",
                f"unknown activities {sorted(activities - allowed)}; "
                "custom ones are CUSTOM:NAME with NAME in program.custom_activities",
            )
    return Conditions(
        activities=activities,
        channels=channels,
        skus=_strings(read, raw, "skus", path),
        categories=_strings(read, raw, "categories", path),
        min_order_amount=minimum,
        weekdays=weekdays,
        time_from=time_from,
        time_until=time_until,
        date_from=date_from,
        date_until=date_until,
        tiers=tiers,
    )


def _cap(read: Reader, raw: object, path: str) -> Cap | None:
    if raw is None:
        return None
    if not isinstance(raw, dict):
        read.fail(path, 'a table such as { points = 500, period = "DAY" } is required')
        return None
    points = read.integer(raw, "points", path, minimum=0) or 0
    period = str(raw.get("period", "")).upper()
    if period not in Period.__members__:
        read.fail(f"{path}.period", f"one of {list(Period.__members__)} is required")
        return None
    return Cap(points, Period(period))


#: The largest value of each effect: points per unit, a multiplier, a bonus in points.
_MOST = {
    Effect.PER_UNIT.value: 1000,
    Effect.MULTIPLIER.value: 100,
    Effect.BONUS.value: 1_000_000,
}


def parse_rules(
    read: Reader, raw: object, tier_keys: set[str], custom: frozenset[str] = frozenset()
) -> tuple[Rule, ...]:
    """Rules in priority order. Two rules may not share a key or a priority: no ties."""
    if raw is None:
        return ()
    rules: list[Rule] = []
    for path, item in read.tables(raw, "rules"):
        effect = str(item.get("effect", "")).upper()
        if effect not in Effect.__members__:
            read.fail(f"{path}.effect", f"one of {list(Effect.__members__)} is required")
            effect = Effect.PER_UNIT.value
        try:
            value = Decimal(str(item.get("value")))
        except InvalidOperation:
            value = Decimal(-1)
        if not value.is_finite() or value <= 0:
            read.fail(f"{path}.value", "a number greater than zero is required")
        if effect == Effect.BONUS.value and value != value.to_integral_value():
            read.fail(f"{path}.value", "a BONUS is a whole number of points")
        most = _MOST[effect] if effect in _MOST else _MOST[Effect.PER_UNIT.value]
        if read.limits and value.is_finite() and value > most:
            read.fail(f"{path}.value", f"a {effect} is at most {most:,}")
            value = Decimal(1)
        exponent = value.normalize().as_tuple().exponent if value.is_finite() else 0
        if read.limits and isinstance(exponent, int) and exponent < -6:
            read.fail(f"{path}.value", "at most 6 decimal places")
            value = Decimal(1)
        rules.append(
            Rule(
                key=read.text(item, "key", path),
                name=read.text(item, "name", path),
                priority=read.integer(item, "priority", path) or 0,
                effect=Effect(effect),
                value=value,
                conditions=_conditions(
                    read, item.get("conditions"), f"{path}.conditions", tier_keys, custom
                ),
                cap=_cap(read, item.get("cap"), f"{path}.cap"),
                stop=bool(item.get("stop", False)),
                include_shipping=bool(item.get("include_shipping", False)),
            )
        )
    for index, rule in enumerate(rules):
        if rule.conditions.activities is not None and rule.effect is not Effect.BONUS:
            read.fail(f"rules[{index}].effect", "a rule on activities gives a BONUS")
    read.no_duplicates("rules", "rule key", [r.key for r in rules])
    read.no_duplicates("rules", "rule priority (no ties)", [r.priority for r in rules])
    return tuple(sorted(rules, key=lambda r: r.priority))


def rules_to_data(rules: tuple[Rule, ...]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for r in rules:
        c = r.conditions
        conditions: dict[str, Any] = {}
        for key, value in (
            ("channels", c.channels),
            ("skus", c.skus),
            ("categories", c.categories),
            ("tiers", c.tiers),
            ("activities", c.activities),
        ):
            if value is not None:
                conditions[key] = sorted(value)
        if c.weekdays is not None:
            conditions["weekdays"] = [WEEKDAYS[d] for d in sorted(c.weekdays)]
        if c.min_order_amount is not None:
            conditions["min_order_amount"] = str(c.min_order_amount)
        for key, moment in (
            ("time_from", c.time_from),
            ("time_until", c.time_until),
            ("date_from", c.date_from),
            ("date_until", c.date_until),
        ):
            if moment is not None:
                conditions[key] = moment.isoformat()
        item: dict[str, Any] = {
            "key": r.key,
            "name": r.name,
            "priority": r.priority,
            "effect": r.effect.value,
            "value": str(r.value),
        }
        if conditions:
            item["conditions"] = conditions
        if r.cap is not None:
            item["cap"] = {"points": r.cap.points, "period": r.cap.period.value}
        if r.stop:
            item["stop"] = True
        if r.include_shipping:
            item["include_shipping"] = True
        out.append(item)
    return out
