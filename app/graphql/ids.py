"""Relay global ids ("Type:123", base64) and opaque cursors."""

from __future__ import annotations

import base64
import binascii

from app.domain.ids import global_id
from app.graphql.errors import BadInput

MAX_PAGE = 100
MAX_PK = 2**31 - 1  # ids are 32-bit on PostgreSQL; anything larger names nothing


def to_global_id(type_name: str, pk: int) -> str:
    return global_id(type_name, pk)


def from_global_id(value: str, *, expect: str | None = None, field: str = "id") -> tuple[str, int]:
    try:
        padded = value + "=" * (-len(value) % 4)
        type_name, _, raw = base64.urlsafe_b64decode(padded.encode()).decode().partition(":")
        pk = int(raw)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise BadInput(f"{value!r} is not a Tally id", field) from None
    if expect is not None and type_name != expect:
        raise BadInput(f"{value!r} is not a {expect} id", field)
    if not 1 <= pk <= MAX_PK:
        raise BadInput(f"{value!r} is not a Tally id", field)
    return type_name, pk


def encode_cursor(position: int) -> str:
    return base64.urlsafe_b64encode(f"c:{position}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> int | None:
    if cursor is None:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        prefix, _, raw = base64.urlsafe_b64decode(padded.encode()).decode().partition(":")
        position = int(raw)
        if prefix != "c" or not 0 <= position <= MAX_PK:
            raise ValueError(prefix)
        return position
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise BadInput("after is not a cursor from this connection", "after") from None


def page_size(first: int | None, default: int = 20) -> int:
    size = default if first is None else first
    if not 1 <= size <= MAX_PAGE:
        raise BadInput(f"first must be 1 to {MAX_PAGE}", "first")
    return size
