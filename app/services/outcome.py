"""What a write use case answers: its typed result, or its user errors; replayable.

`Outcome[R]` carries either the use case's own frozen result (`PurchaseRecorded`, ...) or
the `UserError`s its `DomainError`s became. What the idempotency store keeps is written and
read by the result's `AnswerCodec`, so a replay answers exactly what the first call did.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from app.domain.errors import DomainError, ErrorCode
from app.services.codec import CODEC_VERSION, AnswerCodec

R = TypeVar("R")


@dataclass(frozen=True, slots=True)
class UserError:
    code: ErrorCode
    message: str
    field: str | None = None

    @classmethod
    def of(cls, error: DomainError) -> UserError:
        return cls(error.code, error.message, error.field)


@dataclass(frozen=True, slots=True)
class Outcome(Generic[R]):
    result: R | None = None
    errors: tuple[UserError, ...] = ()
    replayed: bool = False
    audited: bool = False  # the audit log has it (run_once records every write it runs)

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def value(self) -> R:
        """The result of a write that succeeded (a failed one has none)."""
        if self.result is None:
            raise ValueError(f"this write failed: {self.errors}")
        return self.result

    @classmethod
    def failure(cls, error: DomainError) -> Outcome[R]:
        return cls(errors=(UserError.of(error),))

    def stored(self, codec: AnswerCodec[R]) -> dict[str, Any]:
        return {
            "v": codec.version,
            "data": codec.encode(self.result) if self.result is not None else {},
            "errors": [
                {"code": e.code.value, "message": e.message, "field": e.field} for e in self.errors
            ],
        }

    @classmethod
    def from_stored(cls, stored: Mapping[str, Any], codec: AnswerCodec[R]) -> Outcome[R]:
        version = stored.get("v", 1)  # rows written before the codec carry no version
        if version != CODEC_VERSION:
            raise ValueError(f"stored answer of version {version}; this code reads 1")
        errors = tuple(
            UserError(ErrorCode(e["code"]), e["message"], e.get("field"))
            for e in stored.get("errors") or ()
        )
        data = stored.get("data") or {}
        result = codec.decode(data) if not errors else None
        return cls(result=result, errors=errors, replayed=True)
