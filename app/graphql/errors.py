"""Errors a client may see. Anything else is masked as "Unexpected error."."""

from __future__ import annotations

from graphql import GraphQLError
from strawberry.exceptions import StrawberryGraphQLError


class PublicError(GraphQLError):
    """A GraphQL error whose message and code are safe to show."""

    def __init__(self, message: str, code: str, field: str | None = None) -> None:
        extensions: dict[str, object] = {"code": code}
        if field is not None:
            extensions["field"] = field
        super().__init__(message, extensions=extensions)


class BadInput(PublicError):
    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message, "INVALID_INPUT", field)


class Forbidden(PublicError):
    def __init__(self, message: str = "This token does not allow that.") -> None:
        super().__init__(message, "FORBIDDEN")


def should_mask(error: GraphQLError) -> bool:
    """Mask crashes; keep parse and validation errors, permission and input errors."""
    original = error.original_error
    if original is None:
        return False
    return not isinstance(original, PublicError | StrawberryGraphQLError)
