"""Where a PHYSICAL reward ships: given with redeemReward, shown in Redemption.delivery."""

from __future__ import annotations

import strawberry

from app.domain.shipping import ShippingAddress as AddressRecord


@strawberry.input(description="Where a PHYSICAL reward is shipped.")
class ShippingAddressInput:
    name: str = strawberry.field(description="The recipient, 1 to 200 characters.")
    line1: str = strawberry.field(description="Street and number, 1 to 200 characters.")
    city: str = strawberry.field(description="City or town, 1 to 100 characters.")
    postal_code: str = strawberry.field(description="Postal code, 1 to 20 characters.")
    country: str = strawberry.field(description="ISO 3166-1 alpha-2 country code, such as DE.")
    line2: str | None = strawberry.field(
        default=None, description="More of the address (floor, c/o), at most 200 characters."
    )
    region: str | None = strawberry.field(
        default=None, description="State, province or county, at most 100 characters."
    )
    phone: str | None = strawberry.field(
        default=None, description="A phone number for the carrier, at most 40 characters."
    )

    def record(self) -> AddressRecord:
        return AddressRecord(
            name=self.name,
            line1=self.line1,
            city=self.city,
            postal_code=self.postal_code,
            country=self.country,
            line2=self.line2,
            region=self.region,
            phone=self.phone,
        )


@strawberry.type(description="Where a PHYSICAL reward is shipped (null once the member is erased).")
class ShippingAddress:
    name: str = strawberry.field(description="The recipient.")
    line1: str = strawberry.field(description="Street and number.")
    line2: str | None = strawberry.field(description="More of the address, if given.")
    city: str = strawberry.field(description="City or town.")
    region: str | None = strawberry.field(description="State, province or county, if given.")
    postal_code: str = strawberry.field(description="Postal code.")
    country: str = strawberry.field(description="ISO 3166-1 alpha-2 country code.")
    phone: str | None = strawberry.field(description="A phone number for the carrier, if given.")

    @classmethod
    def of(cls, a: AddressRecord) -> ShippingAddress:
        return cls(
            name=a.name,
            line1=a.line1,
            line2=a.line2,
            city=a.city,
            region=a.region,
            postal_code=a.postal_code,
            country=a.country,
            phone=a.phone,
        )
