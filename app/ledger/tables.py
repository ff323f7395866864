"""The ledger's tables. Only the ledger package imports these; services see dataclasses."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, Index, Table, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from app.ledger.types import DecimalText, UTCDateTime

metadata = SQLModel.metadata


def _at(**kw: Any) -> Any:
    return Field(sa_type=UTCDateTime, **kw)


class ProgramVersionRow(SQLModel, table=True):
    __tablename__ = "program_versions"
    id: int | None = Field(default=None, primary_key=True)
    version: int = Field(unique=True)
    name: str = Field(max_length=200)
    definition: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    checksum: str = Field(max_length=64)
    activated_at: datetime = _at()


class MemberRow(SQLModel, table=True):
    __tablename__ = "members"
    id: int | None = Field(default=None, primary_key=True)
    external_id: str = Field(max_length=200, unique=True)
    email: str | None = Field(default=None, max_length=320)
    display_name: str | None = Field(default=None, max_length=200)
    referral_code: str | None = Field(default=None, max_length=40, unique=True)
    referred_by: int | None = Field(default=None, foreign_key="members.id")
    enrolled_at: datetime = _at()
    # ACTIVE, SUSPENDED (a fraud hold: earns, cannot redeem) or ERASED (personal data gone).
    status: str = Field(
        default="ACTIVE", max_length=20, sa_column_kwargs={"server_default": "ACTIVE"}
    )
    status_reason: str | None = Field(default=None, max_length=500)
    status_changed_at: datetime | None = _at(default=None, nullable=True)


class BalanceRow(SQLModel, table=True):
    """One row per member, updated in the same transaction as the member's entries."""

    __tablename__ = "balances"
    member_id: int = Field(primary_key=True, foreign_key="members.id")
    available: int = 0
    pending: int = 0
    held: int = 0
    lifetime_earned: int = 0
    version: int = 0
    updated_at: datetime = _at()


class MemberTierRow(SQLModel, table=True):
    """A member's tier standing: the tier held, since when, when it is next reviewed, the
    tiers passed since it was settled (`earlier`, JSON) and the program version it was
    computed under. `tier_key` NULL: not evaluated yet. `review_at`: when the sweep looks."""

    __tablename__ = "member_tiers"
    member_id: int = Field(primary_key=True, foreign_key="members.id")
    tier_key: str | None = Field(default=None, max_length=100)
    since: datetime = _at()
    settled_at: datetime = _at()
    period_ends_at: datetime | None = _at(default=None, nullable=True)
    grace_until: datetime | None = _at(default=None, nullable=True)
    review_at: datetime | None = _at(default=None, nullable=True, index=True)
    earlier: list[dict[str, Any]] | None = Field(
        default=None, sa_column=Column(JSON, nullable=True)
    )
    program_version: int | None = Field(default=None, index=True)
    updated_at: datetime = _at()


class UnreversedRow(SQLModel, table=True):
    """Points a return could not take back because the member had spent them (the return
    policy RECORD_SHORTFALL): they stay spent, but for tiers they come off all the same,
    counted when they were earned."""

    __tablename__ = "unreversed_points"
    __table_args__ = (Index("ix_unreversed_member_at", "member_id", "counts_at"),)
    id: int | None = Field(default=None, primary_key=True)
    member_id: int = Field(foreign_key="members.id")
    points: int = Field(gt=0)
    counts_at: datetime = _at()
    order_id: int | None = Field(default=None, foreign_key="orders.id")
    created_at: datetime = _at()


