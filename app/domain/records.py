"""Plain values the ledger hands to services and services hand to the API."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, ClassVar, Generic, TypeVar

from app.domain.accounts import MemberAccount, TransferKind
from app.domain.discount_values import DiscountValue
from app.domain.members import MemberStatus
from app.domain.rewards import RedemptionStatus, RewardKind
from app.domain.shipping import ShippingAddress

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Member:
    id: int
    external_id: str
    enrolled_at: datetime
    email: str | None = None
    display_name: str | None = None
    referral_code: str | None = None
    referred_by: int | None = None
    status: MemberStatus = MemberStatus.ACTIVE
    status_reason: str | None = None
    status_changed_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Balance:
    member_id: int
    available: int
    pending: int
    held: int
    lifetime_earned: int
    version: int

    def as_data(self) -> dict[str, int]:
        return {
            "available": self.available,
            "pending": self.pending,
            "held": self.held,
            "lifetimeEarned": self.lifetime_earned,
            "version": self.version,
        }

    @classmethod
    def from_data(cls, member_id: int, data: Mapping[str, Any]) -> Balance:
        """The inverse of `as_data` (the member is not part of that shape)."""
        return cls(
            member_id=member_id,
            available=int(data["available"]),
            pending=int(data["pending"]),
            held=int(data["held"]),
            lifetime_earned=int(data["lifetimeEarned"]),
            version=int(data["version"]),
        )


@dataclass(frozen=True, slots=True)
class Entry:
    """One member-side entry of a transfer, as shown in a member's activity."""

    id: int
    transfer_id: int
    member_id: int
    kind: TransferKind
    account: MemberAccount
    points: int
    balance_after: int
    occurred_at: datetime
    reference: str | None
    reason: str | None
    explanation: tuple[RuleAward, ...] | None = None  # on earns: which rule gave what


@dataclass(frozen=True, slots=True)
class RuleAward:
    rule: str
    name: str
    points: int
    capped_by: int

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> RuleAward:
        return cls(str(data["rule"]), str(data["name"]), int(data["points"]), int(data["cappedBy"]))


@dataclass(frozen=True, slots=True)
class ExpiringPoints:
    points: int
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class Order:
    id: int
    order_ref: str
    member_id: int
    amount: Decimal
    currency: str
    channel: str
    points_earned: int
    returned_amount: Decimal
    points_reversed: int
    shortfall: int
    occurred_at: datetime
    lines: list[dict[str, Any]] | None = None
    explanation: list[dict[str, Any]] | None = None
    recorded_at: datetime | None = None  # the server's time of the earn's transaction
    points_discount: Decimal | None = None  # paid with points at checkout; amount is after it


@dataclass(frozen=True, slots=True)
class Reward:
    id: int
    key: str
    name: str
    description: str
    kind: str
    discount: str
    cost: int
    stock: int | None
    redeemed: int
    min_tier: str | None
    per_member_limit: int | None
    active: bool
    active_from: datetime | None
    active_until: datetime | None
    provider: str | None = None
    product_id: str | None = None
    face_value: Decimal | None = None
    face_currency: str | None = None
    delivery: str | None = None  # GIFT_CARD: EMAIL | LINK
    deadline_hours: int = 720
    source: str = "program"  # "catalog": made over the API
    code_source: str = "GENERATED"  # "POOL": codes drawn from an imported pool
    visible_tiers: tuple[str, ...] | None = None  # only members of these tiers see it
    limit_period: str = "LIFETIME"  # per_member_limit counts per DAY, MONTH, YEAR or ever
    value: DiscountValue | None = None  # DISCOUNT_CODE: what a code is worth, typed
    experience_at: datetime | None = None  # EXPERIENCE: when it takes place

    @property
    def shown_discount(self) -> str:
        """The discount text to show: the reward's own, else one said by its value."""
        return self.discount or (self.value.text() if self.value else "")

    def visible_to(self, tier_key: str | None) -> bool:
        return self.visible_tiers is None or tier_key in self.visible_tiers

    @property
    def remaining_stock(self) -> int | None:
        return None if self.stock is None else max(0, self.stock - self.redeemed)


@dataclass(frozen=True, slots=True)
class Redemption:
    id: int
    member_id: int
    reward_id: int
    quantity: int
    points: int
    status: RedemptionStatus
    codes: tuple[str, ...]
    created_at: datetime
    resolved_at: datetime | None
    kind: RewardKind = RewardKind.DISCOUNT_CODE
    updated_at: datetime | None = None
    delivery: Delivery | None = None
    deadline_at: datetime | None = None
    shipping_address: ShippingAddress | None = None  # PHYSICAL: given when redeemed


