"""Shared GraphQL types: Node, PageInfo, user errors, scalars."""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

import strawberry

from app.domain.errors import DomainError, ErrorCode
from app.domain.records import Page
from app.graphql.ids import encode_cursor
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


N = TypeVar("N")
T = TypeVar("T")


@strawberry.type
class Edge(Generic[N]):
    cursor: str
    node: N


@strawberry.type
class Connection(Generic[N]):
    """A Relay connection; `Connection[Reward]` is published as `RewardConnection`."""

    edges: list[Edge[N]]
    page_info: PageInfo

    @classmethod
    def of(cls, page: Page[T], node: Callable[[T], N], key: Callable[[T], int]) -> Connection[N]:
        """One page of rows as a connection: each edge's cursor continues after its row."""
        edges = [Edge(cursor=encode_cursor(key(row)), node=node(row)) for row in page.items]
        return cls(
            edges=edges,
            page_info=PageInfo(
                has_next_page=page.has_next, end_cursor=edges[-1].cursor if edges else None
            ),
        )
