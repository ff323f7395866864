"""Where a PHYSICAL reward is shipped: the address given when it is redeemed, checked as
any text Tally stores (lengths, no control characters) and wiped when the member is erased."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from app.domain.errors import DomainError, ErrorCode
from app.domain.text import check_text

#: ISO 3166-1 alpha-2 codes (the 249 assigned ones, as the tz database lists them).
COUNTRIES = frozenset(
    (
        "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN "
        "BO BQ BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ "
        "DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL "
        "GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM "
        "JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME "
        "MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP "
        "NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD "
        "SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO "
        "TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW "
    ).split()
)
FIELD = "shippingAddress"
#: Each part: its GraphQL name, its most characters, whether it is required.
PARTS = (
    ("name", "name", 200, True),
    ("line1", "line1", 200, True),
    ("line2", "line2", 200, False),
    ("city", "city", 100, True),
    ("region", "region", 100, False),
    ("postal_code", "postalCode", 20, True),
    ("country", "country", 2, True),
    ("phone", "phone", 40, False),
)


@dataclass(frozen=True, slots=True)
class ShippingAddress:
    name: str
    line1: str
    city: str
    postal_code: str
    country: str  # ISO 3166-1 alpha-2
    line2: str | None = None
    region: str | None = None
    phone: str | None = None

    def checked(self) -> ShippingAddress:
        """This address, or INVALID_INPUT on shippingAddress.<part> saying what is wrong."""
        stored = self.as_stored()
        for key, name, limit, required in PARTS:
            value = stored.get(key)
            if value is None and not required:
                continue
            check_text(value or "", f"{FIELD}.{name}", limit=limit, required=True)
        if self.country not in COUNTRIES:
            raise DomainError(
                ErrorCode.INVALID_INPUT,
                f"{FIELD}.country: an ISO 3166-1 alpha-2 code such as DE is required "
                f"(got {self.country[:10]!r})",
                f"{FIELD}.country",
            )
        return self

    def as_stored(self) -> dict[str, str]:
        found = {
            "name": self.name,
            "line1": self.line1,
            "line2": self.line2,
            "city": self.city,
            "region": self.region,
            "postal_code": self.postal_code,
            "country": self.country,
            "phone": self.phone,
        }
        return {k: v for k, v in found.items() if v is not None}

    @classmethod
    def from_stored(cls, stored: Mapping[str, str]) -> ShippingAddress:
        return cls(
            name=stored["name"],
            line1=stored["line1"],
            city=stored["city"],
            postal_code=stored["postal_code"],
            country=stored["country"],
            line2=stored.get("line2"),
            region=stored.get("region"),
            phone=stored.get("phone"),
        )
