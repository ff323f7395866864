"""Reading and writing the tiers of a program definition: `[[tiers]]` and the tier settings."""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from typing import Any, TypeVar

from app.domain.definition_reader import Reader
from app.domain.tiers.policy import DowngradePolicy, Tier, TierMeasure, TierSettings, TierWindow

E = TypeVar("E", bound=StrEnum)


def parse_tiers(read: Reader, raw: object) -> tuple[Tier, ...]:
    if not isinstance(raw, list) or not raw:
        read.fail("tiers", "at least one [[tiers]] entry is required")
        return (Tier("member", "Member", 0, Decimal(1)),)
    tiers: list[Tier] = []
    for index, item in enumerate(raw):
        path = f"tiers[{index}]"
        if not isinstance(item, dict):
            read.fail(path, "a table is required")
            continue
        benefits = item.get("benefits", [])
        if not isinstance(benefits, list) or not all(isinstance(b, str) for b in benefits):
            read.fail(f"{path}.benefits", "a list of strings is required")
            benefits = []
        never = item.get("never_downgrade", False)
        if not isinstance(never, bool):
            read.fail(f"{path}.never_downgrade", "true or false is required")
            never = False
        tiers.append(
            Tier(
                key=read.text(item, "key", path),
                name=read.text(item, "name", path),
                threshold=read.integer(item, "threshold", path) or 0,
                multiplier=read.decimal(item, "multiplier", path, "1", maximum=100),
                benefits=tuple(benefits),
                never_downgrade=never,
            )
        )
    if tiers and tiers[0].threshold != 0:
        read.fail("tiers[0].threshold", "the first tier must start at 0")
    for index in range(1, len(tiers)):
        if tiers[index].threshold <= tiers[index - 1].threshold:
            read.fail(f"tiers[{index}].threshold", "thresholds must strictly increase")
    read.no_duplicates("tiers", "tier key", [t.key for t in tiers])
    return tuple(tiers)


def _choice(read: Reader, head: dict[str, Any], key: str, kind: type[E], default: E) -> E:
    raw = str(head.get(key, default.value)).upper()
    if raw not in kind.__members__:
        read.fail(f"program.{key}", f"one of {list(kind.__members__)}")
        return default
    return kind(raw)


def parse_tier_settings(read: Reader, head: dict[str, Any]) -> TierSettings:
    grace = read.integer(head, "tier_grace_days", "program", minimum=0, maximum=365, optional=True)
    return TierSettings(
        measure=_choice(read, head, "tier_measure", TierMeasure, TierMeasure.POINTS),
        window=_choice(read, head, "tier_window", TierWindow, TierWindow.ROLLING_12_MONTHS),
        downgrade=_choice(read, head, "tier_downgrade", DowngradePolicy, DowngradePolicy.SUPPORTED),
        grace_days=grace or 0,
    )


def tiers_to_data(tiers: tuple[Tier, ...]) -> list[dict[str, Any]]:
    found = []
    for t in tiers:
        item: dict[str, Any] = {
            "key": t.key,
            "name": t.name,
            "threshold": t.threshold,
            "multiplier": str(t.multiplier),
            "benefits": list(t.benefits),
        }
        if t.never_downgrade:
            item["never_downgrade"] = True
        found.append(item)
    return found


def tier_settings_to_data(settings: TierSettings) -> dict[str, Any]:
    """Only what differs from the defaults, so older stored versions keep their checksum."""
    data: dict[str, Any] = {}
    if settings.measure is not TierMeasure.POINTS:
        data["tier_measure"] = settings.measure.value
    if settings.window is not TierWindow.ROLLING_12_MONTHS:
        data["tier_window"] = settings.window.value
    if settings.downgrade is not DowngradePolicy.SUPPORTED:
        data["tier_downgrade"] = settings.downgrade.value
    if settings.grace_days:
        data["tier_grace_days"] = settings.grace_days
    return data
