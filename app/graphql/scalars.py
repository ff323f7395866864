"""Scalars that refuse what they would otherwise guess.

Strawberry's `Decimal` hands its input to Python's `Decimal()`, which reads `"1_000"` as
1000, Arabic-Indic digits as their values, `"  5  "` as 5 and `"1e3"` as 1000. Tally's
`Decimal` takes a plain ASCII decimal only, as a string (`"12.50"`) or a JSON integer."""

from __future__ import annotations

import dataclasses
import re
from decimal import Decimal

from strawberry.exceptions import StrawberryInputCoercionError
from strawberry.schema.types.base_scalars import DateTimeDefinition
from strawberry.types.scalar import ScalarDefinition

_PLAIN = re.compile(r"-?[0-9]{1,16}(?:\.[0-9]{1,16})?")


def parse_decimal(value: object) -> Decimal:
    if isinstance(value, bool):
        raise StrawberryInputCoercionError(f"Decimal cannot represent {value!r}")
    if isinstance(value, int):
        text = str(value)
    elif isinstance(value, str):
        text = value
    else:
        raise StrawberryInputCoercionError(
            f'Decimal cannot represent {str(value)[:40]!r}: write it as a string such as "12.50"'
        )
    if not _PLAIN.fullmatch(text):
        raise StrawberryInputCoercionError(
            f"Decimal cannot represent {text[:40]!r}: a plain decimal such as 12 or 12.50 is "
            "required (ASCII digits and one dot; no spaces, separators or exponent)"
        )
    return Decimal(text)


StrictDecimal = ScalarDefinition(
    name="Decimal",
    description=(
        "A decimal number written as a string of ASCII digits with at most one dot, such as "
        '"12.50" (a JSON integer is accepted too). No sign unless the field allows it, no '
        "spaces, digit separators or exponent."
    ),
    specified_by_url=None,
    serialize=str,
    parse_value=parse_decimal,
    parse_literal=None,
    origin=Decimal,
)

#: Strawberry's DateTime, parsed and printed as it is; only its description says more.
DescribedDateTime = dataclasses.replace(
    DateTimeDefinition,
    description=(
        'An ISO 8601 date and time with a UTC offset, such as "2026-11-22T10:15:00+01:00". '
        "Tally always answers with one (stored times are UTC); an occurredAt without one is "
        "refused."
    ),
)
