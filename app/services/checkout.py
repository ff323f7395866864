"""Points at checkout: a headless checkout or till holds a member's points against a cart
(a redemption of the system reward, with a one-use code), applies the discount they are
worth, and either an order pays the cart (recordPurchase with its cartId: the hold is
spent) or the checkout releases it, or the hold times out (the deadline sweep): the points
come back. Applying points again to a cart replaces its hold, under the member's lock, so
a cart never holds twice."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from app.domain.accounts import Account, TransferKind
from app.domain.checkout import CheckoutTerms
from app.domain.codes import new_discount_code
from app.domain.errors import DomainError, ErrorCode
from app.domain.lots import allocate
from app.domain.members import MemberStatus
from app.domain.points import currency_decimals, parse_amount
from app.domain.program import Program
from app.domain.records import Balance, CheckoutCart, Delivery, Member
from app.domain.rewards import RedemptionStatus, RewardKind
from app.domain.text import check_text
from app.ledger.uow import UnitOfWork, WriteTx
from app.services.clock import Clock
from app.services.codec import AnswerCodec
from app.services.common import MemberRef, active_program, lock_member
from app.services.idempotent import run_once
from app.services.lifecycle import move_redemption
from app.services.outcome import Outcome

MAX_POINTS = 10_000_000


@dataclass(frozen=True, slots=True)
class ApplyPointsAtCheckout:
    member: MemberRef
    cart_id: str
    points: int
    cart_total: str | None = None  # when given, the discount may not exceed it


@dataclass(frozen=True, slots=True)
class ReleaseCheckoutPoints:
    member: MemberRef
    cart_id: str


@dataclass(frozen=True, slots=True)
class CheckoutHeld:
    """A cart's points hold: the discount it is worth and the code that carries it."""

    member_id: int
    cart_id: str
    redemption_id: int
    points: int
    discount: Decimal
    currency: str
    code: str
    expires_at: datetime
    balance: Balance
    replaced_redemption_id: int | None = None  # the hold this one replaced


@dataclass(frozen=True, slots=True)
class CheckoutReleased:
    member_id: int
    cart_id: str
    redemption_id: int
    points: int
    balance: Balance


HELD_CODEC = AnswerCodec(CheckoutHeld)
RELEASED_CODEC = AnswerCodec(CheckoutReleased)


def checkout_terms(program: Program) -> CheckoutTerms:
    if program.checkout is None:
        raise DomainError(
            ErrorCode.INVALID_STATE,
            "This program takes no points at checkout (its program file has no [checkout]).",
            None,
        )
    return program.checkout


def _cart_id(cart_id: str) -> str:
    return check_text(cart_id, "cartId", limit=200)


def _taken(cart_id: str) -> DomainError:
    return DomainError(
        ErrorCode.INVALID_INPUT,
        f"Cart {cart_id!r} is another member's checkout: use a cart id of your own.",
        "cartId",
    )


def _own_cart(cart: CheckoutCart | None, member: Member, cart_id: str) -> CheckoutCart:
    """The member's cart; another member's is as unknown as none (its id says nothing)."""
    if cart is None or cart.member_id != member.id:
        raise DomainError(
            ErrorCode.CART_NOT_FOUND, f"No points are applied to cart {cart_id!r}.", "cartId"
        )
    return cart


async def _release(tx: WriteTx, clock: Clock, cart: CheckoutCart, actor: str, why: str) -> Balance:
    """Void the cart's hold if it still holds (CANCELLED): the points come back."""
    redemption = await tx.redemptions.get(cart.redemption_id)
    assert redemption is not None, "a redemption is never deleted"
    if redemption.status is not RedemptionStatus.HELD:
        raise DomainError(
            ErrorCode.INVALID_STATE,
            f"The points of cart {cart.cart_id!r} are no longer held "
            f"({redemption.status.value.lower()}).",
            "cartId",
        )
    moved = await move_redemption(
        tx, clock, redemption, RedemptionStatus.CANCELLED, actor=actor, detail=why
    )
    return moved.balance


