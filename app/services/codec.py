"""How a write's answer is kept by the idempotency store, and read back for a replay.

Each use case's result is a frozen dataclass; `AnswerCodec(Result)` turns it into the JSON
the store keeps and back. The stored shape is the one Tally has always written: camelCase
keys, the balance as `{available, pending, held, lifetimeEarned, version}`, and fields that
have a default left out while they hold it (an answer without an upgrade has no
`upgradedTo`). Rows written before there was a codec carry no version and read as
version 1; a change of shape gets a new version and a reader for the old one.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any, Generic, TypeVar, get_args, get_origin

from app.domain.records import Balance

R = TypeVar("R")

#: The version this code writes. 1: the shape of every answer stored so far.
CODEC_VERSION = 1


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


class AnswerCodec(Generic[R]):
    """Encodes and decodes one result dataclass (int, str, bool, Decimal and datetime as
    text, Balance, X | None and tuple[str, ...] fields). The balance is read back with the answer's `memberId`."""

    def __init__(self, result: type[R], *, version: int = CODEC_VERSION) -> None:
        if not dataclasses.is_dataclass(result):
            raise TypeError(f"{result.__name__} is not a dataclass")
        self.result = result
        self.version = version
        hints = typing.get_type_hints(result)
        self._fields = [(f, camel(f.name), hints[f.name]) for f in dataclasses.fields(result)]

    def encode(self, value: R) -> dict[str, Any]:
        data: dict[str, Any] = {}
        for f, key, _ in self._fields:
            item = getattr(value, f.name)
            if f.default is not dataclasses.MISSING and item == f.default:
                continue
            if isinstance(item, Balance):
                item = item.as_data()
            elif isinstance(item, tuple):
                item = list(item)
            elif isinstance(item, Decimal):
                item = str(item)
            elif isinstance(item, datetime):
                item = item.isoformat()
            data[key] = item
        return data

    def decode(self, data: Mapping[str, Any]) -> R:
        values: dict[str, object] = {}
        for f, key, hint in self._fields:
            if key not in data:
                if f.default is dataclasses.MISSING:
                    raise ValueError(f"stored {self.result.__name__} lacks {key!r}")
                continue
            values[f.name] = _read(hint, data[key], data)
        return self.result(**values)


def _read(hint: Any, raw: Any, answer: Mapping[str, Any]) -> Any:
    origin = get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        if raw is None:
            return None
        (inner,) = [arg for arg in get_args(hint) if arg is not type(None)]
        return _read(inner, raw, answer)
    if hint is Balance:
        return Balance.from_data(int(answer["memberId"]), raw)
    if origin is tuple:
        return tuple(raw)
    if hint in (int, str, bool):
        return hint(raw)
    if hint is Decimal:
        return Decimal(str(raw))
    if hint is datetime:
        return datetime.fromisoformat(str(raw))
    raise TypeError(f"no codec for {hint!r}")
