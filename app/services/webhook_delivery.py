"""Delivering events to webhook endpoints, after commit, from durable rows.

Each round: every enabled endpoint's new events become delivery rows (its own position in
the sequenced events), then due deliveries are claimed under a lease, no more than
MAX_IN_FLIGHT per endpoint, and each is sent in its own task, bounded by the sender's
timeout. A slow or hanging endpoint holds only its own few leases: the rounds, the other
endpoints, points and subscriptions never wait for it. An answer is recorded with its
attempt; a failure is tried again on the Standard Webhooks schedule; 410 disables the
endpoint, and so do five days of failures. A worker killed mid-send leaves a lease that
runs out, and the delivery is sent again: at least once, never lost."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
from datetime import timedelta
from urllib.parse import urlsplit

from app.domain.webhooks import (
    MAX_ENDPOINTS,
    MAX_IN_FLIGHT,
    DeliveryStatus,
    EndpointStatus,
    failing_spell_start,
    next_attempt_at,
    should_disable,
)
from app.events.webhook_client import AttemptResult, WebhookSender
from app.ledger.uow import UnitOfWork
from app.ledger.webhooks import Claimed
from app.services.clock import Clock

log = logging.getLogger("tally.webhooks")


class WebhookDispatcher:
    def __init__(
        self,
        uow: UnitOfWork,
        clock: Clock,
        sender: WebhookSender,
        *,
        lease: float = 60.0,
        per_endpoint: int = MAX_IN_FLIGHT,
        concurrency: int = 64,
        retry_scale: float = 1.0,
    ) -> None:
        self.retry_scale = retry_scale
        self.uow = uow
        self.clock = clock
        self.sender = sender
        self.lease = timedelta(seconds=lease)
        self.per_endpoint = per_endpoint
        self.concurrency = concurrency
        self.token = secrets.token_hex(8)  # this dispatcher's leases
        self._tasks: set[asyncio.Task[None]] = set()

    async def fan_out(self) -> int:
        made = 0
        async with self.uow.write() as tx:
            now = self.clock.now()
            for endpoint in await tx.webhooks.enabled():
                made += await tx.webhooks.fan_out(endpoint, now)
        return made

    async def run_round(self) -> int:
        """Fan out, then start sending what is due; the number started. Without an enabled
        endpoint it only reads: no write transaction (on SQLite, no write lock) for nothing."""
        async with self.uow.read() as r:
            listed = await r.webhook_endpoints_page(after=0, limit=MAX_ENDPOINTS)
        if not any(e.status is EndpointStatus.ENABLED for e in listed.items):
            return 0
        await self.fan_out()
        room = self.concurrency - len(self._tasks)
        if room <= 0:
            return 0
        claimed: list[Claimed] = []
        async with self.uow.write() as tx:
            now = self.clock.now()
            for endpoint in await tx.webhooks.enabled():
                # claim() counts every running lease of the endpoint, ours included
                most = min(self.per_endpoint, room - len(claimed))
                if most <= 0:
                    break
                claimed += await tx.webhooks.claim(
                    endpoint, now, lease_until=now + self.lease, most=most, token=self.token
                )
        for item in claimed:
            task = asyncio.create_task(self._deliver(item), name=f"webhook-{item.delivery.id}")
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return len(claimed)

    async def drain(self) -> None:
        """Wait for the sends under way (tests, and a graceful stop)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def aclose(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        with contextlib.suppress(Exception):
            await asyncio.gather(*list(self._tasks), return_exceptions=True)
        await self.sender.aclose()

    async def _deliver(self, item: Claimed) -> None:
        try:
            now = self.clock.now()
            body = json.dumps(item.event.as_message(), separators=(",", ":")).encode()
            result = await self.sender.send(
                item.endpoint.url,
                msg_id=item.event.id,
                timestamp=int(now.timestamp()),
                body=body,
                secrets=item.endpoint.signing_secrets(now),
            )
            await self._settle(item, result)
        except asyncio.CancelledError:
            raise
        except Exception:  # the lease runs out and the delivery is sent again
            log.exception("webhook delivery %s could not be recorded", item.delivery.id)

    async def _settle(self, item: Claimed, result: AttemptResult) -> None:
        async with self.uow.write() as tx:
            now = self.clock.now()
            current = await tx.webhooks.delivery(item.delivery.id)
            endpoint = await tx.webhooks.get(item.endpoint.id)
            if current is None or endpoint is None:
                return  # the endpoint was deleted while we sent
            disable: str | None = None
            upcoming = None
            if result.ok:
                outcome = DeliveryStatus.SUCCEEDED
                if endpoint.failing_since is not None:
                    await tx.webhooks.change(endpoint.id, now, failing_since=None)
            elif result.status == 410:
                outcome = DeliveryStatus.FAILED
                disable = "the endpoint answered 410 Gone"
            else:
                upcoming = next_attempt_at(
                    current.attempts + 1,
                    now,
                    retry_after=result.retry_after,
                    scale=self.retry_scale,
                )
                outcome = DeliveryStatus.PENDING if upcoming else DeliveryStatus.FAILED
                since = failing_spell_start(endpoint.failing_since, endpoint.last_failed_at, now)
                await tx.webhooks.change(endpoint.id, now, failing_since=since, last_failed_at=now)
                if should_disable(since, now):
                    disable = "failing for 5 days"
            await tx.webhooks.record_attempt(
                current.id,
                at=now,
                status=result.status,
                latency_ms=result.latency_ms,
                error=result.error,
                excerpt=result.excerpt,
                outcome=outcome,
                next_attempt_at=upcoming,
                token=self.token,
            )
            if disable and endpoint.status is EndpointStatus.ENABLED:
                await tx.webhooks.change(
                    endpoint.id,
                    now,
                    status=EndpointStatus.DISABLED.value,
                    disabled_reason=disable,
                )
                await tx.webhooks.fail_pending(endpoint.id, now)
                log.warning(  # the host only: a URL may carry a token in its query
                    "webhook.endpoint_disabled endpoint=%s host=%s reason=%s",
                    endpoint.id,
                    urlsplit(endpoint.url).hostname,
                    disable,
                )


async def deliver_forever(dispatcher: WebhookDispatcher, interval: float) -> None:
    """Rounds until cancelled: right away while deliveries start, else every `interval`."""
    try:
        while True:
            try:
                started = await dispatcher.run_round()
            except Exception:
                log.exception("webhook round failed; will retry")
                started = 0
            if not started:
                await asyncio.sleep(interval)
            else:
                await asyncio.sleep(0)
    finally:
        await dispatcher.aclose()
