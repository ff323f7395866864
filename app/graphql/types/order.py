"""What a purchase looks like on the way in: channel and lines."""

from __future__ import annotations

from decimal import Decimal

import strawberry

from app.domain.order_lines import LineInput
from app.domain.rule_definitions import Channel as DomainChannel

Channel = DomainChannel
strawberry.enum(
    Channel, name="Channel", description="Where the purchase happened."
)  # the domain enum, published as is


@strawberry.input(description="One line of an order; rules apply per line, after discounts.")
class OrderLineInput:
    sku: str
    category: str | None = None
    quantity: int = 1
    unit_price: Decimal
    discount: Decimal = Decimal(0)

    def to_domain(self) -> LineInput:
        return LineInput(
            sku=self.sku,
            quantity=self.quantity,
            unit_price=str(self.unit_price),
            category=self.category,
            discount=str(self.discount),
        )
