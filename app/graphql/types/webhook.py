"""Webhook endpoints, their deliveries and each attempt, as partners manage them."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

from app.domain.published import PublishedEvent
from app.domain.records import Page
from app.domain.webhooks import DeliveryStatus as DomainDeliveryStatus
from app.domain.webhooks import EndpointStatus as DomainEndpointStatus
from app.domain.webhooks import WebhookAttempt as AttemptRecord
from app.domain.webhooks import WebhookDelivery as DeliveryRecord
from app.domain.webhooks import WebhookEndpoint as EndpointRecord
from app.graphql.context import Context
from app.graphql.ids import decode_cursor, page_size, to_global_id
from app.graphql.types.common import AFTER_HELP, FIRST_HELP, Connection, publish_enum
from app.graphql.types.event import EventType, WebhookEvent

WebhookEndpointStatus = DomainEndpointStatus
publish_enum(
    WebhookEndpointStatus,
    "WebhookEndpointStatus",
    "Whether an endpoint is sent events.",
    {
        WebhookEndpointStatus.ENABLED: "Events are delivered to it.",
        WebhookEndpointStatus.DISABLED: "Nothing is sent (by staff, a 410 answer, or five "
        "days of failures: disabledReason says which); updateWebhookEndpoint(enabled: "
        "true) turns it back on.",
    },
)
WebhookDeliveryStatus = DomainDeliveryStatus
publish_enum(
    WebhookDeliveryStatus,
    "WebhookDeliveryStatus",
    "Where one event's delivery to one endpoint stands.",
    {
        WebhookDeliveryStatus.PENDING: "To be sent, or to be tried again at nextAttemptAt.",
        WebhookDeliveryStatus.SUCCEEDED: "The endpoint answered 2xx.",
        WebhookDeliveryStatus.FAILED: "No more attempts: the schedule ran out, the endpoint "
        "answered 410 or was disabled. replayWebhookDelivery sends it again.",
    },
)


@strawberry.type(description="One attempt to deliver an event, and what the endpoint said.")
class WebhookAttempt:
    at: datetime = strawberry.field(description="When it was made.")
    status_code: int | None = strawberry.field(
        description="The HTTP status answered; null without an answer (timeout, refused, "
        "blocked address)."
    )
    latency_ms: int = strawberry.field(description="Milliseconds until the answer or the end.")
    error: str | None = strawberry.field(description="Why there was no answer; null with one.")
    response_excerpt: str = strawberry.field(
        description="The start of the answer's body (at most 500 characters)."
    )

    @classmethod
    def of(cls, a: AttemptRecord) -> WebhookAttempt:
        return cls(
            at=a.at,
            status_code=a.status,
            latency_ms=a.latency_ms,
            error=a.error,
            response_excerpt=a.excerpt,
        )


@strawberry.type(description="One event's delivery to one endpoint, with every attempt.")
class WebhookDelivery:
    id: strawberry.ID = strawberry.field(description="For replayWebhookDelivery.")
    status: WebhookDeliveryStatus = strawberry.field(description="Where it stands.")
    attempt_count: int = strawberry.field(description="Attempts made so far.")
    next_attempt_at: datetime | None = strawberry.field(
        description="When it is tried next; null once it succeeded or failed for good."
    )
    last_status_code: int | None = strawberry.field(
        description="The last attempt's HTTP status; null before one, or without an answer."
    )
    created_at: datetime = strawberry.field(description="When the event was queued for it.")
    event: WebhookEvent | None = strawberry.field(description="The event, as delivered.")
    attempts: list[WebhookAttempt] = strawberry.field(description="Every attempt, oldest first.")

    @classmethod
    def of(
        cls, d: DeliveryRecord, event: PublishedEvent | None, attempts: list[AttemptRecord]
    ) -> WebhookDelivery:
        return cls(
            id=strawberry.ID(to_global_id("WebhookDelivery", d.id)),
            status=d.status,
            attempt_count=d.attempts,
            next_attempt_at=d.next_attempt_at if d.status is DeliveryStatus.PENDING else None,
            last_status_code=d.last_status,
            created_at=d.created_at,
            event=WebhookEvent.of(event) if event else None,
            attempts=[WebhookAttempt.of(a) for a in attempts],
        )


DeliveryStatus = DomainDeliveryStatus


@strawberry.type(
    description="An HTTPS endpoint Tally signs and sends events to (Standard Webhooks). Its "
    "secret is shown only by createWebhookEndpoint and rotateWebhookSecret."
)
class WebhookEndpoint:
    id: strawberry.ID = strawberry.field(description="The endpoint's id.")
    url: str = strawberry.field(description="Where events are POSTed.")
    description: str = strawberry.field(description="What it is for, as staff wrote it.")
    event_types: list[EventType] = strawberry.field(
        description="The event types it is sent; empty: every type."
    )
    status: WebhookEndpointStatus = strawberry.field(description="Whether it is sent events.")
    disabled_reason: str | None = strawberry.field(
        description="Why it was disabled; null while enabled."
    )
    failing_since: datetime | None = strawberry.field(
        description="Since when its deliveries fail (it is disabled after five days); null "
        "while they succeed."
    )
    previous_secret_until: datetime | None = strawberry.field(
        description="After a rotation: until when the previous secret still signs too."
    )
    created_at: datetime = strawberry.field(description="When it was created.")
    updated_at: datetime = strawberry.field(description="When it last changed.")
    pk: strawberry.Private[int]

    @classmethod
    def of(cls, e: EndpointRecord) -> WebhookEndpoint:
        return cls(
            id=strawberry.ID(to_global_id("WebhookEndpoint", e.id)),
            url=e.url,
            description=e.description,
            event_types=list(e.event_types),
            status=e.status,
            disabled_reason=e.disabled_reason,
            failing_since=e.failing_since,
            previous_secret_until=e.previous_until if e.previous_secret else None,
            created_at=e.created_at,
            updated_at=e.updated_at,
            pk=e.id,
        )

    @strawberry.field(description="Its deliveries, newest first, with every attempt.")
    async def deliveries(
        self,
        info: strawberry.Info[Context, None],
        first: Annotated[int | None, strawberry.argument(description=FIRST_HELP)] = 20,
        after: Annotated[str | None, strawberry.argument(description=AFTER_HELP)] = None,
        status: Annotated[
            WebhookDeliveryStatus | None,
            strawberry.argument(description="Only deliveries in this status."),
        ] = None,
    ) -> Connection[WebhookDelivery]:
        found = await info.context.services.queries.webhook_deliveries(
            self.pk, before=decode_cursor(after), limit=page_size(first), status=status
        )
        page = found.page
        shown = [
            (d, found.events.get(d.outbox_id), found.attempts.get(d.id, [])) for d in page.items
        ]
        return Connection.of(
            Page(shown, page.has_next),
            lambda row: WebhookDelivery.of(*row),
            key=lambda row: row[0].id,
        )
