"""Orders as the sandbox keeps them, the checks an order request must pass, and the JSON
shape of an order (`POST /v1/Orders`, `GET /v1/Orders/{id}`, the webhook)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from app.fulfilment.sandbox.catalogue import (
    ACCOUNT_CURRENCY,
    DELIVERY_TYPES,
    DIGITAL,
    PRODUCTS,
    Product,
)

MAX_QUANTITY = 100
MAX_PO_NUMBER = 100


class Refusal(Exception):
    """An answer other than success: its HTTP status, message and extra body fields."""

    def __init__(self, status: int, message: str, **extra: object) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.extra = extra


@dataclass(slots=True)
class Card:
    """One gift card: a claim link per card, its secret code shown on the claim page."""

    id: str
    code: str
    value: Decimal
    currency: str
    sent_to: str | None


@dataclass(slots=True)
class LineItem:
    """A product, value and quantity, with its cards once the order is complete."""

    product: Product
    value: Decimal
    quantity: int
    email: str | None
    personalization: dict[str, str] | None
    cards: list[Card] = field(default_factory=list)


@dataclass(slots=True)
class Order:
    """One order of the account, found by its Id or its PONumber."""

    id: str
    po_number: str
    type: str
    status: str  # Pending | Complete
    created_at: datetime
    total: Decimal
    lines: list[LineItem]
    completed_at: datetime | None = None

    @property
    def face_value(self) -> Decimal:
        """The sum of the cards' values, whatever their currency."""
        return sum((line.value * line.quantity for line in self.lines), Decimal("0"))


@dataclass(frozen=True, slots=True)
class OrderRequest:
    """A `POST /v1/Orders` body that passed the shape checks (400)."""

    po_number: str
    type: str
    lines: tuple[LineItem, ...]


def read_po_number(body: object) -> str:
    """The PONumber alone, checked first: a duplicate answers 409 whatever else it says."""
    if not isinstance(body, Mapping):
        raise Refusal(400, "the body must be a JSON object")
    po_number = body.get("PONumber")
    if not isinstance(po_number, str) or not po_number.strip():
        raise Refusal(400, "PONumber is required")
    if len(po_number) > MAX_PO_NUMBER:
        raise Refusal(400, f"PONumber is longer than {MAX_PO_NUMBER} characters")
    return po_number


def read_order_request(body: Mapping[str, object], po_number: str) -> OrderRequest:
    """Check the whole request: 400 for a malformed one, 422 for one the account cannot
    order (unknown product, value not offered, delivery type or e-mail missing)."""
    order_type = body.get("Type")
    if order_type not in DELIVERY_TYPES:
        raise Refusal(400, f"Type must be one of {', '.join(DELIVERY_TYPES)}")
    assert isinstance(order_type, str)
    items = body.get("LineItems")
    if not isinstance(items, list) or not items:
        raise Refusal(400, "LineItems must be a non-empty array")
    lines = tuple(_read_line(n, item, order_type) for n, item in enumerate(items))
    return OrderRequest(po_number, order_type, lines)


def _read_line(n: int, item: object, order_type: str) -> LineItem:
    where = f"LineItems[{n}]"
    if not isinstance(item, Mapping):
        raise Refusal(400, f"{where} must be an object")
    value, quantity = item.get("Value"), item.get("Quantity", 1)
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        raise Refusal(400, f"{where}.Value must be a number")
    if isinstance(quantity, bool) or not isinstance(quantity, int):
        raise Refusal(400, f"{where}.Quantity must be a whole number")
    if not 1 <= quantity <= MAX_QUANTITY:
        raise Refusal(422, f"{where}.Quantity must be between 1 and {MAX_QUANTITY}")
    product = PRODUCTS.get(str(item.get("ProductId")))
    if product is None:
        raise Refusal(422, f"{where}: unknown product {item.get('ProductId')!r}")
    amount = Decimal(value)
    if not product.accepts(amount):
        offered = (" to " if product.denomination_type == "Variable" else ", ").join(
            str(d) for d in product.denominations
        )
        raise Refusal(422, f"{where}: {amount} is not a denomination of {product.id} ({offered})")
    if order_type not in product.delivery_types:
        raise Refusal(422, f"{where}: {product.id} is not available for {order_type}")
    email = _email(item.get("DigitalDeliveryAddress"))
    if order_type == DIGITAL and email is None:
        raise Refusal(422, f"{where}: DigitalDeliveryAddress.Email is required for {DIGITAL}")
    return LineItem(product, amount, quantity, email, _personalization(item))


def _email(address: object) -> str | None:
    if not isinstance(address, Mapping):
        return None
    email = address.get("Email")
    return email if isinstance(email, str) and "@" in email else None


def _personalization(item: Mapping[str, object]) -> dict[str, str] | None:
    given = item.get("Personalization")
    if not isinstance(given, Mapping):
        return None
    return {
        k: v for k, v in given.items() if k in ("To", "FromName", "Message") and isinstance(v, str)
    }


def claim_link(base_url: str, card: Card) -> str:
    """Where the card's holder sees it."""
    return f"{base_url}/claim/{card.id}"


def order_json(order: Order, base_url: str) -> dict[str, object]:
    """The order as the provider's API shows it."""
    return {
        "Id": order.id,
        "PONumber": order.po_number,
        "Type": order.type,
        "Status": order.status,
        "CreatedAt": order.created_at.isoformat(),
        "CompletedAt": order.completed_at.isoformat() if order.completed_at else None,
        "Total": order.total,
        "CurrencyCode": ACCOUNT_CURRENCY,
        "LineItems": [_line_json(line, base_url) for line in order.lines],
    }


def _line_json(line: LineItem, base_url: str) -> dict[str, object]:
    shown: dict[str, object] = {
        "ProductId": line.product.id,
        "Value": line.value,
        "Quantity": line.quantity,
        "CurrencyCode": line.product.currency,
    }
    if line.email is not None:
        shown["DigitalDeliveryAddress"] = {"Email": line.email}
    if line.personalization:
        shown["Personalization"] = line.personalization
    shown["Cards"] = [
        {
            "Id": card.id,
            "ClaimLink": claim_link(base_url, card),
            "Value": card.value,
            "CurrencyCode": card.currency,
            **({"SentTo": card.sent_to} if card.sent_to else {}),
        }
        for card in line.cards
    ]
    return shown


def encode_json(payload: object) -> bytes:
    """JSON with exact money: a Decimal is written as the number it is (25, 12.5)."""
    return json.dumps(payload, default=_number, separators=(",", ":")).encode()


def _number(value: object) -> object:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")
