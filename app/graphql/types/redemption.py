"""Redemptions: a reward taken, its points held until it arrives, or returned; its history
and what the member got."""

from __future__ import annotations

from datetime import datetime

import strawberry

from app.domain.discount_values import DiscountLevel, DiscountValueType
from app.domain.discount_values import DiscountValue as ValueRecord
from app.domain.records import Delivery
from app.domain.records import Redemption as RedemptionRecord
from app.domain.records import RedemptionChange as ChangeRecord
from app.domain.records import Reward as RewardRecord
from app.domain.rewards import RedemptionStatus as DomainRedemptionStatus
from app.graphql.context import Context
from app.graphql.ids import to_global_id
from app.graphql.types.common import Node, publish_enum
from app.graphql.types.discount_value import DiscountValue
from app.graphql.types.reward import Reward, RewardKind
from app.graphql.types.shipping import ShippingAddress

RedemptionStatus = DomainRedemptionStatus
publish_enum(  # the domain enum, published as is
    RedemptionStatus,
    "RedemptionStatus",
    "Where a redemption is: HELD, then FULFILLING with a provider, then FULFILLED (or "
    "SHIPPED and DELIVERED for goods); FAILED or CANCELLED return the points. The hold is "
    "spent or returned exactly once.",
    {
        RedemptionStatus.HELD: "Points reserved (and codes issued for a discount code); not "
        "yet handed to a provider.",
        RedemptionStatus.FULFILLING: "Handed to a provider, a warehouse or the venue; the "
        "points are still held.",
        RedemptionStatus.FULFILLED: "The member has it (a code used, a gift card delivered, "
        "an experience booked): the held points are spent. Final.",
        RedemptionStatus.SHIPPED: "Physical goods on their way (see delivery for tracking): "
        "the held points are spent.",
        RedemptionStatus.DELIVERED: "Physical goods delivered. Final.",
        RedemptionStatus.FAILED: "Fulfilment failed or its deadline passed: the held points "
        "went back to available. Final.",
        RedemptionStatus.CANCELLED: "Cancelled before fulfilment: the held points went back "
        "to available and the codes lapsed. Final.",
    },
)


def _code_value(reward: RewardRecord | None, d: Delivery) -> DiscountValue | None:
    """What a code takes off: the reward's value, or a checkout hold's amount off the check."""
    if reward is not None and reward.value is not None:
        return DiscountValue.of(reward.value)
    if d.code_amount is not None:
        return DiscountValue.of(
            ValueRecord(
                DiscountValueType.FIXED_AMOUNT,
                DiscountLevel.CHECK,
                amount=d.code_amount,
                currency=d.code_currency,
            )
        )
    return None


@strawberry.type(description="One change of a redemption's status.")
class RedemptionChange:
    status: RedemptionStatus = strawberry.field(description="The status it moved to.")
    at: datetime = strawberry.field(description="When.")
    actor: str = strawberry.field(
        description="Who or what made it: member:<externalId>, client:<clientId>, "
        "provider:<name> or system (a deadline)."
    )
    detail: str = strawberry.field(description="Why, or what came with it (carrier, note).")
    version: int = strawberry.field(
        description="The member's redemption-change number (redemptionUpdated resumes from it)."
    )

    @classmethod
    def of(cls, c: ChangeRecord) -> RedemptionChange:
        return cls(
            status=RedemptionStatus(c.status),
            at=c.at,
            actor=c.actor,
            detail=c.detail,
            version=c.version,
        )