class TransferRow(SQLModel, table=True):
    """An immutable move of `amount` points from `debit_account` to `credit_account`."""

    __tablename__ = "transfers"
    __table_args__ = (Index("ix_transfers_member_kind_at", "member_id", "kind", "occurred_at"),)
    id: int | None = Field(default=None, primary_key=True)
    key: str | None = Field(default=None, max_length=200, unique=True)
    kind: str = Field(max_length=20)
    member_id: int = Field(foreign_key="members.id", index=True)
    debit_account: str = Field(max_length=20)
    credit_account: str = Field(max_length=20)
    amount: int = Field(gt=0)
    order_id: int | None = Field(default=None, foreign_key="orders.id")
    redemption_id: int | None = Field(default=None, foreign_key="redemptions.id")
    reference: str | None = Field(default=None, max_length=200)
    reason: str | None = Field(default=None, max_length=500)
    program_version: int | None = None
    occurred_at: datetime = _at()
    # When it counts for the tier measure: a reversal, when the earn it reverses was
    # made (returning an old order never lowers this year's measure); NULL: occurred_at.
    counts_at: datetime | None = _at(default=None, nullable=True)
    created_at: datetime = _at()


class EntryRow(SQLModel, table=True):
    """One side of a transfer: the entries of a transfer sum to zero."""

    __tablename__ = "entries"
    __table_args__ = (Index("ix_entries_member_id", "member_id", "id"),)
    id: int | None = Field(default=None, primary_key=True)
    transfer_id: int = Field(foreign_key="transfers.id", index=True)
    account: str = Field(max_length=20)
    member_id: int | None = Field(default=None, foreign_key="members.id")
    amount: int
    balance_after: int | None = None


class LotRow(SQLModel, table=True):
    """Points from one earn (or positive adjustment), spent earliest-expiry first."""

    __tablename__ = "lots"
    __table_args__ = (Index("ix_lots_member_state", "member_id", "state", "expires_at"),)
    id: int | None = Field(default=None, primary_key=True)
    member_id: int = Field(foreign_key="members.id")
    transfer_id: int = Field(foreign_key="transfers.id")
    order_id: int | None = Field(default=None, foreign_key="orders.id")
    points: int
    remaining: int
    state: str = Field(max_length=20)  # PENDING | AVAILABLE
    release_at: datetime | None = _at(default=None, nullable=True)
    expires_at: datetime | None = _at(default=None, nullable=True, index=True)
    warned_at: datetime | None = _at(default=None, nullable=True)
    created_at: datetime = _at()


class OrderRow(SQLModel, table=True):
    __tablename__ = "orders"
    id: int | None = Field(default=None, primary_key=True)
    order_ref: str = Field(max_length=200, unique=True)
    member_id: int = Field(foreign_key="members.id", index=True)
    amount: Decimal = Field(sa_type=DecimalText)
    currency: str = Field(max_length=3)
    channel: str = Field(max_length=40)
    points_earned: int = 0
    returned_amount: Decimal = Field(sa_type=DecimalText)
    points_reversed: int = 0
    shortfall: int = 0
    explanation: list[dict[str, Any]] | None = Field(
        default=None, sa_column=Column(JSON, nullable=True)
    )
    lines: list[dict[str, Any]] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    shipping: Decimal | None = Field(default=None, sa_type=DecimalText, nullable=True)
    occurred_at: datetime = _at()
    created_at: datetime = _at()
    # Paid with points at checkout (applyPointsAtCheckout): `amount` is what was paid after it.
    points_discount: Decimal | None = Field(default=None, sa_type=DecimalText, nullable=True)


class ActivityRow(SQLModel, table=True):
    """A member's recorded activity (review, birthday…), once per `dedupe_key`."""

    __tablename__ = "activities"
    id: int | None = Field(default=None, primary_key=True)
    member_id: int = Field(foreign_key="members.id", index=True)
    kind: str = Field(max_length=60)
    reference: str | None = Field(default=None, max_length=200)
    dedupe_key: str = Field(max_length=300, unique=True)
    points: int = 0
    transfer_id: int | None = Field(default=None, foreign_key="transfers.id", index=True)
    explanation: list[dict[str, Any]] | None = Field(
        default=None, sa_column=Column(JSON, nullable=True)
    )
    occurred_at: datetime = _at()
    created_at: datetime = _at()


