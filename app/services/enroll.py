"""Enroll a member: a member row and a zero balance, once per external id."""

from __future__ import annotations

from dataclasses import dataclass

from app.domain.codes import new_discount_code
from app.domain.errors import DomainError, ErrorCode
from app.domain.text import NAME_LENGTH, check_email, check_text
from app.ledger.uow import UnitOfWork, WriteTx
from app.services.clock import Clock
from app.services.codec import AnswerCodec
from app.services.idempotent import run_once
from app.services.outcome import Outcome


@dataclass(frozen=True, slots=True)
class EnrollMember:
    external_id: str
    email: str | None = None
    display_name: str | None = None
    referral_code: str | None = None  # the code of the member who referred this one


@dataclass(frozen=True, slots=True)
class MemberEnrolled:
    member_id: int


MEMBERENROLLED_CODEC = AnswerCodec(MemberEnrolled)


def _validate(cmd: EnrollMember) -> str | None:
    """Refuse bad text; returns the e-mail address as stored (normalised)."""
    check_text(cmd.external_id, "externalId")
    if cmd.display_name is not None:
        check_text(cmd.display_name, "displayName", limit=NAME_LENGTH, required=False)
    if cmd.referral_code is not None:
        check_text(cmd.referral_code, "referralCode", limit=40)
    return check_email(cmd.email) if cmd.email is not None else None


async def enroll_member(
    uow: UnitOfWork, clock: Clock, *, principal: str, idempotency_key: str, cmd: EnrollMember
) -> Outcome[MemberEnrolled]:
    try:
        email = _validate(cmd)
    except DomainError as error:
        return Outcome.failure(error)

    async def action(tx: WriteTx) -> MemberEnrolled:
        if await tx.members.by_external_id(cmd.external_id) is not None:
            raise DomainError(
                ErrorCode.MEMBER_EXISTS, "A member with this externalId is enrolled.", "externalId"
            )
        referrer = None
        if cmd.referral_code is not None:
            referrer = await tx.members.by_referral_code(cmd.referral_code)
            if referrer is None:
                raise DomainError(ErrorCode.INVALID_INPUT, "Unknown referral code.", "referralCode")
        member = await tx.members.create(
            external_id=cmd.external_id,
            now=clock.now(),
            email=email,
            display_name=cmd.display_name,
            referral_code=new_discount_code("REF"),
            referred_by=referrer.id if referrer else None,
        )
        return MemberEnrolled(member_id=member.id)

    return await run_once(
        uow,
        clock,
        principal=principal,
        key=idempotency_key,
        operation="enrollMember",
        request={
            "externalId": cmd.external_id,
            "email": cmd.email,
            "displayName": cmd.display_name,
        },
        action=action,
        codec=MEMBERENROLLED_CODEC,
    )
