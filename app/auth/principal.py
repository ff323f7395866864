"""Who is calling: a member (their own token) or a partner client (client_credentials)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

PrincipalKind = Literal["member", "client"]


@dataclass(frozen=True, slots=True)
class Principal:
    subject: str
    kind: PrincipalKind
    scopes: frozenset[str]
    client_id: str | None
    token_id: str | None
    expires_at: int | None = None  # the token's `exp`, seconds since the epoch

    def has(self, scope: str) -> bool:
        return str(scope) in self.scopes

    @property
    def is_member(self) -> bool:
        return self.kind == "member"

    @property
    def key(self) -> str:
        """A stable namespace for idempotency keys: one per member, one per partner client."""
        if self.kind == "member":
            return f"member:{self.subject}"
        return f"client:{self.client_id if self.client_id is not None else self.subject}"
