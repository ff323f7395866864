"""What a DISCOUNT_CODE is worth, typed, so a till or a checkout can apply it: a fixed
amount off, a percentage off, free shipping or a free item, off the whole check or one item.

[[rewards]]
key = "five-off"
kind = "DISCOUNT_CODE"
value_type = "FIXED_AMOUNT"      # or PERCENTAGE, FREE_SHIPPING, FREE_ITEM
value_amount = "5.00"            # FIXED_AMOUNT: in the program's currency; PERCENTAGE: 0-100
value_sku = "SKU-123"            # FREE_ITEM: the item; an ITEM-level amount or percentage: which
value_level = "CHECK"            # or ITEM (FREE_ITEM is ITEM, FREE_SHIPPING is CHECK)
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Any

from app.domain.definition_reader import Reader
from app.domain.points import MAX_AMOUNT, currency_decimals

VALUE_KEYS = ("value_type", "value_amount", "value_sku", "value_level")
MAX_SKU_LENGTH = 100
PERCENT_DECIMALS = 2


class DiscountValueType(StrEnum):
    FIXED_AMOUNT = "FIXED_AMOUNT"
    PERCENTAGE = "PERCENTAGE"
    FREE_SHIPPING = "FREE_SHIPPING"
    FREE_ITEM = "FREE_ITEM"


class DiscountLevel(StrEnum):
    CHECK = "CHECK"  # off the whole order
    ITEM = "ITEM"  # off one item (its SKU)


@dataclass(frozen=True, slots=True)
class DiscountValue:
    """One code's worth. `amount` and `currency` for FIXED_AMOUNT, `percentage` for
    PERCENTAGE, `sku` for FREE_ITEM and for an ITEM-level amount or percentage."""

    type: DiscountValueType
    level: DiscountLevel
    amount: Decimal | None = None
    currency: str | None = None
    percentage: Decimal | None = None
    sku: str | None = None

    def text(self) -> str:
        """A display text when the reward gives none: "5.00 EUR off", "10% off SKU-1"."""
        on = f" {self.sku}" if self.level is DiscountLevel.ITEM and self.sku else ""
        if self.type is DiscountValueType.FIXED_AMOUNT and self.amount is not None:
            places = currency_decimals(self.currency or "")
            shown = self.amount.quantize(Decimal(1).scaleb(-places))
            return f"{shown} {self.currency} off{on}"
        if self.type is DiscountValueType.PERCENTAGE and self.percentage is not None:
            return f"{self.percentage.normalize():f}% off{on}"
        if self.type is DiscountValueType.FREE_SHIPPING:
            return "Free shipping"
        return f"Free {self.sku}"

    @property
    def stored_amount(self) -> Decimal | None:
        """The one number it stores (value_amount): the amount or the percentage."""
        return self.amount if self.amount is not None else self.percentage

    @classmethod
    def of(
        cls,
        type_: str,
        level: str,
        amount: Decimal | None,
        currency: str | None,
        sku: str | None,
    ) -> DiscountValue:
        """A value as stored: one number that is an amount or a percentage by its type."""
        kind = DiscountValueType(type_)
        percent = kind is DiscountValueType.PERCENTAGE
        return cls(
            type=kind,
            level=DiscountLevel(level),
            amount=None if percent else amount,
            currency=currency if kind is DiscountValueType.FIXED_AMOUNT else None,
            percentage=amount if percent else None,
            sku=sku,
        )


def parse_value(
    read: Reader, item: dict[str, Any], path: str, *, kind: str, currency: str
) -> DiscountValue | None:
    """The value_* keys of a [[rewards]] table; None when it has none."""
    given = [k for k in VALUE_KEYS if k in item]
    if not given:
        return None
    if kind != "DISCOUNT_CODE":
        for key in given:
            read.fail(f"{path}.{key}", "only a DISCOUNT_CODE reward has it")
        return None
    raw_type = item.get("value_type")
    if raw_type is None:
        read.fail(f"{path}.value_type", f"is required with {', '.join(given)}")
        return None
    if str(raw_type).upper() not in DiscountValueType.__members__:
        read.fail(f"{path}.value_type", f"one of {list(DiscountValueType.__members__)}")
        return None
    value_type = DiscountValueType(str(raw_type).upper())
    sku = _sku(read, item, path)
    if sku is None and "value_sku" in item:
        return None
    level = _level(read, item, path, value_type, sku)
    if level is None:
        return None
    amount: Decimal | None = None
    if value_type in (DiscountValueType.FIXED_AMOUNT, DiscountValueType.PERCENTAGE):
        amount = _amount(read, item, path, value_type, currency)
        if amount is None:
            return None
    elif "value_amount" in item:
        read.fail(f"{path}.value_amount", f"a {value_type} discount has no amount")
        return None
    if value_type is DiscountValueType.FREE_SHIPPING and "value_sku" in item:
        read.fail(f"{path}.value_sku", "free shipping is for the whole check: no SKU")
        return None
    if level is DiscountLevel.ITEM and not sku:
        read.fail(f"{path}.value_sku", "an ITEM-level discount names its SKU")
        return None
    if level is DiscountLevel.CHECK and sku:
        read.fail(f"{path}.value_sku", "a SKU is for an ITEM-level discount (value_level)")
        return None
    return DiscountValue.of(value_type, level, amount, currency, sku)


def _sku(read: Reader, item: dict[str, Any], path: str) -> str | None:
    if "value_sku" not in item:
        return None
    raw = item["value_sku"]
    sku = raw.strip() if isinstance(raw, str) else ""
    if not sku or len(sku) > MAX_SKU_LENGTH or not sku.isprintable():
        read.fail(
            f"{path}.value_sku",
            f"a SKU of 1 to {MAX_SKU_LENGTH} printable characters is required",
        )
        return None
    return sku


def _level(
    read: Reader,
    item: dict[str, Any],
    path: str,
    value_type: DiscountValueType,
    sku: str | None,
) -> DiscountLevel | None:
    fixed = {
        DiscountValueType.FREE_ITEM: DiscountLevel.ITEM,
        DiscountValueType.FREE_SHIPPING: DiscountLevel.CHECK,
    }
    raw = item.get("value_level")
    if raw is None:
        return fixed.get(value_type, DiscountLevel.ITEM if sku else DiscountLevel.CHECK)
    if str(raw).upper() not in DiscountLevel.__members__:
        read.fail(f"{path}.value_level", f"one of {list(DiscountLevel.__members__)}")
        return None
    level = DiscountLevel(str(raw).upper())
    if value_type in fixed and level is not fixed[value_type]:
        read.fail(f"{path}.value_level", f"a {value_type} discount is {fixed[value_type]}-level")
        return None
    return level


def _amount(
    read: Reader,
    item: dict[str, Any],
    path: str,
    value_type: DiscountValueType,
    currency: str,
) -> Decimal | None:
    key = f"{path}.value_amount"
    if "value_amount" not in item:
        what = "the amount off" if value_type is DiscountValueType.FIXED_AMOUNT else "the percent"
        read.fail(key, f"{what} is required for {value_type}")
        return None
    percent = value_type is DiscountValueType.PERCENTAGE
    before = len(read.problems)
    amount = read.decimal(
        item, "value_amount", path, "1", maximum=Decimal(100) if percent else MAX_AMOUNT
    )
    if len(read.problems) > before:
        return None
    places = PERCENT_DECIMALS if percent else currency_decimals(currency)
    exponent = amount.normalize().as_tuple().exponent
    if read.limits and isinstance(exponent, int) and exponent < -places:
        unit = "a percentage" if percent else currency
        read.fail(key, f"at most {places} decimal places for {unit}")
        return None
    return amount


def value_to_data(value: DiscountValue | None) -> dict[str, str]:
    """The value_* keys that read back as `value`."""
    if value is None:
        return {}
    data = {"value_type": value.type.value, "value_level": value.level.value}
    if value.stored_amount is not None:
        data["value_amount"] = str(value.stored_amount)
    if value.sku:
        data["value_sku"] = value.sku
    return data