class ReferralRow(SQLModel, table=True):
    """A referee's first qualifying purchase rewarded both members; reversed if returned."""

    __tablename__ = "referrals"
    id: int | None = Field(default=None, primary_key=True)
    referrer_id: int = Field(foreign_key="members.id", index=True)
    referee_id: int = Field(foreign_key="members.id", unique=True)
    order_id: int = Field(foreign_key="orders.id", unique=True)
    referrer_points: int
    referee_points: int
    status: str = Field(max_length=20)  # AWARDED | REVERSED
    awarded_at: datetime = _at()


class RuleAwardRow(SQLModel, table=True):
    """What one earning rule gave one member for one order: the basis of rule caps."""

    __tablename__ = "rule_awards"
    __table_args__ = (
        Index("ix_rule_awards_member_rule_at", "member_id", "rule_key", "occurred_at"),
    )
    id: int | None = Field(default=None, primary_key=True)
    member_id: int = Field(foreign_key="members.id")
    order_id: int | None = Field(default=None, foreign_key="orders.id")
    activity_id: int | None = Field(default=None, foreign_key="activities.id")
    rule_key: str = Field(max_length=100)
    points: int
    occurred_at: datetime = _at()


class RewardRow(SQLModel, table=True):
    __tablename__ = "rewards"
    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=100, unique=True)
    name: str = Field(max_length=200)
    description: str = Field(default="", max_length=2000)
    kind: str = Field(max_length=40)
    discount: str = Field(default="", max_length=200)
    cost: int
    stock: int | None = None
    redeemed: int = 0
    min_tier: str | None = Field(default=None, max_length=100)
    per_member_limit: int | None = None
    active: bool = True
    active_from: datetime | None = _at(default=None, nullable=True)
    active_until: datetime | None = _at(default=None, nullable=True)
    provider: str | None = Field(default=None, max_length=40)
    product_id: str | None = Field(default=None, max_length=100)
    face_value: Decimal | None = Field(default=None, sa_type=DecimalText)
    face_currency: str | None = Field(default=None, max_length=3)
    delivery: str | None = Field(default=None, max_length=10)  # GIFT_CARD: EMAIL | LINK
    deadline_hours: int = 720
    source: str = Field(default="program", max_length=20)  # or "catalog" (the API's)
    code_source: str = Field(default="GENERATED", max_length=20)  # or "POOL" (imported)
    visible_tiers: list[str] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    limit_period: str = Field(default="LIFETIME", max_length=10)  # DAY | MONTH | YEAR
    # DISCOUNT_CODE: what a code is worth (domain/discount_values.DiscountValue)
    value_type: str | None = Field(default=None, max_length=20)
    value_amount: Decimal | None = Field(default=None, sa_type=DecimalText)  # or a percentage
    value_currency: str | None = Field(default=None, max_length=3)
    value_sku: str | None = Field(default=None, max_length=100)
    value_level: str | None = Field(default=None, max_length=10)  # CHECK | ITEM
    experience_at: datetime | None = _at(default=None, nullable=True)  # EXPERIENCE: its date


class RedemptionRow(SQLModel, table=True):
    __tablename__ = "redemptions"
    __table_args__ = (Index("ix_redemptions_member_reward", "member_id", "reward_id"),)
    id: int | None = Field(default=None, primary_key=True)
    member_id: int = Field(foreign_key="members.id")
    reward_id: int = Field(foreign_key="rewards.id")
    quantity: int
    points: int
    status: str = Field(max_length=20)  # app.domain.rewards.RedemptionStatus
    codes: list[str] = Field(sa_column=Column(JSON, nullable=False))
    created_at: datetime = _at()
    resolved_at: datetime | None = _at(default=None, nullable=True)  # hold posted or voided
    kind: str = Field(default="DISCOUNT_CODE", max_length=40)  # the reward's, when redeemed
    updated_at: datetime | None = _at(default=None, nullable=True)
    # What the member got (claim links, tracking, booking reference): domain/records.Delivery
    delivery: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    deadline_at: datetime | None = _at(default=None, nullable=True)  # then FAILED, points back
    # PHYSICAL: where it ships (domain/shipping.ShippingAddress); wiped when the member is erased
    shipping_address: dict[str, Any] | None = Field(
        default=None, sa_column=Column(JSON, nullable=True)
    )


