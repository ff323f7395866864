"""A member's standing with the program, and what erasure leaves of them."""

from __future__ import annotations

import hashlib
from enum import StrEnum


class MemberStatus(StrEnum):
    """ACTIVE earns and redeems; SUSPENDED (a fraud hold) keeps earning but cannot redeem;
    ERASED has had its personal data removed: its ledger stays, it takes no more writes."""

    ACTIVE = "ACTIVE"
    SUSPENDED = "SUSPENDED"
    ERASED = "ERASED"


#: An erased member's external id: `erased-` and a digest that says nothing of the old id.
ERASED_PREFIX = "erased-"


def pseudonym(member_id: int, salt: str) -> str:
    """The external id an erased member keeps: stable, unique, not derived from their data."""
    digest = hashlib.sha256(f"{salt}:{member_id}".encode()).hexdigest()[:24]
    return f"{ERASED_PREFIX}{digest}"
