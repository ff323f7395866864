"""One running sandbox: its state, the options to reset to, and its background work
(pending orders completing by themselves, webhooks delivered with retries)."""

from __future__ import annotations

import asyncio
import dataclasses
import logging

import httpx
from tenacity import (
    AsyncRetrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential,
    wait_random,
)

from app.fulfilment.sandbox.config import SandboxConfig
from app.fulfilment.sandbox.orders import Order, Refusal, encode_json, order_json
from app.fulfilment.sandbox.state import SandboxState, WebhookAttempt
from app.supervisor import TaskSupervisor

log = logging.getLogger("tally.sandbox")

WEBHOOK_ATTEMPTS = 5
WEBHOOK_TIMEOUT = 5.0


class _Undelivered(Exception):
    """The receiver did not take the webhook (no answer, or not a 2xx)."""


class Sandbox:
    """The sandbox behind the HTTP app: `state` is replaced on reset, the rest stays."""

    def __init__(self, launch: SandboxConfig, base_url: str) -> None:
        self.base_url = base_url
        self._launch = launch
        self.state = SandboxState(dataclasses.replace(launch))
        self.tasks = TaskSupervisor()
        self._client: httpx.AsyncClient | None = None

    async def start(self) -> None:
        """Open the webhook client (called from the app's lifespan)."""
        self._client = httpx.AsyncClient(timeout=WEBHOOK_TIMEOUT)

    async def stop(self) -> None:
        """Stop background work within a bound and close the webhook client."""
        await self.tasks.close(grace=0.5, cancel_wait=1.0)
        if self._client is not None:
            await self._client.aclose()

    async def reset(self) -> None:
        """Forget everything: drop background work, start over with the launch options."""
        await self.tasks.close(grace=0.0, cancel_wait=1.0)
        self.tasks.open()
        self.state = SandboxState(dataclasses.replace(self._launch))

    def placed(self, order: Order) -> None:
        """After an order is created: schedule its completion if it is pending."""
        delay = self.state.config.complete_after
        if order.status == "Pending" and delay is not None:
            self.tasks.work(
                self._complete_later(self.state, order.id, delay), name=f"complete-{order.id}"
            )

    def complete(self, order_id: str) -> Order:
        """Complete a pending order now and send its FulfillmentComplete webhook."""
        order = self.state.complete(order_id)
        self._notify(order)
        return order

    async def _complete_later(self, state: SandboxState, order_id: str, delay: float) -> None:
        await asyncio.sleep(delay)
        if state is self.state:
            try:
                self.complete(order_id)
            except Refusal:
                pass  # completed by hand meanwhile

    def _notify(self, order: Order) -> None:
        config = self.state.config
        if config.webhook_url is None:
            return
        payload = {
            "EventType": "FulfillmentComplete",
            "OrderId": order.id,
            "PONumber": order.po_number,
            "Status": order.status,
            "Order": order_json(order, self.base_url),
        }
        headers = {"Content-Type": "application/json"}
        if config.webhook_secret:
            headers["X-Webhook-Secret"] = config.webhook_secret
        delivery = self._deliver(
            self.state, config.webhook_url, headers, encode_json(payload), order.id
        )
        self.tasks.work(delivery, name=f"webhook-{order.id}")

    async def _deliver(
        self, state: SandboxState, url: str, headers: dict[str, str], body: bytes, order_id: str
    ) -> None:
        assert self._client is not None, "the sandbox is not started"
        retrying = AsyncRetrying(
            stop=stop_after_attempt(WEBHOOK_ATTEMPTS),
            wait=wait_exponential(multiplier=0.1, max=2.0) + wait_random(0, 0.1),
            retry=retry_if_exception_type(_Undelivered),
            reraise=True,
        )
        try:
            async for attempt in retrying:
                with attempt:
                    number = attempt.retry_state.attempt_number
                    try:
                        response = await self._client.post(url, content=body, headers=headers)
                    except httpx.HTTPError as error:
                        state.webhook_attempts.append(
                            WebhookAttempt(
                                order_id, number, None, f"{type(error).__name__}: {error}"
                            )
                        )
                        raise _Undelivered from error
                    state.webhook_attempts.append(
                        WebhookAttempt(order_id, number, response.status_code)
                    )
                    if not response.is_success:
                        raise _Undelivered
        except _Undelivered:
            log.warning(
                "webhook for order %s not delivered after %d attempts", order_id, WEBHOOK_ATTEMPTS
            )
