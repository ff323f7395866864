"""Reading program definitions: one message per problem, each naming where it is."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

#: The largest whole number a program may hold anywhere (the largest GraphQL Int).
INT_LIMIT = 2**31 - 1


class Reader:
    """Collects problems instead of stopping at the first one.

    `limits`: enforce each value's range. A stored version is read back without them,
    so a program activated before a limit existed still loads."""

    def __init__(self, *, limits: bool = True) -> None:
        self.problems: list[str] = []
        self.limits = limits

    def fail(self, path: str, message: str) -> None:
        self.problems.append(f"{path}: {message}")

    def text(self, data: dict[str, Any], key: str, path: str, default: str | None = None) -> str:
        value = data.get(key, default)
        if not isinstance(value, str) or not value.strip():
            self.fail(f"{path}.{key}", "a non-empty string is required")
            return ""
        return value.strip()

    def integer(
        self,
        data: dict[str, Any],
        key: str,
        path: str,
        *,
        minimum: int = 0,
        maximum: int = INT_LIMIT,
        optional: bool = False,
    ) -> int | None:
        if key not in data and optional:
            return None
        value = data.get(key)
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail(f"{path}.{key}", "a whole number is required")
            return None
        if value < minimum:
            self.fail(f"{path}.{key}", f"must be at least {minimum}")
            return None
        if self.limits and value > maximum:
            self.fail(f"{path}.{key}", f"must be at most {maximum:,}")
            return None
        return value

    def decimal(
        self,
        data: dict[str, Any],
        key: str,
        path: str,
        default: str,
        *,
        maximum: Decimal | int | None = None,
    ) -> Decimal:
        raw = data.get(key, default)
        if isinstance(raw, bool) or not isinstance(raw, str | int | float | Decimal):
            self.fail(f"{path}.{key}", "a number is required")
            return Decimal(default)
        try:
            value = Decimal(str(raw))
        except InvalidOperation:
            self.fail(f"{path}.{key}", f"{str(raw)[:40]!r} is not a number")
            return Decimal(default)
        if not value.is_finite() or value <= 0:
            self.fail(f"{path}.{key}", "must be greater than zero")
            return Decimal(default)
        if self.limits and maximum is not None and value > maximum:
            self.fail(f"{path}.{key}", f"must be at most {maximum:,}")
            return Decimal(default)
        exponent = value.normalize().as_tuple().exponent
        if self.limits and isinstance(exponent, int) and exponent < -6:
            self.fail(f"{path}.{key}", "at most 6 decimal places")
            return Decimal(default)
        return value

    def moment(self, data: dict[str, Any], key: str, path: str) -> datetime | None:
        raw = data.get(key)
        if raw is None:
            return None
        if isinstance(raw, str):
            try:
                raw = datetime.fromisoformat(raw)
            except ValueError:
                self.fail(f"{path}.{key}", f"{raw!r} is not an ISO 8601 date-time")
                return None
        if not isinstance(raw, datetime) or raw.tzinfo is None:
            self.fail(f"{path}.{key}", "a date-time with a UTC offset is required")
            return None
        return raw

    def tables(self, raw: object, section: str) -> list[tuple[str, dict[str, Any]]]:
        """The `[[section]]` tables of a file, each with its path for messages."""
        if not isinstance(raw, list):
            self.fail(section, f"a list of [[{section}]] tables is required")
            return []
        found: list[tuple[str, dict[str, Any]]] = []
        for index, item in enumerate(raw):
            if isinstance(item, dict):
                found.append((f"{section}[{index}]", item))
            else:
                self.fail(f"{section}[{index}]", "a table is required")
        return found

    def no_duplicates(self, section: str, what: str, values: list[Any]) -> None:
        for value in sorted({v for v in values if values.count(v) > 1}, key=str):
            self.fail(section, f"{what} {value!r} is used more than once")
