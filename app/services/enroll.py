"""Enroll a member: a member row and a zero balance, once per external id."""

from __future__ import annotations

from dataclasses import dataclass

from app.domain.codes import new_discount_code
from app.domain.errors import DomainError, ErrorCode
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


def _validate(cmd: EnrollMember) -> None:
    if not cmd.external_id.strip() or len(cmd.external_id) > 200:
        raise DomainError(
            ErrorCode.INVALID_INPUT, "externalId must be 1 to 200 characters", "externalId"
        )
    if cmd.email is not None and ("@" not in cmd.email or len(cmd.email) > 320):
        raise DomainError(ErrorCode.INVALID_INPUT, "email is not an e-mail address", "email")
    if cmd.display_name is not None and len(cmd.display_name) > 200:
        raise DomainError(ErrorCode.INVALID_INPUT, "displayName is too long", "displayName")


async def enroll_member(
    uow: UnitOfWork, clock: Clock, *, principal: str, idempotency_key: str, cmd: EnrollMember
) -> Outcome[MemberEnrolled]:
    try:
        _validate(cmd)
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
            email=cmd.email,
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