@strawberry.type(
    description="What the member got, as far as it is known; fields that do not apply are null."
)
class RedemptionDelivery:
    codes: list[str] = strawberry.field(description="Discount codes, one per unit.")
    code_value: str | None = strawberry.field(
        description="What each code is worth, as shown (the reward's discount)."
    )
    value: DiscountValue | None = strawberry.field(
        description="What each code is worth, typed (the reward's value), for a till that "
        "scanned one to apply; null without codes or a typed value."
    )
    claim_links: list[str] = strawberry.field(
        description="Gift card claim links, one per card, when delivered as links."
    )
    sent_to: str | None = strawberry.field(
        description="The e-mail address a gift card was sent to."
    )
    shipping_address: ShippingAddress | None = strawberry.field(
        description="PHYSICAL: where it ships, as given with redeemReward; null once the "
        "member is erased."
    )
    carrier: str | None = strawberry.field(description="The carrier of shipped goods.")
    tracking_number: str | None = strawberry.field(description="The parcel's tracking number.")
    tracking_url: str | None = strawberry.field(description="Where to follow the parcel.")
    booking_reference: str | None = strawberry.field(
        description="An experience's booking reference."
    )
    experience_at: datetime | None = strawberry.field(
        description="When the experience takes place (the reward's experienceAt)."
    )
    note: str | None = strawberry.field(description="The latest note from staff or the 3PL.")


@strawberry.type(
    description="A reward a member took: its points are held until it is fulfilled, or "
    "returned if it fails or is cancelled."
)
class Redemption(Node):
    quantity: int = strawberry.field(description="Units of the reward redeemed.")
    points: int = strawberry.field(description="Points it takes: the reward's cost times quantity.")
    kind: RewardKind = strawberry.field(description="The reward's kind when it was redeemed.")
    status: RedemptionStatus = strawberry.field(
        description="Where it is in its lifecycle (see RedemptionStatus)."
    )
    codes: list[str] = strawberry.field(
        description="The discount codes to show the member, one per unit; empty for other kinds."
    )
    created_at: datetime = strawberry.field(description="When it was redeemed.")
    updated_at: datetime = strawberry.field(description="When its status last changed.")
    resolved_at: datetime | None = strawberry.field(
        description="When its points were spent or returned; null while they are held."
    )
    deadline_at: datetime | None = strawberry.field(
        description="If it still holds points then, it fails and they come back."
    )
    reward_pk: strawberry.Private[int]
    member_pk: strawberry.Private[int]
    record: strawberry.Private[RedemptionRecord]

    @strawberry.field(
        description="The reward redeemed. A reward dropped from the program is closed, not "
        "deleted, so it still shows."
    )
    async def reward(self, info: strawberry.Info[Context, None]) -> Reward | None:
        found = await info.context.loaders.reward.load(self.reward_pk)
        return Reward.of(found) if found else None

    @strawberry.field(description="Every change of its status, oldest first.")
    async def history(self, info: strawberry.Info[Context, None]) -> list[RedemptionChange]:
        found = await info.context.loaders.redemption_history.load(self.record.id)
        return [RedemptionChange.of(c) for c in found or []]

    @strawberry.field(description="What the member got: codes, gift card, tracking, booking.")
    async def delivery(self, info: strawberry.Info[Context, None]) -> RedemptionDelivery:
        reward = await info.context.loaders.reward.load(self.reward_pk)
        d = self.record.delivery or Delivery()
        return RedemptionDelivery(
            codes=list(self.record.codes),
            code_value=(d.code_value or (reward.shown_discount if reward else "") or None)
            if self.record.codes
            else None,
            value=_code_value(reward, d) if self.record.codes else None,
            claim_links=list(d.claim_links),
            sent_to=d.sent_to,
            shipping_address=ShippingAddress.of(self.record.shipping_address)
            if self.record.shipping_address
            else None,
            carrier=d.carrier,
            tracking_number=d.tracking_number,
            tracking_url=d.tracking_url,
            booking_reference=d.booking_reference,
            experience_at=reward.experience_at if reward else None,
            note=d.note,
        )

    @classmethod
    def of(cls, r: RedemptionRecord) -> Redemption:
        return cls(
            id=strawberry.ID(to_global_id("Redemption", r.id)),
            quantity=r.quantity,
            points=r.points,
            kind=RewardKind(r.kind),
            status=RedemptionStatus(r.status),
            codes=list(r.codes),
            created_at=r.created_at,
            updated_at=r.updated_at or r.resolved_at or r.created_at,
            resolved_at=r.resolved_at,
            deadline_at=r.deadline_at,
            reward_pk=r.reward_id,
            member_pk=r.member_id,
            record=r,
        )
