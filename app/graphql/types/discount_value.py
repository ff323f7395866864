"""What a discount code is worth, typed, for a till or a checkout to apply."""

from __future__ import annotations

from decimal import Decimal

import strawberry

from app.domain.discount_values import DiscountLevel as DomainDiscountLevel
from app.domain.discount_values import DiscountValue as ValueRecord
from app.domain.discount_values import DiscountValueType as DomainDiscountValueType
from app.graphql.types.common import publish_enum

DiscountValueType = DomainDiscountValueType
publish_enum(
    DiscountValueType,
    "DiscountValueType",
    "What a discount code takes off.",
    {
        DiscountValueType.FIXED_AMOUNT: "A fixed amount (amount, in currency).",
        DiscountValueType.PERCENTAGE: "A percentage (percentage, more than 0, at most 100).",
        DiscountValueType.FREE_SHIPPING: "The shipping of the order (CHECK level).",
        DiscountValueType.FREE_ITEM: "One item, free (sku; ITEM level).",
    },
)
DiscountLevel = DomainDiscountLevel
publish_enum(
    DiscountLevel,
    "DiscountLevel",
    "What a discount applies to.",
    {
        DiscountLevel.CHECK: "The whole order (the check).",
        DiscountLevel.ITEM: "One item of the order: the one with the sku.",
    },
)


@strawberry.type(description="What one discount code is worth, as a till or checkout applies it.")
class DiscountValue:
    type: DiscountValueType = strawberry.field(description="What it takes off.")
    level: DiscountLevel = strawberry.field(description="The whole check or one item.")
    amount: Decimal | None = strawberry.field(
        description="FIXED_AMOUNT: the amount off, in currency; null for other types."
    )
    currency: str | None = strawberry.field(
        description="FIXED_AMOUNT: the amount's currency (ISO 4217, the program's); null "
        "for other types."
    )
    percentage: Decimal | None = strawberry.field(
        description="PERCENTAGE: the percent off, more than 0 and at most 100; null for "
        "other types."
    )
    sku: str | None = strawberry.field(
        description="FREE_ITEM: the free item; an ITEM-level amount or percentage: the item "
        "it applies to; null otherwise."
    )

    @classmethod
    def of(cls, v: ValueRecord) -> DiscountValue:
        return cls(
            type=v.type,
            level=v.level,
            amount=v.amount,
            currency=v.currency,
            percentage=v.percentage,
            sku=v.sku,
        )
