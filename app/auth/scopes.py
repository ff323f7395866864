"""OAuth scopes of the Tally API (the scope table is in the README, "Tokens and scopes")."""

from __future__ import annotations

from enum import StrEnum


class Scope(StrEnum):
    LOYALTY_READ = "loyalty:read"
    LOYALTY_REDEEM = "loyalty:redeem"
    REWARDS_READ = "rewards:read"
    MEMBERS_READ = "members:read"
    MEMBERS_WRITE = "members:write"
    POINTS_WRITE = "points:write"
    REDEMPTIONS_WRITE = "redemptions:write"
    POINTS_ADJUST = "points:adjust"
    PROGRAM_WRITE = "program:write"
    SCHEMA_READ = "schema:read"  # introspection in production (partner developers)
    MEMBERS_ERASE = "members:erase"  # staff: erase a member's personal data
    AUDIT_READ = "audit:read"  # staff: the audit trail of writes
    CATALOG_WRITE = "catalog:write"  # staff: create, change, retire rewards; import codes
    EVENTS_READ = "events:read"  # a CDP or warehouse: the published event feed
    WEBHOOKS_MANAGE = "webhooks:manage"  # partners: webhook endpoints and their deliveries
    ORDERS_MANAGE = "orders:manage"  # staff: store order webhooks in, and their failures


#: What a member's own token may carry.
MEMBER_SCOPES: frozenset[Scope] = frozenset(
    {Scope.LOYALTY_READ, Scope.LOYALTY_REDEEM, Scope.REWARDS_READ}
)
ALL_SCOPES: frozenset[Scope] = frozenset(Scope)
_NAMES: frozenset[str] = frozenset(scope.value for scope in Scope)


def parse_scopes(text: str) -> frozenset[Scope]:
    """Parse an OAuth `scope` value (space separated); ValueError names the unknown scopes."""
    names = text.split()
    unknown = sorted({name for name in names if name not in _NAMES})
    if unknown:
        raise ValueError(f"unknown scope(s): {' '.join(unknown)}")
    return frozenset(Scope(name) for name in names)


def format_scopes(scopes: frozenset[str] | set[str]) -> str:
    """The `scope` value for a set of scopes: sorted, space separated."""
    return " ".join(sorted(str(scope) for scope in scopes))
