"""What the gift-card order API answers, as typed values: products, orders and their cards,
the provider's errors, and the `FulfillmentComplete` webhook.

Everything here reads JSON that was parsed with `parse_float=Decimal`; a shape it does not
recognise raises `MalformedAnswer`, which the caller turns into its own error.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Literal

Delivery = Literal["DigitalDelivery", "Links"]
"""How Tally has cards delivered: e-mailed by the provider, or claim links Tally hands out."""

SECRET_HEADER = "X-Webhook-Secret"


class ProviderError(Exception):
    """A call to the provider that did not succeed; `message` is the provider's own text."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(f"{message} (HTTP {status})" if status else message)
        self.message = message
        self.status = status


class ProviderRefused(ProviderError):
    """The provider said no (400, 404, 409 outside an order, 422): final, never retried."""


class ProviderUnavailable(ProviderError):
    """No answer, a timeout, a 5xx/504, a 429 or an answer we cannot read: retry later
    with the same PONumber."""


class ProviderAuthFailed(ProviderUnavailable):
    """Tally's credentials or token were refused (401 after a refresh, 403): an operator's
    problem, not the member's, so the redemption is not failed; not retried in-adapter."""


class WebhookRejected(Exception):
    """A webhook that is not authentic (wrong or missing secret) or not readable."""


class WebhookIgnored(Exception):
    """An authentic webhook of an event type Tally does not act on."""


class MalformedAnswer(ValueError):
    """JSON from the provider that does not have the documented shape."""


class OrderStatus(StrEnum):
    """Where an order stands at the provider."""

    COMPLETE = "Complete"
    PENDING = "Pending"
    FAILED = "Failed"


_STATUSES = {
    "complete": OrderStatus.COMPLETE,
    "completed": OrderStatus.COMPLETE,
    "pending": OrderStatus.PENDING,
    "processing": OrderStatus.PENDING,
    "failed": OrderStatus.FAILED,
    "cancelled": OrderStatus.FAILED,
    "canceled": OrderStatus.FAILED,
}


@dataclass(frozen=True, slots=True)
class GiftCardProduct:
    """A card the account may order. A `Variable` product's denominations are its lowest
    and highest value."""

    id: str
    name: str
    currency: str
    denomination_type: str
    denominations: tuple[Decimal, ...]
    delivery_types: tuple[str, ...]
    fee: Decimal
    discount_percentage: Decimal

    def accepts(self, value: Decimal) -> bool:
        """Whether the provider sells a card of this value."""
        if self.denomination_type == "Variable" and len(self.denominations) == 2:
            low, high = self.denominations
            return low <= value <= high
        return value in self.denominations


@dataclass(frozen=True, slots=True)
class Personalization:
    """The greeting printed on an e-mailed card."""

    to: str | None = None
    from_name: str | None = None
    message: str | None = None


@dataclass(frozen=True, slots=True)
class GiftCard:
    """One issued card: where its holder claims it, and to whom it was e-mailed."""

    id: str
    claim_link: str
    value: Decimal
    currency: str
    sent_to: str | None


@dataclass(frozen=True, slots=True)
class GiftCardOrder:
    """An order at the provider; `cards` is empty until it is complete."""

    id: str
    po_number: str
    status: OrderStatus
    cards: tuple[GiftCard, ...]
    total: Decimal | None = None


def _text(data: Mapping[str, object], key: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value:
        raise MalformedAnswer(f"{key} is missing or not a string")
    return value


def _money(value: object, what: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        raise MalformedAnswer(f"{what} is not a number")
    return Decimal(value)


def _object(value: object, what: str) -> Mapping[str, object]:
    if not isinstance(value, Mapping):
        raise MalformedAnswer(f"{what} is not an object")
    return value


def _array(value: object, what: str) -> list[object]:
    if not isinstance(value, list):
        raise MalformedAnswer(f"{what} is not an array")
    return value


def read_product(value: object) -> GiftCardProduct:
    """One entry of `GET /v1/Products`."""
    data = _object(value, "a product")
    cost = _object(data.get("Cost", {}), "Cost")
    return GiftCardProduct(
        id=_text(data, "Id"),
        name=str(data.get("Name") or data["Id"]),
        currency=_text(data, "CurrencyCode"),
        denomination_type=str(data.get("DenominationType") or "Fixed"),
        denominations=tuple(
            _money(v, "a denomination") for v in _array(data.get("Denominations"), "Denominations")
        ),
        delivery_types=tuple(
            str(v) for v in _array(data.get("AvailableDeliveryTypes"), "AvailableDeliveryTypes")
        ),
        fee=_money(cost.get("Fee", 0), "Cost.Fee"),
        discount_percentage=_money(cost.get("DiscountPercentage", 0), "Cost.DiscountPercentage"),
    )


def read_order(value: object) -> GiftCardOrder:
    """An order as `POST /v1/Orders`, `GET /v1/Orders/{id}` and the webhook show it."""
    data = _object(value, "the order")
    status = _STATUSES.get(_text(data, "Status").lower())
    if status is None:
        raise MalformedAnswer(f"unknown order status {data['Status']!r}")
    cards: list[GiftCard] = []
    for line in _array(data.get("LineItems", []), "LineItems"):
        for card in _array(_object(line, "a line item").get("Cards", []), "Cards"):
            shown = _object(card, "a card")
            sent_to = shown.get("SentTo")
            cards.append(
                GiftCard(
                    id=_text(shown, "Id"),
                    claim_link=_text(shown, "ClaimLink"),
                    value=_money(shown.get("Value"), "a card's Value"),
                    currency=_text(shown, "CurrencyCode"),
                    sent_to=sent_to if isinstance(sent_to, str) and sent_to else None,
                )
            )
    total = data.get("Total")
    return GiftCardOrder(
        id=_text(data, "Id"),
        po_number=_text(data, "PONumber"),
        status=status,
        cards=tuple(cards),
        total=None if total is None else _money(total, "Total"),
    )


def parse_fulfillment_webhook(
    headers: Mapping[str, str], body: bytes, secret: str
) -> GiftCardOrder:
    """The order a `FulfillmentComplete` webhook reports. WebhookRejected when the
    `X-Webhook-Secret` header is missing or wrong (compared in constant time) or the body
    is not a readable event; WebhookIgnored for an authentic event of another type."""
    if not secret:
        raise WebhookRejected("no webhook secret is configured: every webhook is refused")
    given = next((v for k, v in headers.items() if k.lower() == SECRET_HEADER.lower()), None)
    if given is None or not hmac.compare_digest(given.encode(), secret.encode()):
        raise WebhookRejected(f"missing or wrong {SECRET_HEADER}")
    try:
        event = _object(json.loads(body, parse_float=Decimal), "the webhook body")
    except ValueError as error:  # not JSON, or MalformedAnswer
        raise WebhookRejected(f"unreadable webhook body: {error}") from None
    kind = event.get("EventType")
    if kind != "FulfillmentComplete":
        raise WebhookIgnored(f"event {kind!r} is not handled")
    try:
        order = read_order(event.get("Order"))
    except MalformedAnswer as error:
        raise WebhookRejected(f"unreadable order in the webhook: {error}") from None
    if event.get("OrderId", order.id) != order.id:
        raise WebhookRejected("OrderId does not match the order it carries")
    return order
