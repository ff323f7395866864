"""Webhook endpoints (webhooks:manage): create, update, rotate the secret, disable, delete,
and send deliveries again."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

from app.auth.scopes import Scope
from app.graphql.context import Context
from app.graphql.ids import from_global_id
from app.graphql.mutations.write import IDEMPOTENCY_HELP, USER_ERRORS_HELP, WritePayload, Writer
from app.graphql.permissions import needs
from app.graphql.types.common import UserError
from app.graphql.types.event import EventType
from app.graphql.types.webhook import WebhookEndpoint
from app.ledger.uow import UnitOfWork
from app.services.clock import Clock
from app.services.outcome import Outcome
from app.services.webhooks import (
    CreateEndpoint,
    DeliveryRef,
    EndpointRef,
    EndpointSaved,
    ReplayEvents,
    UpdateEndpoint,
    create_webhook_endpoint,
    delete_webhook_endpoint,
    replay_webhook_delivery,
    replay_webhook_events,
    rotate_webhook_secret,
    update_webhook_endpoint,
)

MANAGE = needs(Scope.WEBHOOKS_MANAGE)
ENDPOINT_ID_HELP = "The endpoint's id (WebhookEndpoint.id)."
SECRET_HELP = (
    "The signing secret (whsec_...), shown this once: verify each delivery's "
    "webhook-signature with it (any Standard Webhooks library). Null when the write failed."
)


def _endpoint_pk(value: strawberry.ID) -> int:
    return from_global_id(str(value), expect="WebhookEndpoint", field="endpointId")[1]


@strawberry.input(description="A new webhook endpoint.")
class CreateWebhookEndpointInput:
    url: str = strawberry.field(
        description="Where to POST events: https:// to a public address (loopback and "
        "private addresses only where TALLY_WEBHOOKS_ALLOW_PRIVATE=on)."
    )
    event_types: list[EventType] | None = strawberry.field(
        default=None, description="The event types to send; null or empty: every type."
    )
    description: str = strawberry.field(default="", description="What it is for.")


@strawberry.input(description="What changes in an endpoint; an omitted field stays.")
class UpdateWebhookEndpointInput:
    url: str | None = strawberry.field(default=None, description="A new URL.")
    event_types: list[EventType] | None = strawberry.field(
        default=None, description="New event types; an empty list: every type."
    )
    description: str | None = strawberry.field(default=None, description="A new description.")
    enabled: bool | None = strawberry.field(
        default=None,
        description="true: enable a disabled endpoint (its failure count starts afresh); "
        "false: disable it (its waiting deliveries stop).",
    )


@strawberry.type(description="What a webhook endpoint write did.")
class WebhookEndpointPayload(WritePayload):
    endpoint: WebhookEndpoint | None = strawberry.field(
        description="The endpoint as saved; null when the write failed or it was deleted."
    )
    secret: str | None = strawberry.field(description=SECRET_HELP)
    replayed: int | None = strawberry.field(
        description="For a replay: how many deliveries were queued again."
    )
    user_errors: list[UserError] = strawberry.field(description=USER_ERRORS_HELP)

    @staticmethod
    async def shown(w: Writer, done: EndpointSaved) -> WebhookEndpointPayload:
        found = await w.services.queries.webhook_endpoint(done.endpoint_id)
        return WebhookEndpointPayload(
            endpoint=WebhookEndpoint.of(found) if found else None,
            secret=done.secret,
            replayed=done.replayed,
            user_errors=[],
        )


@strawberry.mutation(
    description="Add an endpoint (webhooks:manage): events committed from now on are POSTed "
    "to it, signed the Standard Webhooks way. The answer holds its secret, shown once.",
    extensions=MANAGE,
)
async def create_webhook_endpoint_mutation(
    info: strawberry.Info[Context, None],
    input: Annotated[CreateWebhookEndpointInput, strawberry.argument(description="It.")],
    idempotency_key: Annotated[str, strawberry.argument(description=IDEMPOTENCY_HELP)],
) -> WebhookEndpointPayload:
    w = Writer(info)
    hooks = w.services.webhooks
    assert hooks is not None

    async def use_case(
        uow: UnitOfWork, clock: Clock, *, principal: str, idempotency_key: str, cmd: CreateEndpoint
    ) -> Outcome[EndpointSaved]:
        return await create_webhook_endpoint(
            uow,
            clock,
            principal=principal,
            idempotency_key=idempotency_key,
            cmd=cmd,
            check_url=hooks.check_url,
            new_secret=hooks.new_secret,
        )

    async def command(w: Writer) -> CreateEndpoint:
        return CreateEndpoint(
            url=input.url,
            event_types=tuple(t.value for t in input.event_types or ()),
            description=input.description,
        )

    return await w.run(
        use_case,
        command,
        idempotency_key=idempotency_key,
        shown=WebhookEndpointPayload.shown,
        failed=WebhookEndpointPayload.failed,
    )


@strawberry.mutation(
    description="Change an endpoint (webhooks:manage): its URL, event types, description, "
    "or whether it is enabled.",
    extensions=MANAGE,
)
async def update_webhook_endpoint_mutation(
    info: strawberry.Info[Context, None],
    endpoint_id: Annotated[strawberry.ID, strawberry.argument(description=ENDPOINT_ID_HELP)],
    input: Annotated[UpdateWebhookEndpointInput, strawberry.argument(description="Changes.")],
    idempotency_key: Annotated[str, strawberry.argument(description=IDEMPOTENCY_HELP)],
) -> WebhookEndpointPayload:
    pk = _endpoint_pk(endpoint_id)
    return await _update(
        info,
        UpdateEndpoint(
            endpoint_id=pk,
            url=input.url,
            event_types=None
            if input.event_types is None
            else tuple(t.value for t in input.event_types),
            description=input.description,
            enabled=input.enabled,
        ),
        idempotency_key,
    )


@strawberry.mutation(
    description="Stop sending to an endpoint (webhooks:manage); its waiting deliveries "
    "stop. updateWebhookEndpoint(enabled: true) turns it back on.",
    extensions=MANAGE,
)
async def disable_webhook_endpoint_mutation(
    info: strawberry.Info[Context, None],
    endpoint_id: Annotated[strawberry.ID, strawberry.argument(description=ENDPOINT_ID_HELP)],
    idempotency_key: Annotated[str, strawberry.argument(description=IDEMPOTENCY_HELP)],
) -> WebhookEndpointPayload:
    cmd = UpdateEndpoint(endpoint_id=_endpoint_pk(endpoint_id), enabled=False)
    return await _update(info, cmd, idempotency_key)


async def _update(
    info: strawberry.Info[Context, None], cmd: UpdateEndpoint, idempotency_key: str
) -> WebhookEndpointPayload:
    w = Writer(info)
    hooks = w.services.webhooks
    assert hooks is not None

    async def use_case(
        uow: UnitOfWork, clock: Clock, *, principal: str, idempotency_key: str, cmd: UpdateEndpoint
    ) -> Outcome[EndpointSaved]:
        return await update_webhook_endpoint(
            uow,
            clock,
            principal=principal,
            idempotency_key=idempotency_key,
            cmd=cmd,
            check_url=hooks.check_url,
        )

    async def command(w: Writer) -> UpdateEndpoint:
        return cmd

    return await w.run(
        use_case,
        command,
        idempotency_key=idempotency_key,
        shown=WebhookEndpointPayload.shown,
        failed=WebhookEndpointPayload.failed,
    )


@strawberry.mutation(
    description="A new signing secret for an endpoint (webhooks:manage), shown once; for "
    "24 hours the old one signs too (webhook-signature carries both), so receivers can "
    "switch without losing a delivery.",
    extensions=MANAGE,
)
async def rotate_webhook_secret_mutation(
    info: strawberry.Info[Context, None],
    endpoint_id: Annotated[strawberry.ID, strawberry.argument(description=ENDPOINT_ID_HELP)],
    idempotency_key: Annotated[str, strawberry.argument(description=IDEMPOTENCY_HELP)],
) -> WebhookEndpointPayload:
    w = Writer(info)
    hooks = w.services.webhooks
    assert hooks is not None
    pk = _endpoint_pk(endpoint_id)

    async def use_case(
        uow: UnitOfWork, clock: Clock, *, principal: str, idempotency_key: str, cmd: EndpointRef
    ) -> Outcome[EndpointSaved]:
        return await rotate_webhook_secret(
            uow,
            clock,
            principal=principal,
            idempotency_key=idempotency_key,
            cmd=cmd,
            new_secret=hooks.new_secret,
        )

    async def command(w: Writer) -> EndpointRef:
        return EndpointRef(pk)

    return await w.run(
        use_case,
        command,
        idempotency_key=idempotency_key,
        shown=WebhookEndpointPayload.shown,
        failed=WebhookEndpointPayload.failed,
    )


@strawberry.mutation(
    description="Delete an endpoint and its delivery log (webhooks:manage).",
    extensions=MANAGE,
)
async def delete_webhook_endpoint_mutation(
    info: strawberry.Info[Context, None],
    endpoint_id: Annotated[strawberry.ID, strawberry.argument(description=ENDPOINT_ID_HELP)],
    idempotency_key: Annotated[str, strawberry.argument(description=IDEMPOTENCY_HELP)],
) -> WebhookEndpointPayload:
    pk = _endpoint_pk(endpoint_id)

    async def command(w: Writer) -> EndpointRef:
        return EndpointRef(pk)

    return await Writer(info).run(
        delete_webhook_endpoint,
        command,
        idempotency_key=idempotency_key,
        shown=WebhookEndpointPayload.shown,
        failed=WebhookEndpointPayload.failed,
    )


@strawberry.mutation(
    description="Send one delivery again (webhooks:manage), with the same webhook-id, its "
    "retry schedule from the start.",
    extensions=MANAGE,
)
async def replay_webhook_delivery_mutation(
    info: strawberry.Info[Context, None],
    delivery_id: Annotated[
        strawberry.ID, strawberry.argument(description="The delivery (WebhookDelivery.id).")
    ],
    idempotency_key: Annotated[str, strawberry.argument(description=IDEMPOTENCY_HELP)],
) -> WebhookEndpointPayload:
    pk = from_global_id(str(delivery_id), expect="WebhookDelivery", field="deliveryId")[1]

    async def command(w: Writer) -> DeliveryRef:
        return DeliveryRef(pk)

    return await Writer(info).run(
        replay_webhook_delivery,
        command,
        idempotency_key=idempotency_key,
        shown=WebhookEndpointPayload.shown,
        failed=WebhookEndpointPayload.failed,
    )


@strawberry.mutation(
    description="Send an endpoint every event it hears recorded since a moment "
    "(webhooks:manage), again if it had them: for a receiver that lost its data.",
    extensions=MANAGE,
)
async def replay_webhook_events_mutation(
    info: strawberry.Info[Context, None],
    endpoint_id: Annotated[strawberry.ID, strawberry.argument(description=ENDPOINT_ID_HELP)],
    since: Annotated[
        datetime, strawberry.argument(description="From this moment, with a UTC offset.")
    ],
    idempotency_key: Annotated[str, strawberry.argument(description=IDEMPOTENCY_HELP)],
) -> WebhookEndpointPayload:
    pk = _endpoint_pk(endpoint_id)

    async def command(w: Writer) -> ReplayEvents:
        return ReplayEvents(pk, since)

    return await Writer(info).run(
        replay_webhook_events,
        command,
        idempotency_key=idempotency_key,
        shown=WebhookEndpointPayload.shown,
        failed=WebhookEndpointPayload.failed,
    )