async def apply_points_at_checkout(
    uow: UnitOfWork,
    clock: Clock,
    *,
    principal: str,
    idempotency_key: str,
    cmd: ApplyPointsAtCheckout,
) -> Outcome[CheckoutHeld]:
    try:
        cart_id = _cart_id(cmd.cart_id)
        if cmd.cart_total is not None:
            parse_amount(cmd.cart_total, field="cartTotal")  # its decimals: once in the tx
        if not 1 <= cmd.points <= MAX_POINTS:
            raise DomainError(
                ErrorCode.INVALID_INPUT, f"points must be 1 to {MAX_POINTS:,}", "points"
            )
    except DomainError as error:
        return Outcome.failure(error)

    async def action(tx: WriteTx) -> CheckoutHeld:
        now = clock.now()
        member, balance = await lock_member(tx, cmd.member)
        if member.status is MemberStatus.SUSPENDED:
            raise DomainError(
                ErrorCode.MEMBER_SUSPENDED,
                "This member is suspended and cannot redeem until reactivated.",
                "memberId" if cmd.member.id is not None else "externalId",
            )
        version = await active_program(tx)
        program = version.program
        terms = checkout_terms(program)
        refusal = terms.refusal(cmd.points)
        if refusal:
            raise DomainError(ErrorCode.INVALID_INPUT, refusal, "points")
        decimals = currency_decimals(program.currency)
        total = None
        if cmd.cart_total is not None:
            total = parse_amount(
                cmd.cart_total, field="cartTotal", decimals=decimals, currency=program.currency
            )
        discount = terms.discount(cmd.points, decimals)
        if discount <= 0:
            raise DomainError(
                ErrorCode.INVALID_INPUT,
                f"{cmd.points} points take nothing off in {program.currency}: apply more",
                "points",
            )
        if total is not None and discount > total:
            raise DomainError(
                ErrorCode.INVALID_INPUT,
                f"{cmd.points} points take {discount} {program.currency} off, more than the "
                f"cart's total of {total}",
                "points",
            )
        cart = await tx.checkouts.get(cart_id)
        replaced: int | None = None
        if cart is not None and cart.member_id != member.id:
            raise _taken(cart_id)
        if cart is not None:
            if cart.order_ref is not None:
                raise DomainError(
                    ErrorCode.INVALID_STATE,
                    f"Cart {cart_id!r} is already paid (order {cart.order_ref}).",
                    "cartId",
                )
            held = await tx.redemptions.get(cart.redemption_id)
            if held is not None and held.status is RedemptionStatus.FULFILLED:
                raise DomainError(  # a till used its code: those points are spent on it
                    ErrorCode.INVALID_STATE,
                    f"The points of cart {cart_id!r} were used at a till: record its order "
                    "(recordPurchase with cartId).",
                    "cartId",
                )
            if held is not None and held.status is RedemptionStatus.HELD:
                balance = await _release(
                    tx, clock, cart, principal, "replaced by a new hold at checkout"
                )
                replaced = held.id
        if balance.available < cmd.points:
            raise DomainError(
                ErrorCode.INSUFFICIENT_POINTS, "Not enough available points.", "points"
            )
        reward = await tx.catalog.checkout_reward()
        code = new_discount_code()
        expires_at = now + timedelta(minutes=terms.hold_minutes)
        worth = f"{discount} {program.currency} off"
        allocations = allocate(await tx.lots.spendable(member.id), cmd.points)
        await tx.lots.take(allocations)
        redemption_id = await tx.redemptions.create(
            member_id=member.id,
            reward_id=reward.id,
            kind=RewardKind.DISCOUNT_CODE,
            quantity=1,
            points=cmd.points,
            codes=[code],
            now=now,
            deadline_at=expires_at,
            delivery=Delivery(
                code_value=worth,
                code_amount=discount,
                code_currency=program.currency,
                note=f"cart {cart_id}",
            ),
        )
        await tx.lots.record_hold(redemption_id, allocations)
        created = await tx.redemptions.get(redemption_id)
        assert created is not None
        await tx.redemptions.record_change(
            created,
            RedemptionStatus.HELD,
            at=now,
            actor=principal,
            detail=f"{cmd.points} points at checkout for cart {cart_id}: {worth}",
        )
        posted = await tx.transfers.post(
            kind=TransferKind.HOLD,
            member_id=member.id,
            debit=Account.AVAILABLE,
            credit=Account.HELD,
            amount=cmd.points,
            now=now,
            redemption_id=redemption_id,
            reference=f"checkout:{cart_id}"[:200],
            program_version=version.version,
        )
        if cart is None:
            opened = await tx.checkouts.open(
                cart_id=cart_id,
                member_id=member.id,
                redemption_id=redemption_id,
                points=cmd.points,
                discount=discount,
                currency=program.currency,
                now=now,
            )
            if not opened:  # another member's checkout took this cart id first
                raise _taken(cart_id)
        else:
            await tx.checkouts.replace(
                cart_id, redemption_id=redemption_id, points=cmd.points, discount=discount, now=now
            )
        return CheckoutHeld(
            member_id=member.id,
            cart_id=cart_id,
            redemption_id=redemption_id,
            points=cmd.points,
            discount=discount,
            currency=program.currency,
            code=code,
            expires_at=expires_at,
            balance=posted.balance,
            replaced_redemption_id=replaced,
        )

    return await run_once(
        uow,
        clock,
        principal=principal,
        key=idempotency_key,
        operation="applyPointsAtCheckout",
        request={
            **cmd.member.as_request(),
            "cartId": cmd.cart_id,
            "points": cmd.points,
            "cartTotal": cmd.cart_total,
        },
        action=action,
        codec=HELD_CODEC,
    )


