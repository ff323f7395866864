"""Scopes on fields, and the rule that a member token only ever reaches its own member."""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry.extensions import FieldExtension
from strawberry.permission import BasePermission, PermissionExtension

from app.auth.principal import Principal
from app.auth.scopes import Scope
from app.graphql.context import Context
from app.graphql.errors import Forbidden


class HasAnyScope(BasePermission):
    """Allowed when the token carries at least one of the scopes."""

    error_extensions = {"code": "FORBIDDEN"}

    def __init__(self, *scopes: Scope) -> None:
        self.scopes = scopes
        self.message = "This token lacks the scope: " + " or ".join(s.value for s in scopes)

    async def has_permission(self, source: Any, info: strawberry.Info, **kwargs: Any) -> bool:
        principal = info.context.principal
        return principal is not None and any(principal.has(scope) for scope in self.scopes)


def needs(*scopes: Scope) -> list[FieldExtension]:
    return [PermissionExtension([HasAnyScope(*scopes)], use_directives=False)]


def principal_of(info: strawberry.Info[Context, None]) -> Principal:
    principal = info.context.principal
    if principal is None:
        raise Forbidden("A bearer token is required.")
    return principal


async def own_member_id(info: strawberry.Info[Context, None]) -> int | None:
    """The member behind a member token (None when it names no enrolled member)."""
    principal = principal_of(info)
    if not principal.is_member:
        return None
    cache = info.context.member_cache
    if principal.subject not in cache:
        loaders = info.context.loaders
        member = await loaders.member_by_external_id.load(principal.subject)
        cache[principal.subject] = member.id if member else None
        if member is not None:
            loaders.member.prime(member.id, member)  # `viewer` then costs no second lookup
    return cache[principal.subject]


async def may_read_member(info: strawberry.Info[Context, None], member_id: int) -> bool:
    """Partners with members:read read any member; a member token, only its own."""
    principal = principal_of(info)
    if principal.is_member:
        return principal.has(Scope.LOYALTY_READ) and await own_member_id(info) == member_id
    return principal.has(Scope.MEMBERS_READ)
