"""The sandbox's memory: the account's tokens, orders and balance, and a log of every
provider call and webhook attempt for tests to assert on. No I/O; one event loop."""

from __future__ import annotations

import base64
import json
import random
import secrets
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from decimal import Decimal

from app.fulfilment.sandbox.catalogue import ACCOUNT_CURRENCY, DIGITAL
from app.fulfilment.sandbox.config import SandboxConfig
from app.fulfilment.sandbox.orders import (
    Card,
    Order,
    Refusal,
    read_order_request,
    read_po_number,
)

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


@dataclass(frozen=True, slots=True)
class Call:
    """One `/v1` request and the status it was answered with."""

    method: str
    path: str
    status: int
    po_number: str | None = None

    def to_json(self) -> dict[str, object]:
        """The call as `GET /_sandbox/calls` lists it."""
        return asdict(self)


@dataclass(frozen=True, slots=True)
class WebhookAttempt:
    """One try at delivering a webhook: the receiver's status, or why it failed."""

    order_id: str
    attempt: int
    status: int | None
    error: str | None = None

    def to_json(self) -> dict[str, object]:
        """The attempt as `GET /_sandbox/webhooks` lists it."""
        return asdict(self)


class SandboxState:
    """Tokens, orders, balance and logs of one account; `config` holds its live options."""

    def __init__(
        self, config: SandboxConfig, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.config = config
        self.orders: dict[str, Order] = {}
        self.calls: list[Call] = []
        self.webhook_attempts: list[WebhookAttempt] = []
        self._clock = clock
        self._faults = random.Random(config.seed)  # injected failures only
        self._ids = random.Random(config.seed)  # order and card ids, card codes
        self._by_po_number: dict[str, str] = {}
        self._cards: dict[str, Card] = {}
        self._tokens: dict[str, float] = {}

    def configure(self, changes: Mapping[str, object]) -> None:
        """Change options (ConfigError if one is bad); a new seed restarts the generators."""
        self.config.update(changes)
        if "seed" in changes:
            self._faults.seed(self.config.seed)
            self._ids.seed(self.config.seed)

    # --- tokens ---------------------------------------------------------------------

    def issue_token(self, email: str | None, access_token: str | None) -> tuple[str, int]:
        """A bearer token and its lifetime in seconds, for the right credentials only."""
        if email != self.config.email or access_token != self.config.access_token:
            raise Refusal(401, "invalid Email or AccessToken")
        ttl = self.config.token_ttl
        claims = {"sub": email, "exp": int(time.time()) + ttl, "jti": secrets.token_hex(8)}
        value = ".".join(
            (_b64({"alg": "HS256", "typ": "JWT"}), _b64(claims), secrets.token_urlsafe(32))
        )
        self._tokens[value] = self._clock() + ttl
        return value, ttl

    def authorised(self, authorization: str | None) -> bool:
        """Whether the Authorization header carries a live bearer token."""
        scheme, _, token = (authorization or "").partition(" ")
        expires = self._tokens.get(token.strip()) if scheme.lower() == "bearer" else None
        return expires is not None and self._clock() < expires

    def expire_tokens(self) -> int:
        """End every token now (as if they had all run out); how many there were."""
        count = len(self._tokens)
        self._tokens.clear()
        return count

    # --- orders ---------------------------------------------------------------------

    def injected(self, rate: float) -> bool:
        """Draw an injected failure: never at rate 0, always at 1, seeded in between."""
        if rate <= 0:
            return False
        return rate >= 1 or self._faults.random() < rate

    def place(self, body: object) -> Order:
        """Create an order or refuse it: 409 (with the original Id) for a PONumber seen
        before, 400/422 for a bad request, 422 when the balance does not cover it."""
        po_number = read_po_number(body)
        original = self._by_po_number.get(po_number)
        if original is not None:
            raise Refusal(
                409, f"PONumber {po_number!r} was already used by order {original}", Id=original
            )
        assert isinstance(body, Mapping)
        request = read_order_request(body, po_number)
        total = sum(
            (line.product.charge(line.value) * line.quantity for line in request.lines),
            Decimal("0"),
        )
        if total > self.config.balance:
            raise Refusal(
                422,
                f"insufficient funds: the order costs {total} {ACCOUNT_CURRENCY}, "
                f"the balance is {self.config.balance} {ACCOUNT_CURRENCY}",
            )
        self.config.balance -= total
        order = Order(
            id=self._new_id(),
            po_number=po_number,
            type=request.type,
            status="Pending",
            created_at=datetime.now(UTC),
            total=total,
            lines=list(request.lines),
        )
        threshold = self.config.pending_over
        if threshold is None or order.face_value <= threshold:
            self._fulfil(order)
        self.orders[order.id] = order
        self._by_po_number[po_number] = order.id
        return order

    def order(self, order_id: str) -> Order:
        """The order with this Id; 404 if there is none."""
        order = self.orders.get(order_id)
        if order is None:
            raise Refusal(404, f"no order {order_id!r}")
        return order

    def complete(self, order_id: str) -> Order:
        """Complete a Pending order now: its cards are issued. 409 if it is not pending."""
        order = self.order(order_id)
        if order.status != "Pending":
            raise Refusal(409, f"order {order_id} is already {order.status}")
        self._fulfil(order)
        return order

    def card(self, card_id: str) -> Card | None:
        """The issued card with this Id, if any."""
        return self._cards.get(card_id)

    def _fulfil(self, order: Order) -> None:
        for line in order.lines:
            sent_to = line.email if order.type == DIGITAL else None
            for _ in range(line.quantity):
                card = Card(
                    self._new_id(), self._new_code(), line.value, line.product.currency, sent_to
                )
                line.cards.append(card)
                self._cards[card.id] = card
        order.status = "Complete"
        order.completed_at = datetime.now(UTC)

    def _new_id(self) -> str:
        return str(uuid.UUID(int=self._ids.getrandbits(128), version=4))

    def _new_code(self) -> str:
        chars = "".join(self._ids.choice(CODE_ALPHABET) for _ in range(16))
        return "-".join(chars[i : i + 4] for i in range(0, 16, 4))


def _b64(claims: dict[str, object]) -> str:
    raw = json.dumps(claims, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