@dataclass(frozen=True, slots=True)
class Delivery:
    """What the member got, as far as it is known: a gift card's claim links or the address
    it was sent to, a parcel's carrier and tracking, an experience's booking reference."""

    claim_links: tuple[str, ...] = ()
    sent_to: str | None = None
    carrier: str | None = None
    tracking_number: str | None = None
    tracking_url: str | None = None
    booking_reference: str | None = None
    provider_ref: str | None = None  # the provider's order id
    note: str | None = None
    code_value: str | None = None  # what the codes are worth, when not the reward's text
    code_amount: Decimal | None = None  # ... as an amount off the check (points at checkout)
    code_currency: str | None = None

    def merged(self, newer: Delivery) -> Delivery:
        """This delivery with whatever `newer` says (a field it leaves empty is kept)."""
        return Delivery(
            claim_links=newer.claim_links or self.claim_links,
            sent_to=newer.sent_to or self.sent_to,
            carrier=newer.carrier or self.carrier,
            tracking_number=newer.tracking_number or self.tracking_number,
            tracking_url=newer.tracking_url or self.tracking_url,
            booking_reference=newer.booking_reference or self.booking_reference,
            provider_ref=newer.provider_ref or self.provider_ref,
            note=newer.note or self.note,
            code_value=newer.code_value or self.code_value,
            code_amount=newer.code_amount or self.code_amount,
            code_currency=newer.code_currency or self.code_currency,
        )

    def as_stored(self) -> dict[str, Any]:
        stored: dict[str, Any] = {
            "claim_links": list(self.claim_links),
            "sent_to": self.sent_to,
            "carrier": self.carrier,
            "tracking_number": self.tracking_number,
            "tracking_url": self.tracking_url,
            "booking_reference": self.booking_reference,
            "provider_ref": self.provider_ref,
            "note": self.note,
            "code_value": self.code_value,
            "code_amount": str(self.code_amount) if self.code_amount is not None else None,
            "code_currency": self.code_currency,
        }
        return {k: v for k, v in stored.items() if v}

    @classmethod
    def from_stored(cls, stored: Mapping[str, Any]) -> Delivery:
        return cls(
            claim_links=tuple(stored.get("claim_links") or ()),
            sent_to=stored.get("sent_to"),
            carrier=stored.get("carrier"),
            tracking_number=stored.get("tracking_number"),
            tracking_url=stored.get("tracking_url"),
            booking_reference=stored.get("booking_reference"),
            provider_ref=stored.get("provider_ref"),
            note=stored.get("note"),
            code_value=stored.get("code_value"),
            code_amount=Decimal(stored["code_amount"]) if stored.get("code_amount") else None,
            code_currency=stored.get("code_currency"),
        )


@dataclass(frozen=True, slots=True)
class CheckoutCart:
    """A cart paying with points: its hold (a redemption) until an order pays it."""

    cart_id: str
    member_id: int
    redemption_id: int
    points: int
    discount: Decimal
    currency: str
    order_ref: str | None
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class FulfilmentJob:
    """A redemption waiting on its provider: QUEUED (to be ordered), WAITING (ordered, the
    provider says pending), then DONE or FAILED."""

    id: int
    redemption_id: int
    provider: str
    status: str
    attempts: int
    due_at: datetime
    lease_until: datetime | None
    provider_ref: str | None
    last_error: str


@dataclass(frozen=True, slots=True)
class RedemptionChange:
    """One change of a redemption's status: when, to what, by whom, and why. `version`
    numbers the member's redemption changes from 1, with no gap."""

    id: int
    redemption_id: int
    member_id: int
    version: int
    status: RedemptionStatus
    at: datetime
    actor: str
    detail: str


@dataclass(frozen=True, slots=True)
class BalanceChange:
    """A committed change of one member's balance, as pushed to subscribers."""

    topic: ClassVar[str] = "balance.changed"  # app.domain.events.Topic.BALANCE_CHANGED

    member_id: int
    version: int
    kind: TransferKind
    delta: int  # change of `available`
    pending_delta: int
    held_delta: int
    balance: Balance
    occurred_at: datetime
    transfer_id: int
    reference: str | None = None

    def payload(self) -> dict[str, Any]:
        return self.as_payload()

    def as_payload(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "kind": self.kind.value,
            "delta": self.delta,
            "pendingDelta": self.pending_delta,
            "heldDelta": self.held_delta,
            "balance": self.balance.as_data(),
            "occurredAt": self.occurred_at.isoformat(),
            "transferId": self.transfer_id,
            "reference": self.reference,
        }

    @classmethod
    def from_payload(cls, member_id: int, data: Mapping[str, Any]) -> BalanceChange:
        balance = data["balance"]
        return cls(
            member_id=member_id,
            version=int(data["version"]),
            kind=TransferKind(data["kind"]),
            delta=int(data["delta"]),
            pending_delta=int(data["pendingDelta"]),
            held_delta=int(data["heldDelta"]),
            balance=Balance(
                member_id=member_id,
                available=int(balance["available"]),
                pending=int(balance["pending"]),
                held=int(balance["held"]),
                lifetime_earned=int(balance["lifetimeEarned"]),
                version=int(balance["version"]),
            ),
            occurred_at=datetime.fromisoformat(data["occurredAt"]),
            transfer_id=int(data["transferId"]),
            reference=data.get("reference"),
        )


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """A slice of rows in a stable order, with the key to continue after the last one."""

    items: list[T] = field(default_factory=list)
    has_next: bool = False


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One write through the API, as the audit log keeps it."""

    id: int
    at: datetime
    principal: str
    client_id: str | None
    operation: str
    idempotency_key: str | None
    request_id: str | None
    source_address: str | None
    outcome: str  # OK, REPLAYED, or the error code it ended with
    member_id: int | None


@dataclass(frozen=True, slots=True)
class MemberExport:
    """Everything Tally holds on a member (an access request): the member row, and every
    other row that names the member, by table. Rows are plain JSON values."""

    member: Mapping[str, object]
    tables: Mapping[str, tuple[Mapping[str, object], ...]]

    def as_document(self) -> dict[str, object]:
        """One JSON document: `member`, then each table's rows."""
        return {"member": dict(self.member)} | {
            name: [dict(row) for row in rows] for name, rows in self.tables.items()
        }
