"""The redemption lifecycle: which status may follow which, for each kind of reward, and
what each change does to the points held.

    HELD ──▶ FULFILLING ──▶ FULFILLED                 (gift cards, experiences, codes)
      │           │    └──▶ SHIPPED ──▶ DELIVERED      (physical goods)
      │           └──▶ FAILED                          (points back)
      ├──▶ CANCELLED                                   (points back; only before fulfilment)
      └──▶ FAILED                                      (points back)

A discount code goes from HELD to FULFILLED when a till or checkout uses it; staff (or a
3PL) may skip FULFILLING for goods and experiences. The hold is posted when the member has
what they redeemed (FULFILLED; SHIPPED for goods) and voided at FAILED or CANCELLED, so it
resolves exactly once: no status after a posted or voided hold can resolve it again.
"""

from __future__ import annotations

from enum import StrEnum

from app.domain.errors import DomainError, ErrorCode
from app.domain.rewards import RedemptionStatus, RewardKind

S = RedemptionStatus


class HoldEffect(StrEnum):
    """What a change of status does to the redemption's held points."""

    NONE = "NONE"  # still held (or already resolved)
    POST = "POST"  # spent: held -> redeemed
    VOID = "VOID"  # returned: held -> available


_COMMON: dict[RedemptionStatus, frozenset[RedemptionStatus]] = {
    S.HELD: frozenset({S.FULFILLING, S.FULFILLED, S.CANCELLED, S.FAILED}),
    S.FULFILLING: frozenset({S.FULFILLED, S.FAILED}),
}
_PHYSICAL: dict[RedemptionStatus, frozenset[RedemptionStatus]] = {
    S.HELD: frozenset({S.FULFILLING, S.SHIPPED, S.CANCELLED, S.FAILED}),
    S.FULFILLING: frozenset({S.SHIPPED, S.FAILED}),
    S.SHIPPED: frozenset({S.DELIVERED}),
}
_DISCOUNT_CODE: dict[RedemptionStatus, frozenset[RedemptionStatus]] = {
    S.HELD: frozenset({S.FULFILLED, S.CANCELLED, S.FAILED}),
}

TRANSITIONS: dict[RewardKind, dict[RedemptionStatus, frozenset[RedemptionStatus]]] = {
    RewardKind.DISCOUNT_CODE: _DISCOUNT_CODE,
    RewardKind.GIFT_CARD: _COMMON,
    RewardKind.EXPERIENCE: _COMMON,
    RewardKind.PHYSICAL: _PHYSICAL,
}

#: Statuses after which nothing changes.
FINAL = frozenset({S.FULFILLED, S.DELIVERED, S.CANCELLED, S.FAILED})
#: Statuses whose hold is still open (points held).
OPEN = frozenset({S.HELD, S.FULFILLING})


def next_statuses(kind: RewardKind, current: RedemptionStatus) -> frozenset[RedemptionStatus]:
    """Where a redemption of this kind may go from `current`."""
    return TRANSITIONS[kind].get(current, frozenset())


def hold_effect(current: RedemptionStatus, to: RedemptionStatus) -> HoldEffect:
    """What moving from `current` to `to` does to the hold (the move being legal)."""
    if current not in OPEN:
        return HoldEffect.NONE  # posted at SHIPPED; DELIVERED changes nothing more
    if to in (S.FULFILLED, S.SHIPPED):
        return HoldEffect.POST
    if to in (S.CANCELLED, S.FAILED):
        return HoldEffect.VOID
    return HoldEffect.NONE


def check_transition(
    kind: RewardKind, current: RedemptionStatus, to: RedemptionStatus
) -> HoldEffect:
    """The hold effect of a legal move; an illegal one is refused with INVALID_TRANSITION
    and a message naming where the redemption may go."""
    allowed = next_statuses(kind, current)
    if to not in allowed:
        if current in FINAL:
            where = f"it is {current.value}, which is final"
        else:
            where = "it can go to " + ", ".join(sorted(s.value for s in allowed))
        raise DomainError(
            ErrorCode.INVALID_TRANSITION,
            f"A {kind.value} redemption cannot go from {current.value} to {to.value}: {where}.",
            "status",
        )
    return hold_effect(current, to)
