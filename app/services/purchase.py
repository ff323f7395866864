"""Record a purchase: the order, its points (with the tier multiplier) and their lot."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from typing import Any

from app.domain.accounts import Account, TransferKind
from app.domain.checkout import spread_discount
from app.domain.errors import DomainError, ErrorCode
from app.domain.order_lines import LineInput, lines_data, parse_lines
from app.domain.points import currency_decimals, parse_amount, within_points_limit
from app.domain.records import Balance
from app.domain.rule_definitions import CHANNELS
from app.domain.rules import Purchase
from app.domain.text import check_text
from app.ledger.uow import UnitOfWork, WriteTx
from app.services.checkout import pay_cart
from app.services.clock import Clock
from app.services.codec import AnswerCodec
from app.services.common import (
    MemberRef,
    active_program,
    check_backdating,
    check_occurred_at,
    credit_lot,
    lock_member,
)
from app.services.earning import explain, explanation_data, points_by_rule, single_line
from app.services.idempotent import run_once
from app.services.outcome import Outcome
from app.services.referrals import award_referral
from app.services.tiers.lifecycle import standing_before_earn, upgrade_after_earn


@dataclass(frozen=True, slots=True)
class RecordPurchase:
    member: MemberRef
    order_id: str
    amount: str
    currency: str
    channel: str
    occurred_at: datetime
    lines: tuple[LineInput, ...] = ()
    shipping: str = "0"
    cart_id: str | None = None  # paid partly with points (applyPointsAtCheckout)


@dataclass(frozen=True, slots=True)
class PurchaseRecorded:
    member_id: int
    order_id: str
    points: int
    pending: bool
    tier: str
    balance: Balance
    upgraded_to: str | None = None
    referral_points: int = 0
    points_discount: Decimal | None = None  # what the cart's points took off the amount


PURCHASERECORDED_CODEC = AnswerCodec(PurchaseRecorded)


def _validate(cmd: RecordPurchase, now: datetime) -> tuple[Decimal, Purchase]:
    check_text(cmd.order_id, "orderId")
    if cmd.channel not in CHANNELS:
        raise DomainError(
            ErrorCode.INVALID_INPUT, f"channel must be one of {sorted(CHANNELS)}", "channel"
        )
    check_occurred_at(cmd.occurred_at, now)
    decimals = currency_decimals(cmd.currency)
    amount = parse_amount(cmd.amount, decimals=decimals, currency=cmd.currency)
    shipping = parse_amount(
        cmd.shipping, field="shipping", decimals=decimals, currency=cmd.currency
    )
    lines = parse_lines(cmd.lines, amount)
    if not lines:
        lines = single_line(amount, cmd.channel, cmd.occurred_at).lines
    return amount, Purchase(cmd.channel, cmd.occurred_at, lines, shipping)


async def record_purchase(
    uow: UnitOfWork, clock: Clock, *, principal: str, idempotency_key: str, cmd: RecordPurchase
) -> Outcome[PurchaseRecorded]:
    try:
        amount, purchase = _validate(cmd, clock.now())
    except DomainError as error:
        return Outcome.failure(error)

    # Lines and shipping join the request only when given: keys of line-less purchases
    # hash as they always have.
    extras: dict[str, Any] = {}
    if cmd.lines:
        extras["lines"] = lines_data(purchase.lines)
    if purchase.shipping:
        extras["shipping"] = str(purchase.shipping)
    if cmd.cart_id is not None:
        extras["cartId"] = cmd.cart_id

    async def action(tx: WriteTx) -> PurchaseRecorded:
        now = clock.now()
        member, balance = await lock_member(tx, cmd.member)
        version = await active_program(tx)
        program = version.program
        if cmd.currency != program.currency:
            raise DomainError(
                ErrorCode.INVALID_INPUT, f"this program earns in {program.currency}", "currency"
            )
        check_backdating(program, cmd.occurred_at, now)
        if await tx.orders.by_ref(cmd.order_id) is not None:
            raise DomainError(ErrorCode.ORDER_EXISTS, "This order is already recorded.", "orderId")
        paid, earned_on, discount = amount, purchase, None
        if cmd.cart_id is not None:  # the points are spent; the order earns on what was paid
            cart = await pay_cart(
                tx,
                clock,
                member,
                check_text(cmd.cart_id, "cartId", limit=200),
                order_ref=cmd.order_id,
                currency=cmd.currency,
                actor=principal,
            )
            lines = spread_discount(purchase.lines, cart.discount, currency_decimals(cmd.currency))
            discount = cart.discount
            paid = amount - cart.discount
            earned_on = replace(purchase, lines=lines)
        before = await standing_before_earn(tx, version, member.id, now)
        tier = before.tier
        explanation = await explain(program, earned_on, tier, tx.awards, member.id)
        points = within_points_limit(explanation.total, "this purchase's points", "amount")
        order_id = await tx.orders.create(
            order_ref=cmd.order_id,
            member_id=member.id,
            amount=paid,
            currency=cmd.currency,
            channel=cmd.channel,
            occurred_at=cmd.occurred_at,
            now=now,
            lines=lines_data(earned_on.lines) if cmd.lines else None,
            shipping=purchase.shipping,
            points_discount=discount,
        )
        pending = program.pending_days > 0
        await tx.awards.record(
            member_id=member.id,
            order_id=order_id,
            awards=points_by_rule(explanation),
            occurred_at=cmd.occurred_at,
        )
        if points > 0:
            await tx.orders.set_earned(order_id, points, explanation_data(explanation))
            posted = await credit_lot(
                tx,
                kind=TransferKind.EARN,
                member_id=member.id,
                debit=Account.ISSUED,
                points=points,
                now=now,
                occurred_at=cmd.occurred_at,
                expires_at=program.lot_expires_at(cmd.occurred_at),
                pending_until=program.release_at(cmd.occurred_at) if pending else None,
                order_id=order_id,
                reference=cmd.order_id,
                program_version=version.version,
                earned=points,
            )
            balance = posted.balance
        welcome = await award_referral(
            tx,
            version,
            member,
            order_id=order_id,
            amount=paid,
            occurred_at=cmd.occurred_at,
            now=now,
        )
        if welcome:
            balance = (await tx.members.lock(member.id)) or balance
        upgraded = await upgrade_after_earn(
            tx, version, member.id, now, before=before, gained=points + welcome
        )
        return PurchaseRecorded(
            member_id=member.id,
            order_id=cmd.order_id,
            points=points,
            pending=pending and points > 0,
            tier=tier.key,
            balance=balance,
            upgraded_to=upgraded.key if upgraded else None,
            referral_points=welcome,
            points_discount=discount,
        )

    return await run_once(
        uow,
        clock,
        principal=principal,
        key=idempotency_key,
        operation="recordPurchase",
        request={
            **extras,
            **cmd.member.as_request(),
            "orderId": cmd.order_id,
            "amount": str(amount),
            "currency": cmd.currency,
            "channel": cmd.channel,
            "occurredAt": cmd.occurred_at.isoformat(),
        },
        action=action,
        codec=PURCHASERECORDED_CODEC,
    )
