"""A member's profile and standing: update, suspend and reactivate (fraud holds), erase.

Each is an idempotent write like the others. Suspension stops redemptions only: the member
keeps earning, so a hold lifted later loses them nothing. Erasure removes personal data
(e-mail, display name, referral code) and replaces the external id by a pseudonym; the
ledger stays, so program totals remain true, and the erased member takes no more writes.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.domain.errors import DomainError, ErrorCode
from app.domain.members import MemberStatus, pseudonym
from app.domain.text import FREE_TEXT_LENGTH, NAME_LENGTH, check_email, check_text
from app.ledger.uow import UnitOfWork, WriteTx
from app.services.clock import Clock
from app.services.codec import AnswerCodec
from app.services.common import MemberRef, lock_member
from app.services.idempotent import run_once
from app.services.outcome import Outcome


@dataclass(frozen=True, slots=True)
class UpdateMember:
    """`None` leaves a field as it is; an empty string clears it."""

    member: MemberRef
    email: str | None = None
    display_name: str | None = None


@dataclass(frozen=True, slots=True)
class ChangeStanding:
    member: MemberRef
    reason: str


@dataclass(frozen=True, slots=True)
class EraseMember:
    member: MemberRef
    reason: str


@dataclass(frozen=True, slots=True)
class MemberUpdated:
    member_id: int


@dataclass(frozen=True, slots=True)
class StandingChanged:
    member_id: int
    status: str  # a MemberStatus value


@dataclass(frozen=True, slots=True)
class MemberErased:
    member_id: int
    pseudonym: str


MEMBERUPDATED_CODEC = AnswerCodec(MemberUpdated)
STANDINGCHANGED_CODEC = AnswerCodec(StandingChanged)
MEMBERERASED_CODEC = AnswerCodec(MemberErased)

#: Mixed into pseudonyms so that none can be recomputed from a member id alone.
PSEUDONYM_SALT = "tally-erased"


def _profile_changes(cmd: UpdateMember) -> dict[str, str | None]:
    changes: dict[str, str | None] = {}
    if cmd.email is not None:
        changes["email"] = check_email(cmd.email) if cmd.email else None
    if cmd.display_name is not None:
        check_text(cmd.display_name, "displayName", limit=NAME_LENGTH, required=False)
        changes["display_name"] = cmd.display_name or None
    if not changes:
        raise DomainError(ErrorCode.INVALID_INPUT, "Give email or displayName to change.")
    return changes


async def update_member(
    uow: UnitOfWork, clock: Clock, *, principal: str, idempotency_key: str, cmd: UpdateMember
) -> Outcome[MemberUpdated]:
    try:
        changes = _profile_changes(cmd)
    except DomainError as error:
        return Outcome.failure(error)

    async def action(tx: WriteTx) -> MemberUpdated:
        member, _ = await lock_member(tx, cmd.member)
        await tx.members.update_profile(member.id, changes, clock.now())
        return MemberUpdated(member.id)

    return await run_once(
        uow,
        clock,
        principal=principal,
        key=idempotency_key,
        operation="updateMember",
        request={**cmd.member.as_request(), "email": cmd.email, "displayName": cmd.display_name},
        action=action,
        codec=MEMBERUPDATED_CODEC,
    )


async def _change_standing(
    uow: UnitOfWork,
    clock: Clock,
    *,
    principal: str,
    idempotency_key: str,
    cmd: ChangeStanding,
    to: MemberStatus,
    operation: str,
) -> Outcome[StandingChanged]:
    try:
        check_text(cmd.reason, "reason", limit=FREE_TEXT_LENGTH, free_text=True)
    except DomainError as error:
        return Outcome.failure(error)
    expected = MemberStatus.ACTIVE if to is MemberStatus.SUSPENDED else MemberStatus.SUSPENDED

    async def action(tx: WriteTx) -> StandingChanged:
        member, _ = await lock_member(tx, cmd.member)
        if member.status is not expected:
            raise DomainError(
                ErrorCode.INVALID_STATE,
                f"The member is {member.status.value.lower()}; only a "
                f"{expected.value.lower()} member can be {operation.removesuffix('Member')}ed.",
            )
        await tx.members.set_status(member.id, to, cmd.reason, clock.now())
        return StandingChanged(member.id, to.value)

    return await run_once(
        uow,
        clock,
        principal=principal,
        key=idempotency_key,
        operation=operation,
        request={**cmd.member.as_request(), "reason": cmd.reason},
        action=action,
        codec=STANDINGCHANGED_CODEC,
    )


async def suspend_member(
    uow: UnitOfWork, clock: Clock, *, principal: str, idempotency_key: str, cmd: ChangeStanding
) -> Outcome[StandingChanged]:
    """A fraud hold: the member keeps earning and cannot redeem (MEMBER_SUSPENDED)."""
    return await _change_standing(
        uow,
        clock,
        principal=principal,
        idempotency_key=idempotency_key,
        cmd=cmd,
        to=MemberStatus.SUSPENDED,
        operation="suspendMember",
    )


async def reactivate_member(
    uow: UnitOfWork, clock: Clock, *, principal: str, idempotency_key: str, cmd: ChangeStanding
) -> Outcome[StandingChanged]:
    return await _change_standing(
        uow,
        clock,
        principal=principal,
        idempotency_key=idempotency_key,
        cmd=cmd,
        to=MemberStatus.ACTIVE,
        operation="reactivateMember",
    )


async def erase_member(
    uow: UnitOfWork, clock: Clock, *, principal: str, idempotency_key: str, cmd: EraseMember
) -> Outcome[MemberErased]:
    try:
        check_text(cmd.reason, "reason", limit=FREE_TEXT_LENGTH, free_text=True)
    except DomainError as error:
        return Outcome.failure(error)

    async def action(tx: WriteTx) -> MemberErased:
        member, _ = await lock_member(tx, cmd.member)
        alias = pseudonym(member.id, PSEUDONYM_SALT)
        await tx.members.erase(member.id, alias, clock.now())
        return MemberErased(member.id, alias)

    return await run_once(
        uow,
        clock,
        principal=principal,
        key=idempotency_key,
        operation="eraseMember",
        request={**cmd.member.as_request(), "reason": cmd.reason},
        action=action,
        codec=MEMBERERASED_CODEC,
    )