async def release_checkout_points(
    uow: UnitOfWork,
    clock: Clock,
    *,
    principal: str,
    idempotency_key: str,
    cmd: ReleaseCheckoutPoints,
) -> Outcome[CheckoutReleased]:
    try:
        cart_id = _cart_id(cmd.cart_id)
    except DomainError as error:
        return Outcome.failure(error)

    async def action(tx: WriteTx) -> CheckoutReleased:
        member, _ = await lock_member(tx, cmd.member)
        cart = _own_cart(await tx.checkouts.get(cart_id), member, cart_id)
        if cart.order_ref is not None:
            raise DomainError(
                ErrorCode.INVALID_STATE,
                f"Cart {cart_id!r} is already paid (order {cart.order_ref}).",
                "cartId",
            )
        balance = await _release(tx, clock, cart, principal, "released at checkout")
        return CheckoutReleased(member.id, cart_id, cart.redemption_id, cart.points, balance)

    return await run_once(
        uow,
        clock,
        principal=principal,
        key=idempotency_key,
        operation="releaseCheckoutPoints",
        request={**cmd.member.as_request(), "cartId": cmd.cart_id},
        action=action,
        codec=RELEASED_CODEC,
    )


async def pay_cart(
    tx: WriteTx,
    clock: Clock,
    member: Member,
    cart_id: str,
    *,
    order_ref: str,
    currency: str,
    actor: str,
) -> CheckoutCart:
    """recordPurchase's step for an order paid partly with points: the cart's hold is spent
    (FULFILLED, if a till has not used its code already) and the cart marked paid. The
    cart's discount is what the order's amount is reduced by."""
    cart = _own_cart(await tx.checkouts.get(cart_id), member, cart_id)
    if cart.order_ref is not None:
        raise DomainError(
            ErrorCode.INVALID_STATE,
            f"Cart {cart_id!r} is already paid (order {cart.order_ref}).",
            "cartId",
        )
    if cart.currency != currency:
        raise DomainError(
            ErrorCode.INVALID_STATE,
            f"The points of cart {cart_id!r} were applied in {cart.currency}: release them "
            "and apply them again.",
            "cartId",
        )
    redemption = await tx.redemptions.get(cart.redemption_id)
    assert redemption is not None, "a redemption is never deleted"
    lapsed = redemption.deadline_at is not None and clock.now() >= redemption.deadline_at
    if redemption.status is RedemptionStatus.HELD and lapsed:
        raise DomainError(  # the sweep returns its points; paying now would race it
            ErrorCode.INVALID_STATE,
            f"The points hold of cart {cart_id!r} lapsed at "
            f"{redemption.deadline_at.isoformat() if redemption.deadline_at else ''}: apply "
            "points again, or record the order without cartId.",
            "cartId",
        )
    if redemption.status is RedemptionStatus.HELD:
        await move_redemption(
            tx,
            clock,
            redemption,
            RedemptionStatus.FULFILLED,
            actor=actor,
            detail=f"paid order {order_ref}",
        )
    elif redemption.status is not RedemptionStatus.FULFILLED:
        raise DomainError(
            ErrorCode.INVALID_STATE,
            f"The points of cart {cart_id!r} were released "
            f"({redemption.status.value.lower()}): apply them again, or record the order "
            "without cartId.",
            "cartId",
        )
    await tx.checkouts.mark_paid(cart_id, order_ref, clock.now())
    return cart