class CheckoutCartRow(SQLModel, table=True):
    """A checkout's cart paying with points: its current hold (a redemption of the system
    reward `checkout`), replaced when the checkout applies points again, until an order
    pays it (`order_ref`)."""

    __tablename__ = "checkout_carts"
    cart_id: str = Field(primary_key=True, max_length=200)
    member_id: int = Field(foreign_key="members.id", index=True)
    redemption_id: int = Field(foreign_key="redemptions.id", unique=True)
    points: int
    discount: Decimal = Field(sa_type=DecimalText)
    currency: str = Field(max_length=3)
    order_ref: str | None = Field(default=None, max_length=200)
    created_at: datetime = _at()
    updated_at: datetime = _at()


class FulfilmentJobRow(SQLModel, table=True):
    """A redemption to hand to its provider after commit: claimed by one worker at a time
    (a lease), retried with back-off from `due_at`, polled while the provider says pending."""

    __tablename__ = "fulfilment_jobs"
    __table_args__ = (Index("ix_fulfilment_jobs_due", "status", "due_at"),)
    id: int | None = Field(default=None, primary_key=True)
    redemption_id: int = Field(foreign_key="redemptions.id", unique=True)
    provider: str = Field(max_length=40)
    status: str = Field(max_length=20)  # QUEUED | WAITING | DONE | FAILED
    attempts: int = 0
    due_at: datetime = _at()
    lease_until: datetime | None = _at(default=None, nullable=True)
    provider_ref: str | None = Field(default=None, max_length=100)
    last_error: str = Field(default="", max_length=500)
    created_at: datetime = _at()
    updated_at: datetime = _at()


class RedemptionEventRow(SQLModel, table=True):
    """Every change of a redemption's status: its history, and the member's ordered stream
    of redemption changes (`version` counts them per member, from 1)."""

    __tablename__ = "redemption_events"
    __table_args__ = (
        UniqueConstraint("member_id", "version", name="uq_redemption_events_member_version"),
        Index("ix_redemption_events_redemption", "redemption_id", "id"),
    )
    id: int | None = Field(default=None, primary_key=True)
    redemption_id: int = Field(foreign_key="redemptions.id")
    member_id: int = Field(foreign_key="members.id")
    version: int
    status: str = Field(max_length=20)
    at: datetime = _at()
    actor: str = Field(max_length=300)  # member:..., client:..., operator:..., provider:...
    detail: str = Field(default="", max_length=500)


class RewardCodeRow(SQLModel, table=True):
    """Every discount code given out (generated or drawn from an imported pool), so a till
    can find the redemption behind a code it scans. A pool code waits with no redemption."""

    __tablename__ = "reward_codes"
    __table_args__ = (Index("ix_reward_codes_pool", "reward_id", "redemption_id"),)
    code: str = Field(max_length=100, primary_key=True)
    reward_id: int = Field(foreign_key="rewards.id")
    redemption_id: int | None = Field(default=None, foreign_key="redemptions.id")
    added_at: datetime = _at()


class LotHoldRow(SQLModel, table=True):
    """Which lots a redemption's hold took points from, so a void restores them."""

    __tablename__ = "lot_holds"
    redemption_id: int = Field(foreign_key="redemptions.id", primary_key=True)
    lot_id: int = Field(foreign_key="lots.id", primary_key=True)
    points: int


class IdempotencyRow(SQLModel, table=True):
    __tablename__ = "idempotency_keys"
    principal: str = Field(max_length=200, primary_key=True)
    key: str = Field(max_length=200, primary_key=True)
    operation: str = Field(max_length=60)
    request_hash: str = Field(max_length=64)
    response: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    created_at: datetime = _at()


