"""Orders coming in as store webhooks: verified, stored and answered at once, processed
after as durable jobs. Shopify's `orders/paid` is a recordPurchase by line and its
`refunds/create` a recordReturn by line; each is run with an idempotency key made of the
source and Shopify's own id, so an order is recorded once whatever arrives twice. A
failure is kept (`inboundEvents(status: FAILED)`) and can be retried."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from app.domain.errors import DomainError, ErrorCode
from app.domain.line_returns import ReturnLine
from app.domain.order_webhooks import ORDER_PAID, ORDER_REFUNDED, parse_paid, parse_refunded
from app.domain.shopify import (
    ORDERS_PAID,
    REFUNDS_CREATE,
    NotAnOrder,
    customer_of,
    parse_order,
    parse_refund,
    verify_hmac,
)
from app.events.webhook_client import sign, verify
from app.ledger.inbound import FAILED, IGNORED, PROCESSED, RECEIVED, InboundEvent, OrderSource
from app.ledger.uow import UnitOfWork, WriteTx
from app.services.clock import Clock
from app.services.codec import AnswerCodec
from app.services.common import MemberRef
from app.services.enroll import EnrollMember, enroll_member
from app.services.idempotent import run_once
from app.services.outcome import Outcome, UserError
from app.services.purchase import RecordPurchase, record_purchase
from app.services.returns import RecordReturn, record_return

log = logging.getLogger("tally.inbound")

MAX_BODY = 1024 * 1024
RETRIES = (timedelta(seconds=10), timedelta(minutes=1), timedelta(minutes=10), timedelta(hours=1))


@dataclass(frozen=True, slots=True)
class Receipt:
    """How a webhook was answered: the HTTP status and a short message."""

    status: int
    message: str
    stored: bool = False


async def _receive(
    uow: UnitOfWork,
    clock: Clock,
    source_name: str,
    body: bytes,
    *,
    kind: str,
    authentic: Callable[[OrderSource], bool],
    delivery_topic: Callable[[dict[str, Any]], tuple[str, str] | str],
) -> Receipt:
    """What every order webhook goes through: its source, its signature, its JSON, then
    stored once per delivery id (`delivery_topic` says which, or why the body is refused)."""
    if len(body) > MAX_BODY:
        return Receipt(413, "body too large")
    async with uow.read() as r:
        source = await r.order_source(source_name)
    if source is None or source.kind != kind:
        return Receipt(404, "no such order source")
    if not authentic(source):
        return Receipt(401, "the signature does not match this source's secret")
    try:
        parsed = json.loads(body)
    except (ValueError, RecursionError):
        return Receipt(400, "the body is not JSON")
    if not isinstance(parsed, dict):
        return Receipt(400, "the body is not a JSON object")
    found = delivery_topic(parsed)
    if isinstance(found, str):
        return Receipt(400, found)
    delivery, topic = found
    async with uow.write() as tx:
        fresh = await tx.inbound.store(
            source,
            delivery_id=delivery[:200],
            topic=topic[:60],
            body=parsed,
            now=clock.now(),
            customer=customer_of(parsed),
        )
    return Receipt(200, "stored" if fresh else "already received", stored=fresh)


async def receive_shopify(
    uow: UnitOfWork, clock: Clock, source_name: str, headers: dict[str, str], body: bytes
) -> Receipt:
    """Verify (X-Shopify-Hmac-Sha256), de-duplicate by X-Shopify-Webhook-Id and keep one
    Shopify webhook; processing happens after."""
    delivery = headers.get("x-shopify-webhook-id") or ""
    topic = headers.get("x-shopify-topic") or ""

    def named(_: dict[str, Any]) -> tuple[str, str] | str:
        if not delivery or not topic:
            return "X-Shopify-Webhook-Id and X-Shopify-Topic are required"
        return delivery, topic

    return await _receive(
        uow,
        clock,
        source_name,
        body,
        kind="shopify",
        authentic=lambda s: verify_hmac(s.secret, body, headers.get("x-shopify-hmac-sha256")),
        delivery_topic=named,
    )


async def receive_standard(
    uow: UnitOfWork, clock: Clock, source_name: str, headers: dict[str, str], body: bytes
) -> Receipt:
    """Verify (Standard Webhooks, the source's secret), de-duplicate by webhook-id and
    keep one order webhook in Tally's own format; processing happens after."""
    delivery = headers.get("webhook-id") or ""

    def authentic(source: OrderSource) -> bool:
        return verify(
            source.secret,
            msg_id=delivery,
            timestamp=headers.get("webhook-timestamp") or "",
            body=body,
            signature=headers.get("webhook-signature") or "",
            now=clock.now().timestamp(),
        )

    def typed(parsed: dict[str, Any]) -> tuple[str, str] | str:
        kind = parsed.get("type")
        return (delivery, kind) if isinstance(kind, str) else "the body is an object with a type"

    return await _receive(
        uow,
        clock,
        source_name,
        body,
        kind="standard",
        authentic=authentic,
        delivery_topic=typed,
    )


@dataclass(frozen=True, slots=True)
class Handled:
    status: str  # PROCESSED | IGNORED | FAILED | RECEIVED (to try again)
    error: str | None = None


class InboundProcessor:
    """Claims stored webhooks and records what they say, after they were answered."""

    def __init__(self, uow: UnitOfWork, clock: Clock, *, lease: float = 60.0) -> None:
        self.uow = uow
        self.clock = clock
        self.lease = timedelta(seconds=lease)

    async def run_due(self, limit: int = 50) -> int:
        async with self.uow.write() as tx:
            now = self.clock.now()
            claimed = await tx.inbound.claim(now, lease_until=now + self.lease, limit=limit)
        for event in claimed:
            try:
                handled = await self._handle(event)
            except Exception as error:  # a crash: tried again later, then failed
                log.exception("inbound event %s could not be processed", event.id)
                handled = Handled(RECEIVED, f"{type(error).__name__}: {error}")
            await self._settle(event, handled)
        return len(claimed)

    async def _settle(self, event: InboundEvent, handled: Handled) -> None:
        now = self.clock.now()
        status, upcoming = handled.status, None
        if status == RECEIVED:
            if event.attempts < len(RETRIES):
                upcoming = now + RETRIES[event.attempts]
            else:
                status = FAILED
        async with self.uow.write() as tx:
            await tx.inbound.settle(
                event.id, status=status, now=now, error=handled.error, next_attempt_at=upcoming
            )

    async def _handle(self, event: InboundEvent) -> Handled:
        async with self.uow.read() as r:
            source = await r.order_source(event.source)
        assert source is not None, "a source with events is never deleted"
        principal = f"source:{source.name}"
        try:
            if event.topic == ORDERS_PAID:
                return await self._order(source, event, principal)
            if event.topic == REFUNDS_CREATE:
                return await self._refund(source, event, principal)
            if event.topic == ORDER_PAID:
                return await self._paid(source, event, principal)
            if event.topic == ORDER_REFUNDED:
                return await self._refunded(source, event, principal)
        except NotAnOrder as bad:
            return Handled(FAILED, str(bad))
        return Handled(IGNORED, f"topic {event.topic!r} is not an order Tally records")

    async def _order(self, source: OrderSource, event: InboundEvent, principal: str) -> Handled:
        order = parse_order(event.body)
        if order.customer_id is None:
            return Handled(IGNORED, "a guest order: no customer to earn")
        member = MemberRef(external_id=order.customer_id)
        cmd = RecordPurchase(
            member=member,
            order_id=f"{source.name}:{order.order_ref}",  # one store's ids are not another's
            amount=str(order.amount),
            currency=order.currency,
            channel="ONLINE",
            occurred_at=order.occurred_at,
            lines=order.lines,
            shipping=str(order.shipping),
        )
        return await self._purchase(
            source, event, principal, cmd, customer=order.customer_id, email=order.email
        )

    async def _purchase(
        self,
        source: OrderSource,
        event: InboundEvent,
        principal: str,
        cmd: RecordPurchase,
        *,
        customer: str,
        email: str | None,
    ) -> Handled:
        """Record the order; a customer Tally does not know is enrolled first when the
        source says so. An order already recorded counts as processed."""
        key = f"{source.name}:{cmd.order_id}{_retry(event)}"
        outcome = await record_purchase(
            self.uow, self.clock, principal=principal, idempotency_key=key, cmd=cmd
        )
        code = outcome.errors[0].code if outcome.errors else None
        if code is ErrorCode.MEMBER_NOT_FOUND and source.enroll_unknown:
            enrolled = await enroll_member(
                self.uow,
                self.clock,
                principal=principal,
                idempotency_key=f"{source.name}:customer:{customer}{_retry(event)}",
                cmd=EnrollMember(external_id=customer, email=email),
            )
            if not enrolled.ok and enrolled.errors[0].code is not ErrorCode.MEMBER_EXISTS:
                return Handled(FAILED, _why(enrolled.errors[0]))
            outcome = await record_purchase(
                self.uow,
                self.clock,
                principal=principal,
                idempotency_key=key + ":enrolled",
                cmd=cmd,
            )
            code = outcome.errors[0].code if outcome.errors else None
        if outcome.ok or code is ErrorCode.ORDER_EXISTS:
            return Handled(PROCESSED)  # an order arriving twice is recorded once
        return Handled(FAILED, _why(outcome.errors[0]))

    async def _order_known(self, order_ref: str) -> bool:
        """Whether the order is recorded: a refund may arrive before it (Shopify promises
        no order), and must then wait rather than fail."""
        async with self.uow.read() as r:
            return await r.order_by_ref(order_ref) is not None

    async def _paid(self, source: OrderSource, event: InboundEvent, principal: str) -> Handled:
        paid = parse_paid(event.body)
        cmd = RecordPurchase(
            member=MemberRef(external_id=paid.external_id),
            order_id=f"{source.name}:{paid.order_ref}",
            amount=paid.amount,
            currency=paid.currency,
            channel=paid.channel,
            occurred_at=paid.occurred_at,
            lines=paid.lines,
            shipping=paid.shipping,
        )
        return await self._purchase(
            source, event, principal, cmd, customer=paid.external_id, email=paid.email
        )

    async def _refunded(self, source: OrderSource, event: InboundEvent, principal: str) -> Handled:
        refunded = parse_refunded(event.body)
        order = f"{source.name}:{refunded.order_ref}"
        if not await self._order_known(order):
            return Handled(RECEIVED, "its order has not arrived yet")  # tried again later
        outcome = await record_return(
            self.uow,
            self.clock,
            principal=principal,
            idempotency_key=f"{source.name}:refund:{refunded.refund_ref}{_retry(event)}",
            cmd=RecordReturn(
                order_id=order,
                amount=refunded.amount if not refunded.lines else None,
                lines=tuple(ReturnLine(sku, quantity) for sku, quantity in refunded.lines),
            ),
        )
        if outcome.ok:
            return Handled(PROCESSED)
        return Handled(FAILED, _why(outcome.errors[0]))

    async def _refund(self, source: OrderSource, event: InboundEvent, principal: str) -> Handled:
        refund = parse_refund(event.body)
        if not refund.lines:
            return Handled(IGNORED, "a refund of no line (shipping or an adjustment)")
        lines = tuple(ReturnLine(sku, quantity) for sku, quantity in refund.lines)
        order = f"{source.name}:{refund.order_ref}"
        if not await self._order_known(order):
            return Handled(RECEIVED, "its order has not arrived yet")  # tried again later
        outcome = await record_return(
            self.uow,
            self.clock,
            principal=principal,
            idempotency_key=f"{source.name}:refund:{refund.refund_ref}{_retry(event)}",
            cmd=RecordReturn(order_id=order, lines=lines),
        )
        if outcome.ok:
            return Handled(PROCESSED)
        return Handled(FAILED, _why(outcome.errors[0]))


def _standard_secret(secret: str) -> bool:
    try:
        sign([secret], "check", 0, b"")
    except ValueError:
        return False
    return secret.startswith("whsec_")


def _retry(event: InboundEvent) -> str:
    """The same delivery, or another of the same order, runs under one key; a retry staff
    asked for gets its own (the failure it follows is kept under the first)."""
    return f":retry-{event.retries}" if event.retries else ""


def _why(error: UserError) -> str:
    return f"{error.code.value}: {error.message}"


@dataclass(frozen=True, slots=True)
class RetryInbound:
    event_id: int


@dataclass(frozen=True, slots=True)
class InboundRetried:
    event_id: int


RETRIED_CODEC = AnswerCodec(InboundRetried)


async def retry_inbound_event(
    uow: UnitOfWork, clock: Clock, *, principal: str, idempotency_key: str, cmd: RetryInbound
) -> Outcome[InboundRetried]:
    """A FAILED inbound event processed again (after its cause was fixed: the customer
    enrolled, the program's currency set)."""

    async def action(tx: WriteTx) -> InboundRetried:
        if not await tx.inbound.retry(cmd.event_id, clock.now()):
            raise DomainError(
                ErrorCode.INVALID_STATE, "No FAILED inbound event has that id.", "eventId"
            )
        return InboundRetried(cmd.event_id)

    return await run_once(
        uow,
        clock,
        principal=principal,
        key=idempotency_key,
        operation="retryInboundEvent",
        request={"eventId": cmd.event_id},
        action=action,
        codec=RETRIED_CODEC,
    )


async def save_source(
    uow: UnitOfWork, clock: Clock, *, name: str, kind: str, secret: str, enroll_unknown: bool
) -> int:
    """Staff set up an order source (`tally source add`): its name is in its webhook URL."""
    if kind not in ("shopify", "standard"):
        raise DomainError(ErrorCode.INVALID_INPUT, "kind: shopify or standard", "kind")
    if not name or not name.replace("-", "").replace("_", "").isalnum() or len(name) > 60:
        raise DomainError(
            ErrorCode.INVALID_INPUT, "name: letters, digits, - and _, at most 60", "name"
        )
    if len(secret) < 16:
        raise DomainError(
            ErrorCode.INVALID_INPUT, "secret: the shop's secret (16+ chars)", "secret"
        )
    if kind == "standard" and not _standard_secret(secret):
        raise DomainError(
            ErrorCode.INVALID_INPUT,
            "secret: a Standard Webhooks secret, whsec_ and base64 (omit it to have one made)",
            "secret",
        )
    async with uow.write() as tx:
        return await tx.inbound.save_source(
            name=name, kind=kind, secret=secret, enroll_unknown=enroll_unknown, now=clock.now()
        )
