"""What a write use case answers: data or one user error, replayable from storage."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from app.domain.errors import DomainError, ErrorCode


@dataclass(frozen=True, slots=True)
class UserError:
    code: ErrorCode
    message: str
    field: str | None = None


@dataclass(frozen=True, slots=True)
class Outcome:
    data: dict[str, Any] = field(default_factory=dict)
    errors: tuple[UserError, ...] = ()
    replayed: bool = False

    @property
    def ok(self) -> bool:
        return not self.errors

    @classmethod
    def failure(cls, error: DomainError) -> Outcome:
        return cls(errors=(UserError(error.code, error.message, error.field),))

    def stored(self) -> dict[str, Any]:
        return {
            "data": self.data,
            "errors": [
                {"code": e.code.value, "message": e.message, "field": e.field} for e in self.errors
            ],
        }

    @classmethod
    def from_stored(cls, stored: dict[str, Any]) -> Outcome:
        return cls(
            data=dict(stored.get("data") or {}),
            errors=tuple(
                UserError(ErrorCode(e["code"]), e["message"], e.get("field"))
                for e in stored.get("errors") or ()
            ),
            replayed=True,
        )