class OutboxRow(SQLModel, table=True):
    """Events written in the same transaction as the change they describe."""

    __tablename__ = "outbox"
    __table_args__ = (
        UniqueConstraint("topic", "member_id", "version", name="uq_outbox_member_version"),
        UniqueConstraint("sequence", name="uq_outbox_sequence"),
        # What the sequencer looks for: published rows not yet numbered (a few at a time).
        Index(
            "ix_outbox_unsequenced",
            "id",
            sqlite_where=text("sequence IS NULL AND event_type IS NOT NULL"),
            postgresql_where=text("sequence IS NULL AND event_type IS NOT NULL"),
        ),
    )
    id: int | None = Field(default=None, primary_key=True)
    topic: str = Field(max_length=60)
    member_id: int | None = Field(default=None, foreign_key="members.id")
    version: int | None = None
    payload: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    created_at: datetime = _at()
    # Published events (app/domain/published.py): their type, and their place in commit
    # order, given after commit by the event sequencer (app/ledger/event_log.py).
    event_type: str | None = Field(default=None, max_length=40)
    sequence: int | None = Field(default=None, sa_type=BigInteger)


class WebhookEndpointRow(SQLModel, table=True):
    """An endpoint partners registered (webhooks:manage). `cursor` is the last event
    sequence fanned out to it: it hears what was committed after it was made."""

    __tablename__ = "webhook_endpoints"
    id: int | None = Field(default=None, primary_key=True)
    url: str = Field(max_length=2000)
    description: str = Field(default="", max_length=500)
    event_types: list[str] = Field(sa_column=Column(JSON, nullable=False))  # empty: all
    status: str = Field(max_length=20)  # app.domain.webhooks.EndpointStatus
    disabled_reason: str | None = Field(default=None, max_length=200)
    secret: str = Field(max_length=100)  # whsec_...; it signs, so it is kept as is
    previous_secret: str | None = Field(default=None, max_length=100)
    previous_until: datetime | None = _at(default=None, nullable=True)
    failing_since: datetime | None = _at(default=None, nullable=True)
    last_failed_at: datetime | None = _at(default=None, nullable=True)
    cursor: int = Field(sa_type=BigInteger)
    created_by: str = Field(max_length=200)
    created_at: datetime = _at()
    updated_at: datetime = _at()


