"""Webhook endpoints, managed by partners (webhooks:manage): create one (its secret shown
once), change it, rotate its secret (the old one still signs for 24 hours), disable and
delete it, and send deliveries again."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from app.domain.errors import DomainError, ErrorCode
from app.domain.text import check_text
from app.domain.webhooks import (
    MAX_DESCRIPTION,
    MAX_ENDPOINTS,
    ROTATION_OVERLAP,
    EndpointStatus,
    WebhookEndpoint,
    parse_event_types,
)
from app.ledger.uow import UnitOfWork, WriteTx
from app.services.clock import Clock
from app.services.codec import AnswerCodec
from app.services.idempotent import run_once
from app.services.outcome import Outcome

#: Checks a URL may be an endpoint: None, or why not (app.events.webhook_client.check_url
#: with the deployment's TALLY_WEBHOOKS_ALLOW_PRIVATE, given by main.py).
UrlCheck = Callable[[str], str | None]


@dataclass(frozen=True, slots=True)
class WebhookTools:
    """What endpoint management needs from the deployment: its URL rule and secrets."""

    check_url: UrlCheck
    new_secret: Callable[[], str]


@dataclass(frozen=True, slots=True)
class CreateEndpoint:
    url: str
    event_types: tuple[str, ...] = ()
    description: str = ""


@dataclass(frozen=True, slots=True)
class UpdateEndpoint:
    endpoint_id: int
    url: str | None = None
    event_types: tuple[str, ...] | None = None
    description: str | None = None
    enabled: bool | None = None


@dataclass(frozen=True, slots=True)
class EndpointRef:
    endpoint_id: int


@dataclass(frozen=True, slots=True)
class DeliveryRef:
    delivery_id: int


@dataclass(frozen=True, slots=True)
class ReplayEvents:
    endpoint_id: int
    since: datetime


@dataclass(frozen=True, slots=True)
class EndpointSaved:
    endpoint_id: int
    secret: str | None = None  # shown once: on creation and on rotation
    replayed: int = 0


SAVED_CODEC = AnswerCodec(EndpointSaved)


def _url(url: str, check: UrlCheck) -> str:
    text = check_text(url, "url", limit=2000).strip()
    reason = check(text)
    if reason is not None:
        raise DomainError(ErrorCode.INVALID_INPUT, f"url: {reason}", "url")
    return text


def _description(text: str) -> str:
    return check_text(text, "description", limit=MAX_DESCRIPTION, free_text=True) if text else ""


async def _endpoint(tx: WriteTx, endpoint_id: int) -> WebhookEndpoint:
    found = await tx.webhooks.get(endpoint_id)
    if found is None:
        raise DomainError(
            ErrorCode.WEBHOOK_ENDPOINT_NOT_FOUND, "No such webhook endpoint.", "endpointId"
        )
    return found


async def create_webhook_endpoint(
    uow: UnitOfWork,
    clock: Clock,
    *,
    principal: str,
    idempotency_key: str,
    cmd: CreateEndpoint,
    check_url: UrlCheck,
    new_secret: Callable[[], str],
) -> Outcome[EndpointSaved]:
    try:
        url = _url(cmd.url, check_url)
        types = parse_event_types(cmd.event_types)
        description = _description(cmd.description)
    except DomainError as error:
        return Outcome.failure(error)

    async def action(tx: WriteTx) -> EndpointSaved:
        if await tx.webhooks.count() >= MAX_ENDPOINTS:
            raise DomainError(
                ErrorCode.LIMIT_REACHED, f"at most {MAX_ENDPOINTS} webhook endpoints", "url"
            )
        secret = new_secret()
        endpoint_id = await tx.webhooks.create(
            url=url,
            description=description,
            event_types=types,
            secret=secret,
            created_by=principal,
            now=clock.now(),
        )
        return EndpointSaved(endpoint_id, secret)

    return await run_once(
        uow,
        clock,
        principal=principal,
        key=idempotency_key,
        operation="createWebhookEndpoint",
        request={
            "url": cmd.url,
            "eventTypes": list(cmd.event_types),
            "description": cmd.description,
        },
        action=action,
        codec=SAVED_CODEC,
    )


async def update_webhook_endpoint(
    uow: UnitOfWork,
    clock: Clock,
    *,
    principal: str,
    idempotency_key: str,
    cmd: UpdateEndpoint,
    check_url: UrlCheck,
) -> Outcome[EndpointSaved]:
    try:
        url = None if cmd.url is None else _url(cmd.url, check_url)
        types = None if cmd.event_types is None else parse_event_types(cmd.event_types)
        description = None if cmd.description is None else _description(cmd.description)
    except DomainError as error:
        return Outcome.failure(error)

    async def action(tx: WriteTx) -> EndpointSaved:
        found = await _endpoint(tx, cmd.endpoint_id)
        values: dict[str, object] = {}
        if url is not None:
            values["url"] = url
        if types is not None:
            values["event_types"] = types
        if description is not None:
            values["description"] = description
        if cmd.enabled is True and found.status is EndpointStatus.DISABLED:
            # It hears what comes from now on; what it missed is replayWebhookEvents' to send.
            values.update(status=EndpointStatus.ENABLED.value, disabled_reason=None)
            values.update(failing_since=None, last_failed_at=None)
            values["cursor"] = await tx.webhooks.latest_sequence()
        elif cmd.enabled is False and found.status is EndpointStatus.ENABLED:
            values.update(status=EndpointStatus.DISABLED.value, disabled_reason="disabled by staff")
        await tx.webhooks.change(found.id, clock.now(), **values)
        if cmd.enabled is False:
            await tx.webhooks.fail_pending(found.id, clock.now())
        return EndpointSaved(found.id)

    return await run_once(
        uow,
        clock,
        principal=principal,
        key=idempotency_key,
        operation="updateWebhookEndpoint",
        request={
            "endpointId": cmd.endpoint_id,
            "url": cmd.url,
            "eventTypes": None if cmd.event_types is None else list(cmd.event_types),
            "description": cmd.description,
            "enabled": cmd.enabled,
        },
        action=action,
        codec=SAVED_CODEC,
    )


async def rotate_webhook_secret(
    uow: UnitOfWork,
    clock: Clock,
    *,
    principal: str,
    idempotency_key: str,
    cmd: EndpointRef,
    new_secret: Callable[[], str],
) -> Outcome[EndpointSaved]:
    async def action(tx: WriteTx) -> EndpointSaved:
        found = await _endpoint(tx, cmd.endpoint_id)
        now = clock.now()
        secret = new_secret()
        await tx.webhooks.change(
            found.id,
            now,
            secret=secret,
            previous_secret=found.secret,
            previous_until=now + ROTATION_OVERLAP,
        )
        return EndpointSaved(found.id, secret)

    return await run_once(
        uow,
        clock,
        principal=principal,
        key=idempotency_key,
        operation="rotateWebhookSecret",
        request={"endpointId": cmd.endpoint_id},
        action=action,
        codec=SAVED_CODEC,
    )


async def delete_webhook_endpoint(
    uow: UnitOfWork, clock: Clock, *, principal: str, idempotency_key: str, cmd: EndpointRef
) -> Outcome[EndpointSaved]:
    async def action(tx: WriteTx) -> EndpointSaved:
        found = await _endpoint(tx, cmd.endpoint_id)
        await tx.webhooks.delete(found.id)
        return EndpointSaved(found.id)

    return await run_once(
        uow,
        clock,
        principal=principal,
        key=idempotency_key,
        operation="deleteWebhookEndpoint",
        request={"endpointId": cmd.endpoint_id},
        action=action,
        codec=SAVED_CODEC,
    )


async def replay_webhook_delivery(
    uow: UnitOfWork, clock: Clock, *, principal: str, idempotency_key: str, cmd: DeliveryRef
) -> Outcome[EndpointSaved]:
    """Send one delivery again, its schedule from the start; its endpoint must be
    enabled."""

    async def action(tx: WriteTx) -> EndpointSaved:
        found = await tx.webhooks.delivery(cmd.delivery_id)
        if found is None:
            raise DomainError(
                ErrorCode.WEBHOOK_ENDPOINT_NOT_FOUND, "No such webhook delivery.", "deliveryId"
            )
        owner = await _endpoint(tx, found.endpoint_id)
        _enabled(owner)
        await tx.webhooks.replay_delivery(found.id, clock.now())
        return EndpointSaved(owner.id, replayed=1)

    return await run_once(
        uow,
        clock,
        principal=principal,
        key=idempotency_key,
        operation="replayWebhookDelivery",
        request={"deliveryId": cmd.delivery_id},
        action=action,
        codec=SAVED_CODEC,
    )


def _enabled(found: WebhookEndpoint) -> None:
    if found.status is not EndpointStatus.ENABLED:
        raise DomainError(
            ErrorCode.INVALID_STATE,
            "This endpoint is disabled: enable it first (updateWebhookEndpoint enabled: true).",
            "endpointId",
        )


async def replay_webhook_events(
    uow: UnitOfWork, clock: Clock, *, principal: str, idempotency_key: str, cmd: ReplayEvents
) -> Outcome[EndpointSaved]:
    async def action(tx: WriteTx) -> EndpointSaved:
        found = await _endpoint(tx, cmd.endpoint_id)
        _enabled(found)
        if cmd.since.tzinfo is None:
            raise DomainError(ErrorCode.INVALID_INPUT, "since needs a UTC offset", "since")
        count = await tx.webhooks.replay_since(found, cmd.since, clock.now())
        return EndpointSaved(found.id, replayed=count)

    return await run_once(
        uow,
        clock,
        principal=principal,
        key=idempotency_key,
        operation="replayWebhookEvents",
        request={"endpointId": cmd.endpoint_id, "since": cmd.since.isoformat()},
        action=action,
        codec=SAVED_CODEC,
    )
