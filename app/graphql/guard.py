"""The guard every operation passes before it runs: its size and cost within the limits,
introspection only where allowed, and the caller's bucket holding its cost. Afterwards
the response carries `extensions.cost`, in Shopify's shape."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field

from graphql import ExecutionResult as GraphQLExecutionResult
from graphql import GraphQLSyntaxError, Source
from strawberry.extensions import ParserCache, SchemaExtension, ValidationCache
from strawberry.types.execution import ExecutionResult

from app.auth.clients import ClientStatus
from app.auth.principal import Principal
from app.auth.scopes import Scope
from app.graphql.budget import Limits, Measure, actual_cost, measure, token_past
from app.graphql.errors import PublicError
from app.graphql.throttle import Buckets, Level, Rate


@dataclass(frozen=True, slots=True)
class RateCard:
    """Bucket sizes: a member's own token, a partner client, and per-client overrides."""

    member: Rate = Rate(1000, 100.0)
    client: Rate = Rate(10_000, 1000.0)
    clients: dict[str, Rate] = field(default_factory=dict)

    def for_principal(self, principal: Principal) -> Rate:
        if principal.is_member:
            return self.member
        return self.clients.get(principal.client_id or principal.subject, self.client)


@dataclass
class Guard:
    """What the guard needs from the app (built once by main.py)."""

    limits: Limits
    buckets: Buckets
    rates: RateCard
    introspection: bool = True  # False in production: only with the schema:read scope
    suggestions: bool = True  # "Did you mean ...?" in errors; off in production
    clients: ClientStatus | None = None  # each client's own rate (`tally client create --rate`)

    async def rate_for(self, principal: Principal) -> Rate:
        if not principal.is_member and self.clients is not None:
            record = await self.clients.current(principal.client_id or principal.subject)
            if record is not None and record.rate is not None:
                return Rate(*record.rate)
        return self.rates.for_principal(principal)


class RequestGuard(SchemaExtension):
    """See the module's docstring. Reads the app's `Guard` from the context."""

    def __init__(self) -> None:
        self.cost: QueryCost | None = None
        self.measured: Measure | None = None

    def _guard(self) -> Guard | None:
        services = getattr(self.execution_context.context, "services", None)
        return getattr(services, "guard", None)

    def on_operation(self) -> Iterator[None]:
        guard = self._guard()
        if guard is not None:  # enforced by the parser: a longer document is never parsed
            self.execution_context.parse_options["max_tokens"] = guard.limits.max_tokens
        yield

    def _refuse(self, error: PublicError) -> None:
        self.execution_context.result = ExecutionResult(data=None, errors=[error])

    def on_validate(self) -> Iterator[None]:
        """Measure before graphql-core validates: validation's cost grows with the
        document, so an operation past a limit is refused before it is validated."""
        guard = self._guard()
        document = self.execution_context.graphql_document
        if guard is not None and document is not None:
            self.measured = measure(
                self.execution_context.schema._schema,
                document,
                self.execution_context.operation_name,
                self.execution_context.variables,
                guard.limits,
            )
            problem = self.measured.problem(guard.limits)
            if problem is not None:
                what, message = problem
                # Strawberry skips its own validation when errors are already set.
                self.execution_context.pre_execution_errors = [
                    PublicError(message, "LIMIT_REACHED", what)
                ]
                self.cost = QueryCost(self.measured.cost, 0, None)
        yield

    async def on_execute(self) -> AsyncIterator[None]:
        context = self.execution_context.context
        guard = self._guard()
        measured = self.measured
        if guard is None or measured is None:
            yield
            return
        principal: Principal | None = getattr(context, "principal", None)
        if measured.introspection and not guard.introspection:
            if principal is None or not principal.has(Scope.SCHEMA_READ):
                self._refuse(PublicError("Introspection needs the schema:read scope.", "FORBIDDEN"))
                yield
                return
        if principal is None:
            yield
            return
        rate = await guard.rate_for(principal)
        level = await guard.buckets.take(principal.key, max(measured.cost, 1), rate)
        if not level.allowed:
            wait = level.retry_after(measured.cost)
            error = PublicError(
                f"Throttled: this operation costs {measured.cost} points and "
                f"{int(level.available)} are available; retry in {wait:g} s.",
                "THROTTLED",
            )
            error.extensions = {**(error.extensions or {}), "retryAfter": wait}
            self._refuse(error)
            self.cost = QueryCost(measured.cost, 0, level)
            yield
            return
        yield
        result = self.execution_context.result
        data = result.data if isinstance(result, GraphQLExecutionResult | ExecutionResult) else None
        # Every operation that ran costs at least 1 point, even one that found nothing.
        actual = max(min(actual_cost(data) - 1 if data else 0, measured.cost), 1)
        if actual < measured.cost:
            level = await guard.buckets.give_back(principal.key, measured.cost - actual, rate)
        self.cost = QueryCost(measured.cost, actual, level)

    def get_results(self) -> dict[str, object]:
        return {"cost": self.cost.as_extension()} if self.cost is not None else {}


class GuardedParserCache(ParserCache):
    """Strawberry's parser cache, with the token limit (set by `RequestGuard`) counted
    first by a regular expression: a document over it is refused with the parser's own
    error in a fraction of what lexing it up to the limit costs, and never cached."""

    def on_parse(self) -> Iterator[None]:
        query = self.execution_context.query
        limit = self.execution_context.parse_options.get("max_tokens")
        if query and isinstance(limit, int):
            at = token_past(query, limit)
            if at is not None:
                raise GraphQLSyntaxError(
                    Source(query),
                    at,
                    f"Document contains more than {limit} tokens. Parsing aborted.",
                )
        yield from super().on_parse()


class GuardedValidationCache(ValidationCache):
    """Strawberry's validation cache, skipped for an operation the guard has already
    refused (listed after `RequestGuard`, so the guard measures first)."""

    def on_validate(self) -> Iterator[None]:
        if self.execution_context.pre_execution_errors:
            yield
            return
        yield from super().on_validate()


@dataclass(frozen=True, slots=True)
class QueryCost:
    """What `extensions.cost` reports, in Shopify's shape."""

    requested: int
    actual: int
    level: Level | None  # the caller's bucket after this operation; None when unmetered

    def as_extension(self) -> dict[str, object]:
        status = None
        if self.level is not None:
            status = {
                "maximumAvailable": float(self.level.rate.capacity),
                "currentlyAvailable": round(self.level.available, 1),
                "restoreRate": self.level.rate.restore_rate,
            }
        return {
            "requestedQueryCost": self.requested,
            "actualQueryCost": self.actual,
            "throttleStatus": status,
        }


__all__ = [
    "Guard",
    "GuardedParserCache",
    "GuardedValidationCache",
    "Measure",
    "RateCard",
    "RequestGuard",
]
