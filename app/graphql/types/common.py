"""Shared GraphQL types: Node, PageInfo, user errors, scalars."""

from __future__ import annotations

import strawberry

from app.domain.errors import DomainError, ErrorCode
from app.services.outcome import UserError as DomainUserError

UserErrorCode = strawberry.enum(
    ErrorCode, name="UserErrorCode", description="Why a mutation did not happen."
)


@strawberry.interface(description="An object with a global id (Relay).")
class Node:
    id: strawberry.ID


@strawberry.type
class PageInfo:
    has_next_page: bool
    end_cursor: str | None


@strawberry.type(description="An expected failure: what went wrong, where, as a stable code.")
class UserError:
    field: str | None
    code: UserErrorCode  # type: ignore[valid-type]
    message: str

    @classmethod
    def of(cls, error: DomainUserError) -> UserError:
        return cls(field=error.field, code=error.code, message=error.message)

    @classmethod
    def of_domain(cls, error: DomainError) -> UserError:
        return cls(field=error.field, code=error.code, message=error.message)
