"""Inbound order webhooks as staff see them (orders:manage): every one stored, what came
of it, and a retry for a failed one."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, cast

import strawberry
from strawberry.scalars import JSON

from app.auth.scopes import Scope
from app.graphql.context import Context
from app.graphql.ids import decode_cursor, from_global_id, page_size, to_global_id
from app.graphql.mutations.write import IDEMPOTENCY_HELP, USER_ERRORS_HELP, WritePayload, Writer
from app.graphql.permissions import needs
from app.graphql.types.common import AFTER_HELP, FIRST_HELP, Connection, UserError
from app.ledger.inbound import InboundEvent as InboundRecord
from app.services.inbound import InboundRetried, RetryInbound, retry_inbound_event

MANAGE = needs(Scope.ORDERS_MANAGE)


@strawberry.type(description="A webhook an order source sent, kept before it was answered.")
class InboundEvent:
    id: strawberry.ID = strawberry.field(description="For retryInboundEvent.")
    source: str = strawberry.field(description="The order source's name (its webhook URL).")
    delivery_id: str = strawberry.field(description="The sender's id of this delivery.")
    topic: str = strawberry.field(description="The sender's topic, e.g. orders/paid.")
    status: str = strawberry.field(description="RECEIVED, PROCESSED, IGNORED or FAILED.")
    attempts: int = strawberry.field(description="Processing attempts so far.")
    error: str | None = strawberry.field(description="Why it failed or was ignored.")
    received_at: datetime = strawberry.field(description="When it arrived.")
    processed_at: datetime | None = strawberry.field(description="When it was settled.")
    body: JSON = strawberry.field(description="The body as the sender sent it.")

    @classmethod
    def of(cls, e: InboundRecord) -> InboundEvent:
        return cls(
            id=strawberry.ID(to_global_id("InboundEvent", e.id)),
            source=e.source,
            delivery_id=e.delivery_id,
            topic=e.topic,
            status=e.status,
            attempts=e.attempts,
            error=e.error,
            received_at=e.received_at,
            processed_at=e.processed_at,
            body=cast(JSON, e.body),
        )


@strawberry.type(description="What retryInboundEvent did.")
class RetryInboundEventPayload(WritePayload):
    event_id: strawberry.ID | None = strawberry.field(
        description="The event, RECEIVED again; null when the write failed."
    )
    user_errors: list[UserError] = strawberry.field(description=USER_ERRORS_HELP)


async def inbound_events_field(
    info: strawberry.Info[Context, None],
    status: Annotated[
        str | None, strawberry.argument(description="Only RECEIVED, PROCESSED, IGNORED or FAILED.")
    ] = None,
    first: Annotated[int | None, strawberry.argument(description=FIRST_HELP)] = 20,
    after: Annotated[str | None, strawberry.argument(description=AFTER_HELP)] = None,
) -> Connection[InboundEvent]:
    page = await info.context.services.queries.inbound_events(
        status=status, before=decode_cursor(after), limit=page_size(first)
    )
    return Connection.of(page, InboundEvent.of, key=lambda e: e.id)


@strawberry.mutation(
    description="Process a FAILED inbound webhook again (orders:manage), once its cause is fixed.",
    extensions=MANAGE,
)
async def retry_inbound_event_mutation(
    info: strawberry.Info[Context, None],
    event_id: Annotated[strawberry.ID, strawberry.argument(description="InboundEvent.id.")],
    idempotency_key: Annotated[str, strawberry.argument(description=IDEMPOTENCY_HELP)],
) -> RetryInboundEventPayload:
    pk = from_global_id(str(event_id), expect="InboundEvent", field="eventId")[1]

    async def command(w: Writer) -> RetryInbound:
        return RetryInbound(pk)

    async def shown(w: Writer, done: InboundRetried) -> RetryInboundEventPayload:
        return RetryInboundEventPayload(
            event_id=strawberry.ID(to_global_id("InboundEvent", done.event_id)), user_errors=[]
        )

    return await Writer(info).run(
        retry_inbound_event,
        command,
        idempotency_key=idempotency_key,
        shown=shown,
        failed=RetryInboundEventPayload.failed,
    )
