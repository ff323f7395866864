"""updateRedemption: staff or a 3PL move goods and experiences along their lifecycle
(FULFILLING, SHIPPED with tracking, DELIVERED, FULFILLED with a booking, FAILED), once
per key; the hold is spent at SHIPPED or FULFILLED and returned at FAILED or CANCELLED."""

from __future__ import annotations

from dataclasses import dataclass

from app.domain.errors import DomainError, ErrorCode
from app.domain.records import Balance, Delivery
from app.domain.rewards import RedemptionStatus, RewardKind
from app.domain.text import check_text
from app.ledger.uow import UnitOfWork, WriteTx
from app.services.clock import Clock
from app.services.codec import AnswerCodec
from app.services.idempotent import run_once
from app.services.lifecycle import move_redemption
from app.services.outcome import Outcome
from app.services.resolve import ResolveRedemption, find_redemption

#: The kinds whose lifecycle people move by hand; the others move by code or provider.
MANUAL_KINDS = frozenset({RewardKind.PHYSICAL, RewardKind.EXPERIENCE})
URL_LENGTH = 500
NOTE_LENGTH = 500


@dataclass(frozen=True, slots=True)
class UpdateRedemption:
    redemption_id: int
    status: RedemptionStatus
    carrier: str | None = None
    tracking_number: str | None = None
    tracking_url: str | None = None
    booking_reference: str | None = None
    note: str | None = None

    def as_request(self) -> dict[str, object]:
        return {
            "redemptionId": self.redemption_id,
            "status": self.status.value,
            "carrier": self.carrier,
            "trackingNumber": self.tracking_number,
            "trackingUrl": self.tracking_url,
            "bookingReference": self.booking_reference,
            "note": self.note,
        }


@dataclass(frozen=True, slots=True)
class RedemptionUpdated:
    member_id: int
    redemption_id: int
    balance: Balance


REDEMPTIONUPDATED_CODEC = AnswerCodec(RedemptionUpdated)


def _delivery(cmd: UpdateRedemption) -> Delivery:
    """The details given, checked: texts without control characters, a web tracking URL,
    and SHIPPED only with a carrier and a tracking number."""
    for value, field in (
        (cmd.carrier, "carrier"),
        (cmd.tracking_number, "trackingNumber"),
        (cmd.booking_reference, "bookingReference"),
    ):
        if value is not None:
            check_text(value, field)
    if cmd.note is not None:
        check_text(cmd.note, "note", limit=NOTE_LENGTH, free_text=True)
    if cmd.tracking_url is not None:
        check_text(cmd.tracking_url, "trackingUrl", limit=URL_LENGTH)
        if not cmd.tracking_url.startswith(("https://", "http://")):
            raise DomainError(
                ErrorCode.INVALID_INPUT, "trackingUrl must be an http(s) URL", "trackingUrl"
            )
    if cmd.status is RedemptionStatus.SHIPPED and not (cmd.carrier and cmd.tracking_number):
        raise DomainError(
            ErrorCode.INVALID_INPUT,
            "SHIPPED needs the carrier and the tracking number",
            "carrier" if not cmd.carrier else "trackingNumber",
        )
    return Delivery(
        carrier=cmd.carrier,
        tracking_number=cmd.tracking_number,
        tracking_url=cmd.tracking_url,
        booking_reference=cmd.booking_reference,
        note=cmd.note,
    )


def _detail(cmd: UpdateRedemption) -> str:
    parts = [cmd.carrier, cmd.tracking_number, cmd.booking_reference, cmd.note]
    return " ".join(p for p in parts if p)


async def update_redemption(
    uow: UnitOfWork, clock: Clock, *, principal: str, idempotency_key: str, cmd: UpdateRedemption
) -> Outcome[RedemptionUpdated]:
    try:
        delivery = _delivery(cmd)
    except DomainError as error:
        return Outcome.failure(error)

    async def action(tx: WriteTx) -> RedemptionUpdated:
        found = await find_redemption(tx, ResolveRedemption(redemption_id=cmd.redemption_id))
        if found.kind not in MANUAL_KINDS:
            raise DomainError(
                ErrorCode.INVALID_TRANSITION,
                f"A {found.kind.value} redemption is moved by "
                + (
                    "fulfillRedemption or cancelRedemption."
                    if found.kind is RewardKind.DISCOUNT_CODE
                    else "its fulfilment provider."
                ),
                "status",
            )
        moved = await move_redemption(
            tx, clock, found, cmd.status, actor=principal, detail=_detail(cmd), delivery=delivery
        )
        return RedemptionUpdated(
            member_id=found.member_id,
            redemption_id=found.id,
            balance=moved.balance,
        )

    return await run_once(
        uow,
        clock,
        principal=principal,
        key=idempotency_key,
        operation="updateRedemption",
        request=cmd.as_request(),
        action=action,
        codec=REDEMPTIONUPDATED_CODEC,
    )
