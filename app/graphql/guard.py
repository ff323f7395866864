"""The guard every operation passes before it runs: its size and cost within the limits,
introspection only where allowed, and the caller's bucket holding its cost. Afterwards
the response carries `extensions.cost`, in Shopify's shape."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any

from graphql import ExecutionResult as GraphQLExecutionResult
from strawberry.extensions import SchemaExtension
from strawberry.types.execution import ExecutionResult

from app.auth.clients import ClientStatus
from app.auth.principal import Principal
from app.auth.scopes import Scope
from app.graphql.budget import Limits, Measure, actual_cost, measure
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
        self.cost: dict[str, Any] | None = None

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

    async def on_execute(self) -> AsyncIterator[None]:
        context = self.execution_context.context
        guard = self._guard()
        document = self.execution_context.graphql_document
        if guard is None or document is None:
            yield
            return
        principal: Principal | None = getattr(context, "principal", None)
        measured = measure(
            self.execution_context.schema._schema,
            document,
            self.execution_context.operation_name,
            self.execution_context.variables,
        )
        problem = measured.problem(guard.limits)
        if problem is not None:
            what, message = problem
            self._refuse(PublicError(message, "LIMIT_REACHED", what))
            self.cost = _cost(measured.cost, 0, None)
            yield
            return
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
            self.cost = _cost(measured.cost, 0, level)
            yield
            return
        yield
        result = self.execution_context.result
        data = result.data if isinstance(result, GraphQLExecutionResult | ExecutionResult) else None
        # Every operation that ran costs at least 1 point, even one that found nothing.
        actual = max(min(actual_cost(data) - 1 if data else 0, measured.cost), 1)
        if actual < measured.cost:
            level = await guard.buckets.give_back(principal.key, measured.cost - actual, rate)
        self.cost = _cost(measured.cost, actual, level)

    def get_results(self) -> dict[str, Any]:
        return {"cost": self.cost} if self.cost is not None else {}


def _cost(requested: int, actual: int, level: Level | None) -> dict[str, Any]:
    status: dict[str, Any] | None = None
    if level is not None:
        status = {
            "maximumAvailable": float(level.rate.capacity),
            "currentlyAvailable": round(level.available, 1),
            "restoreRate": level.rate.restore_rate,
        }
    return {"requestedQueryCost": requested, "actualQueryCost": actual, "throttleStatus": status}


__all__ = ["Guard", "Measure", "RateCard", "RequestGuard"]
