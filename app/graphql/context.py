"""Per-request context: who is asking, the services, and this request's dataloaders."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from graphql import GraphQLError

from app.auth.principal import Principal
from app.events.feed import ChangeFeed
from app.graphql.guard import Guard
from app.graphql.loaders import Loaders
from app.ledger.uow import UnitOfWork
from app.services.clock import Clock
from app.services.queries import Queries
from app.services.webhooks import WebhookTools
from app.supervisor import TaskSupervisor


@dataclass
class Services:
    """What the API may call, built once by main.py."""

    uow: UnitOfWork
    clock: Clock
    queries: Queries
    feed: ChangeFeed
    tasks: TaskSupervisor = field(default_factory=TaskSupervisor)
    guard: Guard | None = None  # request limits and rate limits (None: unguarded)
    webhooks: WebhookTools | None = None  # the URL rule and secrets of endpoints
    batch_timeout: float = 120.0  # seconds a batch of writes may take (TALLY_BATCH_TIMEOUT)


@dataclass
class Context:
    services: Services
    principal: Principal | None
    loaders: Loaders
    connection_params: dict[str, Any] | None = field(default=None)
    member_cache: dict[str, int | None] = field(default_factory=dict)
    # Errors that accompany data (a value shown at its limit): added to the answer's errors.
    notices: list[GraphQLError] = field(default_factory=list)
