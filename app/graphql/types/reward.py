"""Rewards in the catalog, and a member's view of them."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import strawberry

from app.domain.records import Reward as RewardRecord
from app.domain.rewards import RewardKind as DomainRewardKind
from app.graphql.ids import to_global_id
from app.graphql.types.common import Node, UserErrorCode, publish_enum
from app.graphql.types.discount_value import DiscountValue
from app.services.queries import RewardAvailability as AvailabilityRecord

RewardKind = DomainRewardKind
publish_enum(
    RewardKind,
    "RewardKind",
    "What a reward gives the member.",
    {
        RewardKind.DISCOUNT_CODE: "A unique discount code per unit, which the member shows at "
        "checkout (Redemption.codes).",
        RewardKind.GIFT_CARD: "A gift card from a fulfilment provider, sent by e-mail or as a "
        "claim link (Redemption.delivery).",
        RewardKind.PHYSICAL: "Goods shipped to the member and tracked (SHIPPED, DELIVERED).",
        RewardKind.EXPERIENCE: "A seat at an event or a booking (Redemption.delivery has the "
        "booking reference).",
    },
)


@strawberry.type(description="What a GIFT_CARD reward sends.")
class GiftCardDetails:
    provider: str = strawberry.field(description="The program's provider that issues it.")
    product_id: str = strawberry.field(description="The provider's product.")
    face_value: Decimal = strawberry.field(description="The card's value.")
    currency: str = strawberry.field(description="The card's currency (ISO 4217).")
    delivery: str = strawberry.field(
        description="EMAIL (sent to the member's e-mail) or LINK (a claim link to show)."
    )


@strawberry.type(description="Something a member can spend points on.")
class Reward(Node):
    key: str = strawberry.field(description="The reward's stable id in the program file.")
    name: str = strawberry.field(description="The reward's display name.")
    description: str = strawberry.field(description="Text to show the member.")
    kind: RewardKind = strawberry.field(description="What redeeming it gives.")
    discount: str = strawberry.field(
        description="What the discount code is worth, as shown: the reward's own text, or one "
        'said by its value ("5.00 EUR off", "10% off", "Free shipping", "Free SKU-1").'
    )
    value: DiscountValue | None = strawberry.field(
        description="DISCOUNT_CODE: what each code is worth, typed, for a till or checkout to "
        "apply; null when the reward gives only the discount text, and for other kinds."
    )
    cost: int = strawberry.field(description="Points per unit.")
    stock: int | None = strawberry.field(description="Total stock; null means unlimited.")
    remaining_stock: int | None = strawberry.field(
        description="Units left: stock less those held or fulfilled (cancelled ones come back); "
        "null means unlimited."
    )
    min_tier: str | None = strawberry.field(description="Key of the lowest tier that may redeem.")
    per_member_limit: int | None = strawberry.field(
        description="The most units one member may redeem in all (cancelled ones do not "
        "count); null means no limit."
    )
    active: bool = strawberry.field(
        description="False while the active program does not list the reward: it is closed "
        "and cannot be redeemed."
    )
    active_from: datetime | None = strawberry.field(
        description="Redeemable from this moment; null means from the start."
    )
    active_until: datetime | None = strawberry.field(
        description="Redeemable until this moment, exclusive; null means no end."
    )
    visible_tiers: list[str] | None = strawberry.field(
        description="The tiers whose members see it (others never do); null: every tier."
    )
    limit_period: str = strawberry.field(
        description="What perMemberLimit counts: LIFETIME, or the redemptions of this DAY, "
        "MONTH or YEAR in the program's time zone."
    )
    deadline_hours: int = strawberry.field(
        description="Hours a redemption has to be fulfilled; then it fails and its points "
        "come back."
    )
    experience_at: datetime | None = strawberry.field(
        description="EXPERIENCE: when it takes place; it cannot be redeemed from then on. Null "
        "for other kinds."
    )
    gift_card: GiftCardDetails | None = strawberry.field(
        description="For a GIFT_CARD reward, what it sends; null for other kinds."
    )

    @classmethod
    def of(cls, r: RewardRecord) -> Reward:
        return cls(
            id=strawberry.ID(to_global_id("Reward", r.id)),
            key=r.key,
            name=r.name,
            description=r.description,
            kind=RewardKind(r.kind),
            discount=r.shown_discount,
            value=DiscountValue.of(r.value) if r.value else None,
            cost=r.cost,
            stock=r.stock,
            remaining_stock=r.remaining_stock,
            min_tier=r.min_tier,
            per_member_limit=r.per_member_limit,
            active=r.active,
            active_from=r.active_from,
            active_until=r.active_until,
            visible_tiers=list(r.visible_tiers) if r.visible_tiers else None,
            limit_period=r.limit_period,
            deadline_hours=r.deadline_hours,
            experience_at=r.experience_at,
            gift_card=GiftCardDetails(
                provider=r.provider or "",
                product_id=r.product_id or "",
                face_value=r.face_value,
                currency=r.face_currency or "",
                delivery=r.delivery or "EMAIL",
            )
            if r.kind == RewardKind.GIFT_CARD and r.face_value is not None
            else None,
        )


@strawberry.type(
    description="A reward as one member sees it: can they redeem it now, and if not, why."
)
class AvailableReward:
    reward: Reward = strawberry.field(description="The reward.")
    can_redeem: bool = strawberry.field(
        description="True when this member could redeem one unit now."
    )
    reason: UserErrorCode | None = strawberry.field(  # type: ignore[valid-type]
        description="Why not, when canRedeem is false: the first of REWARD_UNAVAILABLE, "
        "TIER_REQUIRED, LIMIT_REACHED, OUT_OF_STOCK, INSUFFICIENT_POINTS that applies; "
        "null when they can."
    )

    @classmethod
    def of(cls, a: AvailabilityRecord) -> AvailableReward:
        return cls(reward=Reward.of(a.reward), can_redeem=a.can_redeem, reason=a.reason)
