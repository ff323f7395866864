"""Rows to domain records: a table row never leaves the ledger package."""

from __future__ import annotations

from typing import Any

from app.domain.discount_values import DiscountValue
from app.domain.members import MemberStatus
from app.domain.records import (
    Balance,
    Delivery,
    Member,
    Order,
    Redemption,
    RedemptionChange,
    Reward,
)
from app.domain.rewards import RedemptionStatus, RewardKind
from app.domain.shipping import ShippingAddress


def member(row: Any) -> Member:
    return Member(
        id=row.id,
        external_id=row.external_id,
        enrolled_at=row.enrolled_at,
        email=row.email,
        display_name=row.display_name,
        referral_code=row.referral_code,
        referred_by=row.referred_by,
        status=MemberStatus(row.status),
        status_reason=row.status_reason,
        status_changed_at=row.status_changed_at,
    )


def balance(row: Any) -> Balance:
    return Balance(
        member_id=row.member_id,
        available=row.available,
        pending=row.pending,
        held=row.held,
        lifetime_earned=row.lifetime_earned,
        version=row.version,
    )


def order(row: Any) -> Order:
    return Order(
        id=row.id,
        order_ref=row.order_ref,
        member_id=row.member_id,
        amount=row.amount,
        currency=row.currency,
        channel=row.channel,
        points_earned=row.points_earned,
        returned_amount=row.returned_amount,
        points_reversed=row.points_reversed,
        shortfall=row.shortfall,
        occurred_at=row.occurred_at,
        lines=row.lines,
        explanation=row.explanation,
        recorded_at=row.created_at,
        points_discount=row.points_discount,
    )


def reward(row: Any) -> Reward:
    return Reward(
        id=row.id,
        key=row.key,
        name=row.name,
        description=row.description,
        kind=row.kind,
        discount=row.discount,
        cost=row.cost,
        stock=row.stock,
        redeemed=row.redeemed,
        min_tier=row.min_tier,
        per_member_limit=row.per_member_limit,
        active=row.active,
        active_from=row.active_from,
        active_until=row.active_until,
        provider=row.provider,
        product_id=row.product_id,
        face_value=row.face_value,
        face_currency=row.face_currency,
        delivery=row.delivery,
        deadline_hours=row.deadline_hours,
        source=row.source,
        code_source=row.code_source,
        visible_tiers=tuple(row.visible_tiers) if row.visible_tiers else None,
        limit_period=row.limit_period,
        value=DiscountValue.of(
            row.value_type, row.value_level, row.value_amount, row.value_currency, row.value_sku
        )
        if row.value_type
        else None,
        experience_at=row.experience_at,
    )


def redemption(row: Any) -> Redemption:
    return Redemption(
        id=row.id,
        member_id=row.member_id,
        reward_id=row.reward_id,
        quantity=row.quantity,
        points=row.points,
        status=RedemptionStatus(row.status),
        codes=tuple(row.codes or ()),
        created_at=row.created_at,
        resolved_at=row.resolved_at,
        kind=RewardKind(row.kind),
        updated_at=row.updated_at,
        delivery=Delivery.from_stored(row.delivery) if row.delivery else None,
        deadline_at=row.deadline_at,
        shipping_address=ShippingAddress.from_stored(row.shipping_address)
        if row.shipping_address
        else None,
    )


def redemption_change(row: Any) -> RedemptionChange:
    return RedemptionChange(
        id=row.id,
        redemption_id=row.redemption_id,
        member_id=row.member_id,
        version=row.version,
        status=RedemptionStatus(row.status),
        at=row.at,
        actor=row.actor,
        detail=row.detail,
    )