class WebhookDeliveryRow(SQLModel, table=True):
    """One event to one endpoint: sent under a lease, retried on the schedule."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        UniqueConstraint("endpoint_id", "outbox_id", name="uq_webhook_deliveries_event"),
        Index("ix_webhook_deliveries_due", "endpoint_id", "status", "next_attempt_at"),
    )
    id: int | None = Field(default=None, primary_key=True)
    endpoint_id: int = Field(foreign_key="webhook_endpoints.id")
    outbox_id: int = Field(foreign_key="outbox.id")
    sequence: int = Field(sa_type=BigInteger)
    status: str = Field(max_length=20)  # app.domain.webhooks.DeliveryStatus
    attempts: int = 0
    next_attempt_at: datetime | None = _at(default=None, nullable=True)
    lease_until: datetime | None = _at(default=None, nullable=True)
    lease_token: str | None = Field(default=None, max_length=40)  # whose lease it is
    last_status: int | None = None
    created_at: datetime = _at()
    updated_at: datetime = _at()


class WebhookAttemptRow(SQLModel, table=True):
    """Every attempt to deliver: what the endpoint answered, how fast, what it said."""

    __tablename__ = "webhook_attempts"
    __table_args__ = (Index("ix_webhook_attempts_delivery", "delivery_id", "id"),)
    id: int | None = Field(default=None, primary_key=True)
    delivery_id: int = Field(foreign_key="webhook_deliveries.id")
    at: datetime = _at()
    status: int | None = None
    latency_ms: int
    error: str | None = Field(default=None, max_length=500)
    excerpt: str = Field(default="", max_length=500)


class OrderSourceRow(SQLModel, table=True):
    """A store that sends its orders as webhooks (a Shopify shop), set up by staff with
    `tally source add`: the secret its webhooks are signed with, and whether a customer
    Tally does not know is enrolled by their first order."""

    __tablename__ = "order_sources"
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=60, unique=True)
    kind: str = Field(max_length=20)  # "shopify"
    secret: str = Field(max_length=200)  # it verifies HMACs, so it is kept as is
    enroll_unknown: bool = False
    created_at: datetime = _at()
    updated_at: datetime = _at()


class InboundEventRow(SQLModel, table=True):
    """A webhook an order source sent: kept before it is answered, once per delivery id,
    then processed after (RECEIVED -> PROCESSED | IGNORED | FAILED, retryable)."""

    __tablename__ = "inbound_events"
    __table_args__ = (
        UniqueConstraint("source_id", "delivery_id", name="uq_inbound_events_delivery"),
        Index("ix_inbound_events_due", "status", "next_attempt_at"),
    )
    id: int | None = Field(default=None, primary_key=True)
    source_id: int = Field(foreign_key="order_sources.id")
    delivery_id: str = Field(max_length=200)
    customer: str | None = Field(default=None, max_length=200)  # its externalId: for erasure
    topic: str = Field(max_length=60)
    body: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    status: str = Field(max_length=20)
    attempts: int = 0
    retries: int = 0
    error: str | None = Field(default=None, max_length=500)
    received_at: datetime = _at()
    processed_at: datetime | None = _at(default=None, nullable=True)
    next_attempt_at: datetime | None = _at(default=None, nullable=True)
    lease_until: datetime | None = _at(default=None, nullable=True)


class OAuthClientRow(SQLModel, table=True):
    __tablename__ = "oauth_clients"
    client_id: str = Field(max_length=100, primary_key=True)
    name: str = Field(max_length=200)
    secret_hash: str = Field(max_length=300)
    scopes: str = Field(max_length=1000)
    created_at: datetime = _at()
    disabled: bool = False
    revoked_at: datetime | None = _at(default=None, nullable=True)
    secret_rotated_at: datetime | None = _at(default=None, nullable=True)
    rate_capacity: int | None = None  # the client's own bucket; NULL: TALLY_CLIENT_RATE
    rate_restore: float | None = None


class AuditRow(SQLModel, table=True):
    """One row per write through the API: who, through which client, with which key and
    request id, from where, and how it ended (OK, REPLAYED or the error code)."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_member", "member_id", "id"),)
    id: int | None = Field(default=None, primary_key=True)
    at: datetime = _at()
    principal: str = Field(max_length=300)
    client_id: str | None = Field(default=None, max_length=100)
    operation: str = Field(max_length=100)
    idempotency_key: str | None = Field(default=None, max_length=200)
    request_id: str | None = Field(default=None, max_length=100)
    source_address: str | None = Field(default=None, max_length=100)
    outcome: str = Field(max_length=40)
    member_id: int | None = None


def _table(model: type[SQLModel]) -> Table:
    table = model.__table__  # type: ignore[attr-defined]
    assert isinstance(table, Table)
    return table


program_versions = _table(ProgramVersionRow)
members = _table(MemberRow)
balances = _table(BalanceRow)
member_tiers = _table(MemberTierRow)
unreversed_points = _table(UnreversedRow)
transfers = _table(TransferRow)
entries = _table(EntryRow)
lots = _table(LotRow)
orders = _table(OrderRow)
rewards = _table(RewardRow)
redemptions = _table(RedemptionRow)
redemption_events = _table(RedemptionEventRow)
fulfilment_jobs = _table(FulfilmentJobRow)
checkout_carts = _table(CheckoutCartRow)
webhook_endpoints = _table(WebhookEndpointRow)
webhook_deliveries = _table(WebhookDeliveryRow)
webhook_attempts = _table(WebhookAttemptRow)
order_sources = _table(OrderSourceRow)
inbound_events = _table(InboundEventRow)
reward_codes = _table(RewardCodeRow)
lot_holds = _table(LotHoldRow)
idempotency_keys = _table(IdempotencyRow)
outbox = _table(OutboxRow)
oauth_clients = _table(OAuthClientRow)
audit_log = _table(AuditRow)
rule_awards = _table(RuleAwardRow)
activities = _table(ActivityRow)
referrals = _table(ReferralRow)
