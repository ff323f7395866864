"""Errors a client may see, and the one place that decides what they say.

Every error leaves with `extensions.code`:
- GRAPHQL_PARSE_FAILED: the document is not GraphQL;
- BAD_USER_INPUT: a variable or literal that cannot be coerced to its type (a bad enum
  value, an Int out of range, a string that is not a DateTime), or a PublicError of that
  kind raised by a resolver;
- GRAPHQL_VALIDATION_FAILED: any other validation error (an unknown field, a missing
  argument);
- the code of a PublicError (FORBIDDEN, INVALID_INPUT, LIMIT_REACHED, ...);
- INTERNAL_SERVER_ERROR: anything else. Its message is masked as "Unexpected error.".
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import strawberry
from graphql import ExecutionResult as GraphQLExecutionResult
from graphql import GraphQLError
from strawberry.exceptions import StrawberryGraphQLError
from strawberry.extensions import SchemaExtension
from strawberry.types.execution import ExecutionResult

MASKED = "Unexpected error."


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


# graphql-core's own wording for values that do not fit their type (ValuesOfCorrectTypeRule
# for literals, coerce_input_value for variables).
_BAD_VALUE = re.compile(
    r"^(Variable '\$[^']+' (got|has) invalid value"
    r"|Variable '\$[^']+' of (required|non-null) type"
    r"|Expected value of type"
    r"|Value '.*' does not exist in '.*' enum"
    r"|(Int|Float|String|Boolean|ID|Decimal|DateTime|Date|Time) cannot represent"
    r"|Value cannot represent"
    r"|Field '[^']+' of required type '[^']+' was not provided"
    r"|Field '[^']+' is not defined by type"
    r"|Enum '[^']+' cannot represent"
    r")"
)
_SUGGESTION = re.compile(r" Did you mean .*\?$", re.DOTALL)


def should_mask(error: GraphQLError) -> bool:
    """Mask crashes; keep parse and validation errors, permission and input errors."""
    original = error.original_error
    if original is None:
        return False
    return not isinstance(original, PublicError | StrawberryGraphQLError)


def classify(error: GraphQLError) -> str:
    """The code an error leaves with (see the module's docstring)."""
    own = (error.extensions or {}).get("code")
    if isinstance(own, str):
        return own
    original = error.original_error
    if isinstance(original, GraphQLError) and original is not error:
        inner = (original.extensions or {}).get("code")
        if isinstance(inner, str):
            return inner
    if error.message.startswith("Syntax Error"):
        return "GRAPHQL_PARSE_FAILED"
    if _BAD_VALUE.match(error.message):
        return "BAD_USER_INPUT"
    if should_mask(error):
        return "INTERNAL_SERVER_ERROR"
    if error.path is None:
        return "GRAPHQL_VALIDATION_FAILED"
    return "BAD_USER_INPUT"  # a coercion error raised while executing (a scalar's parse)


def public(error: GraphQLError, *, suggestions: bool = True) -> GraphQLError:
    """The error as a client sees it: coded, masked if it is a crash, and without field
    suggestions when those are off (production)."""
    code = classify(error)
    if code == "INTERNAL_SERVER_ERROR":
        return GraphQLError(
            MASKED,
            nodes=error.nodes,
            source=error.source,
            positions=error.positions,
            path=error.path,
            extensions={"code": code},
        )
    message = error.message if suggestions else _SUGGESTION.sub("", error.message)
    extensions = {**(error.extensions or {}), "code": code}
    if message == error.message and extensions == error.extensions:
        return error
    return GraphQLError(
        message,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        original_error=error.original_error,
        extensions=extensions,
    )


INT_MIN, INT_MAX = -(2**31), 2**31 - 1
MAX_NOTICES = 100


def within_int(info: strawberry.Info[Any, Any], value: int, remedy: str = "") -> int:
    """`value`, or the nearest GraphQL Int with an error in the answer naming the field and
    the limit (code LIMIT_REACHED): the field's siblings and parents still answer."""
    if INT_MIN <= value <= INT_MAX:
        return value
    shown = INT_MAX if value > INT_MAX else INT_MIN
    notices = getattr(info.context, "notices", None)
    if isinstance(notices, list) and len(notices) < MAX_NOTICES:
        notices.append(
            GraphQLError(
                f"{info.field_name} is {value:,}, past what a GraphQL Int holds "
                f"({INT_MIN:,} to {INT_MAX:,}); shown as {shown:,}.{remedy}",
                path=info.path.as_list(),
                extensions={"code": "LIMIT_REACHED", "field": info.field_name},
            )
        )
    return shown


class PublicErrors(SchemaExtension):
    """Applies `public` to every error of every result; field suggestions stay unless the
    app's guard turns them off (production)."""

    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        notices = getattr(self.execution_context.context, "notices", None)
        if isinstance(notices, list) and notices and result is not None:
            result.errors = [*(result.errors or []), *notices]
            notices.clear()
        if isinstance(result, GraphQLExecutionResult | ExecutionResult) and result.errors:
            services = getattr(self.execution_context.context, "services", None)
            guard = getattr(services, "guard", None)
            suggestions = bool(getattr(guard, "suggestions", True))
            result.errors = [public(e, suggestions=suggestions) for e in result.errors]
