"""What a purchase looks like on the way in: channel and lines."""

from __future__ import annotations

from decimal import Decimal

import strawberry

from app.domain.order_lines import LineInput
from app.domain.rule_definitions import Channel as DomainChannel
from app.graphql.types.common import publish_enum

Channel = DomainChannel
publish_enum(  # the domain enum, published as is
    Channel,
    "Channel",
    "Where the purchase happened; earning rules may apply to some channels only.",
    {
        DomainChannel.POS: "In a store, at a point-of-sale till.",
        DomainChannel.ONLINE: "In the web shop.",
        DomainChannel.APP: "In the retailer's mobile app.",
        DomainChannel.OTHER: "Anywhere else (phone orders, marketplaces, ...).",
    },
)


@strawberry.input(description="One line of an order; rules apply per line, after discounts.")
class OrderLineInput:
    sku: str = strawberry.field(
        description="The product's SKU, for SKU conditions of earning rules; 1 to 100 characters."
    )
    category: str | None = strawberry.field(
        default=None,
        description="The product's category, for category conditions; at most 100 characters.",
    )
    quantity: int = strawberry.field(default=1, description="Units on the line: 1 to 100000.")
    unit_price: Decimal = strawberry.field(
        description="The price of one unit before discount, in the order's currency."
    )
    discount: Decimal = strawberry.field(
        default=Decimal(0),
        description="The discount on the whole line (not per unit), in the order's currency; "
        "at most quantity times unitPrice.",
    )

    def to_domain(self) -> LineInput:
        return LineInput(
            sku=self.sku,
            quantity=self.quantity,
            unit_price=str(self.unit_price),
            category=self.category,
            discount=str(self.discount),
        )
