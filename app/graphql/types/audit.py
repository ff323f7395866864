"""The audit trail: one entry per write through the API, for staff (audit:read)."""

from __future__ import annotations

from datetime import datetime

import strawberry

from app.domain.records import AuditEntry as AuditRecord
from app.graphql.ids import to_global_id


@strawberry.type(description="One write (through the API or a tally command) and how it ended.")
class AuditEntry:
    at: datetime = strawberry.field(description="When the write was answered.")
    principal: str = strawberry.field(
        description="Who wrote: `member:<externalId>` for a member token, `client:<clientId>` "
        "for a partner client, `operator:<user>` for a tally command."
    )
    client_id: str | None = strawberry.field(
        description="The OAuth client the token was issued to (for a tally command, the "
        "client it acted on); null when it names none."
    )
    operation: str = strawberry.field(
        description="The mutation, such as recordPurchase, or the tally command, such as "
        "client revoke."
    )
    idempotency_key: str | None = strawberry.field(description="The key the write was sent with.")
    request_id: str | None = strawberry.field(
        description="The request's X-Request-Id, or the id Tally gave it."
    )
    source_address: str | None = strawberry.field(
        description="The address the request came from, as the server saw it."
    )
    outcome: str = strawberry.field(
        description="OK, the UserErrorCode it failed with, or REPLAYED followed by either "
        "(a retry answered from the first answer)."
    )
    member_id: strawberry.ID | None = strawberry.field(
        description="The member the write changed (Member.id); null when it failed or changed none."
    )

    @classmethod
    def of(cls, e: AuditRecord) -> AuditEntry:
        return cls(
            at=e.at,
            principal=e.principal,
            client_id=e.client_id,
            operation=e.operation,
            idempotency_key=e.idempotency_key,
            request_id=e.request_id,
            source_address=e.source_address,
            outcome=e.outcome,
            member_id=strawberry.ID(to_global_id("Member", e.member_id))
            if e.member_id is not None
            else None,
        )
