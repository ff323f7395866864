"""What Tally asks of a reward provider, and the gift-card API as one such provider.

A durable job (after commit) calls `fulfil` with a `FulfilmentRequest`; the answer is DONE
(cards issued), PENDING (wait for `webhook` or poll `status`) or FAILED (the provider said
no: final). A provider that cannot be reached raises `ProviderUnavailable`: the job tries
again later with the same request, and the redemption's id keeps the retry from buying
twice.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Protocol

from app.fulfilment.giftcard_api import GiftCardApi
from app.fulfilment.giftcard_orders import (
    Delivery,
    GiftCardOrder,
    OrderStatus,
    Personalization,
    ProviderRefused,
    WebhookIgnored,
    parse_fulfillment_webhook,
)


class Outcome(StrEnum):
    """Where a fulfilment stands."""

    PENDING = "pending"
    DONE = "done"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class FulfilmentRequest:
    """One redemption to fulfil. The same request (same `redemption_id`) may be sent
    again after a failure; the provider must treat it as the same order."""

    redemption_id: int
    reward_key: str
    product_id: str
    face_value: Decimal
    currency: str
    quantity: int = 1
    email: str | None = None
    delivery: Delivery = "DigitalDelivery"
    recipient_name: str | None = None
    sender_name: str | None = None
    message: str | None = None


@dataclass(frozen=True, slots=True)
class FulfilmentResult:
    """What the provider answered: `ref` is its order id (None if it created nothing),
    `detail` is for people; claim links and recipients once the cards are issued."""

    outcome: Outcome
    ref: str | None
    detail: str
    claim_links: tuple[str, ...] = ()
    sent_to: tuple[str, ...] = ()
    redemption_id: int | None = None


class Provider(Protocol):
    """A reward provider Tally fulfils redemptions through."""

    @property
    def name(self) -> str:
        """The provider's key in Tally's registry of providers."""
        ...

    async def fulfil(self, request: FulfilmentRequest) -> FulfilmentResult:
        """Place (or find again) the order for `request`."""
        ...

    async def status(self, ref: str) -> FulfilmentResult:
        """Where the order `ref` stands now (for polling a pending one)."""
        ...

    async def webhook(self, headers: Mapping[str, str], body: bytes) -> FulfilmentResult | None:
        """Read a callback from the provider; None for an event that changes nothing.
        Raises WebhookRejected for one that is not authentic."""
        ...


class GiftCardProvider:
    """Gift cards through the gift-card order API. The PONumber is `{po_prefix}-{id}`:
    stable across retries, and unique per installation when installations share an
    account (give each its own prefix)."""

    name = "giftcard"

    def __init__(
        self, api: GiftCardApi, *, webhook_secret: str | None = None, po_prefix: str = "TALLY"
    ) -> None:
        self._api = api
        self._webhook_secret = webhook_secret or ""
        self._po_prefix = po_prefix

    def po_number(self, redemption_id: int) -> str:
        """The PONumber of a redemption's order."""
        return f"{self._po_prefix}-{redemption_id}"

    def redemption_id(self, po_number: str) -> int | None:
        """The redemption a PONumber of ours belongs to; None for anyone else's."""
        prefix, _, number = po_number.rpartition("-")
        return int(number) if prefix == self._po_prefix and number.isdigit() else None

    async def fulfil(self, request: FulfilmentRequest) -> FulfilmentResult:
        """Order the cards. A refusal is FAILED with the provider's message; an
        unreachable provider raises ProviderUnavailable."""
        known = {product.id: product for product in await self._api.products()}
        product = known.get(request.product_id)
        if product is not None and product.currency != request.currency:
            return FulfilmentResult(
                Outcome.FAILED,
                None,
                f"{product.id} is sold in {product.currency}, the reward is in {request.currency}",
                redemption_id=request.redemption_id,
            )
        wants_greeting = request.recipient_name or request.sender_name or request.message
        try:
            order = await self._api.place_order(
                po_number=self.po_number(request.redemption_id),
                product_id=request.product_id,
                value=request.face_value,
                quantity=request.quantity,
                delivery=request.delivery,
                email=request.email,
                personalization=Personalization(
                    to=request.recipient_name,
                    from_name=request.sender_name,
                    message=request.message,
                )
                if wants_greeting
                else None,
            )
        except ProviderRefused as refusal:
            return FulfilmentResult(
                Outcome.FAILED,
                None,
                f"the provider refused the order: {refusal.message}",
                redemption_id=request.redemption_id,
            )
        return self._result(order)

    async def status(self, ref: str) -> FulfilmentResult:
        """The order `ref` as the provider has it now; FAILED if it does not know it."""
        try:
            order = await self._api.order(ref)
        except ProviderRefused as refusal:
            return FulfilmentResult(
                Outcome.FAILED, ref, f"the provider has no such order: {refusal.message}"
            )
        return self._result(order)

    async def webhook(self, headers: Mapping[str, str], body: bytes) -> FulfilmentResult | None:
        """A `FulfillmentComplete` callback as a result; None for other event types."""
        try:
            order = parse_fulfillment_webhook(headers, body, self._webhook_secret)
        except WebhookIgnored:
            return None
        return self._result(order)

    def _result(self, order: GiftCardOrder) -> FulfilmentResult:
        redemption_id = self.redemption_id(order.po_number)
        if order.status is OrderStatus.COMPLETE:
            recipients = tuple(dict.fromkeys(c.sent_to for c in order.cards if c.sent_to))
            return FulfilmentResult(
                Outcome.DONE,
                order.id,
                f"order {order.id} complete: {len(order.cards)} card(s) issued",
                claim_links=tuple(card.claim_link for card in order.cards),
                sent_to=recipients,
                redemption_id=redemption_id,
            )
        if order.status is OrderStatus.PENDING:
            return FulfilmentResult(
                Outcome.PENDING,
                order.id,
                f"order {order.id} is pending at the provider",
                redemption_id=redemption_id,
            )
        return FulfilmentResult(
            Outcome.FAILED,
            order.id,
            f"order {order.id} failed at the provider",
            redemption_id=redemption_id,
        )
