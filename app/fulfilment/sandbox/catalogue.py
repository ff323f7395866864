"""The sandbox's product catalogue: a few gift cards in EUR and USD, fixed and variable.

A `Variable` product lists its smallest and largest value as its two `Denominations`.
The deposit account is kept in EUR; a USD card is charged at a fixed sandbox rate.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

ACCOUNT_CURRENCY = "EUR"
TO_ACCOUNT_CURRENCY = {"EUR": Decimal("1"), "USD": Decimal("0.92")}
CENT = Decimal("0.01")

DIGITAL = "DigitalDelivery"
LINKS = "Links"
PHYSICAL = "PhysicalShipment"
DELIVERY_TYPES = (DIGITAL, LINKS, PHYSICAL)


@dataclass(frozen=True, slots=True)
class Product:
    """One gift card the account may order."""

    id: str
    name: str
    currency: str
    denomination_type: str  # Fixed | Variable
    denominations: tuple[Decimal, ...]
    delivery_types: tuple[str, ...]
    fee: Decimal = Decimal("0")
    discount_percentage: Decimal = Decimal("0")
    kind: str = "Digital"

    def accepts(self, value: Decimal) -> bool:
        """Whether `value` is one of the denominations (Fixed) or within the range."""
        if self.denomination_type == "Variable":
            low, high = self.denominations
            return low <= value <= high and value == value.quantize(CENT)
        return value in self.denominations

    def charge(self, value: Decimal) -> Decimal:
        """What one card of `value` costs the deposit account, in the account currency."""
        price = value * (1 - self.discount_percentage / 100) + self.fee
        return (price * TO_ACCOUNT_CURRENCY[self.currency]).quantize(CENT, ROUND_HALF_UP)

    def to_json(self) -> dict[str, object]:
        """The product as `GET /v1/Products` lists it."""
        return {
            "Id": self.id,
            "Name": self.name,
            "Denominations": list(self.denominations),
            "AvailableDeliveryTypes": list(self.delivery_types),
            "Type": self.kind,
            "DenominationType": self.denomination_type,
            "Cost": {"Fee": self.fee, "DiscountPercentage": self.discount_percentage},
            "CurrencyCode": self.currency,
            "Translations": [
                {"CultureCode": "en", "Name": self.name, "Description": f"{self.name} gift card"},
                {"CultureCode": "de", "Name": self.name, "Description": f"{self.name} Gutschein"},
            ],
        }


def _money(*values: str) -> tuple[Decimal, ...]:
    return tuple(Decimal(v) for v in values)


PRODUCTS: dict[str, Product] = {
    p.id: p
    for p in (
        Product(
            "ZALANDO-EUR",
            "Zalando",
            "EUR",
            "Fixed",
            _money("10", "25", "50", "100"),
            (DIGITAL, LINKS),
            discount_percentage=Decimal("2"),
        ),
        Product(
            "AMAZON-DE",
            "Amazon.de",
            "EUR",
            "Variable",
            _money("5", "500"),
            (DIGITAL, LINKS),
            fee=Decimal("0.50"),
        ),
        Product("CVS", "CVS Pharmacy", "USD", "Fixed", _money("10", "20", "50"), (DIGITAL, LINKS)),
        Product(
            "VISA-US",
            "Visa Prepaid",
            "USD",
            "Variable",
            _money("20", "1000"),
            (PHYSICAL,),
            fee=Decimal("3.95"),
            kind="Physical",
        ),
    )
}
