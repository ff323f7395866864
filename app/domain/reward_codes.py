"""Imported discount codes: each line of a file (or each string given) is one code, kept
as written but trimmed; blank lines are skipped; a code with a control character, inner
whitespace or over 100 characters is rejected with its line number, and so is a repeat."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

CODE_LENGTH = 100
MAX_IMPORT = 10_000  # codes per call (the CLI sends a file in calls of this size)


@dataclass(frozen=True, slots=True)
class RejectedCode:
    line: int  # from 1, as in the file
    code: str
    reason: str


@dataclass(frozen=True, slots=True)
class SortedCodes:
    accepted: tuple[str, ...]
    rejected: tuple[RejectedCode, ...]


def sort_codes(lines: Iterable[str]) -> SortedCodes:
    accepted: list[str] = []
    rejected: list[RejectedCode] = []
    seen: set[str] = set()
    for number, raw in enumerate(lines, start=1):
        code = raw.strip()
        if not code:
            continue
        shown = code[:120]
        if any(ord(c) < 32 or ord(c) == 127 for c in code):
            rejected.append(
                RejectedCode(number, shown.encode("unicode_escape").decode(), "a control character")
            )
        elif any(c.isspace() for c in code):
            rejected.append(RejectedCode(number, shown, "whitespace inside the code"))
        elif len(code) > CODE_LENGTH:
            rejected.append(RejectedCode(number, shown, f"longer than {CODE_LENGTH} characters"))
        elif code in seen:
            rejected.append(RejectedCode(number, shown, "a repeat of an earlier line"))
        else:
            seen.add(code)
            accepted.append(code)
    return SortedCodes(tuple(accepted), tuple(rejected))
