"""Ledger accounts and transfer kinds: the vocabulary of the double-entry points ledger."""

from __future__ import annotations

from enum import StrEnum


class Account(StrEnum):
    """Member accounts carry a balance row; program accounts are sums of entries."""

    AVAILABLE = "available"
    PENDING = "pending"
    HELD = "held"
    ISSUED = "issued"
    REDEEMED = "redeemed"
    EXPIRED = "expired"
    ADJUSTED = "adjusted"

    @property
    def is_member_account(self) -> bool:
        return self in MEMBER_ACCOUNTS


class MemberAccount(StrEnum):
    """The accounts a member holds a balance in: the member side of `Account`, same values."""

    AVAILABLE = "available"
    PENDING = "pending"
    HELD = "held"


MEMBER_ACCOUNTS = frozenset(Account(a.value) for a in MemberAccount)


class TransferKind(StrEnum):
    EARN = "EARN"  # issued -> available | pending
    RELEASE = "RELEASE"  # pending -> available (return window over)
    RETURN = "RETURN"  # available | pending -> issued (earn reversed)
    HOLD = "HOLD"  # available -> held (redemption reserved)
    POST = "POST"  # held -> redeemed (redemption fulfilled)
    VOID = "VOID"  # held -> available (redemption cancelled)
    ADJUST = "ADJUST"  # adjusted <-> available (staff correction)
    EXPIRE = "EXPIRE"  # available -> expired (lot reached expires_at)
