"""Expected failures of the loyalty domain, named by a stable code."""

from __future__ import annotations

from enum import StrEnum


class ErrorCode(StrEnum):
    """Codes a client can branch on; published as the `UserErrorCode` enum."""

    INSUFFICIENT_POINTS = "INSUFFICIENT_POINTS"
    OUT_OF_STOCK = "OUT_OF_STOCK"
    TIER_REQUIRED = "TIER_REQUIRED"
    LIMIT_REACHED = "LIMIT_REACHED"
    REWARD_UNAVAILABLE = "REWARD_UNAVAILABLE"
    REWARD_NOT_FOUND = "REWARD_NOT_FOUND"
    MEMBER_NOT_FOUND = "MEMBER_NOT_FOUND"
    MEMBER_EXISTS = "MEMBER_EXISTS"
    MEMBER_SUSPENDED = "MEMBER_SUSPENDED"
    ORDER_NOT_FOUND = "ORDER_NOT_FOUND"
    ORDER_EXISTS = "ORDER_EXISTS"
    REDEMPTION_NOT_FOUND = "REDEMPTION_NOT_FOUND"
    CART_NOT_FOUND = "CART_NOT_FOUND"
    WEBHOOK_ENDPOINT_NOT_FOUND = "WEBHOOK_ENDPOINT_NOT_FOUND"
    INVALID_STATE = "INVALID_STATE"
    INVALID_TRANSITION = "INVALID_TRANSITION"
    IDEMPOTENCY_CONFLICT = "IDEMPOTENCY_CONFLICT"
    INVALID_INPUT = "INVALID_INPUT"
    FORBIDDEN = "FORBIDDEN"


class DomainError(Exception):
    """An expected business failure: reported to clients as a user error, never a crash."""

    def __init__(self, code: ErrorCode, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field

    def __repr__(self) -> str:
        return f"DomainError({self.code.value}, {self.message!r}, field={self.field!r})"


class ProgramInvalid(Exception):
    """A program definition failed validation; `problems` lists each as 'path: message'."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("invalid program definition:\n  " + "\n  ".join(problems))
        self.problems = problems
