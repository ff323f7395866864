"""Steps every write use case shares: find and lock the member, load the program."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from app.domain.errors import DomainError, ErrorCode
from app.domain.records import Balance, Member
from app.ledger.programs import ProgramVersion
from app.ledger.uow import WriteTx


@dataclass(frozen=True, slots=True)
class MemberRef:
    """A member named by internal id or by the retailer's external id."""

    id: int | None = None
    external_id: str | None = None

    def as_request(self) -> dict[str, object]:
        return {"memberId": self.id, "externalId": self.external_id}


async def lock_member(tx: WriteTx, ref: MemberRef) -> tuple[Member, Balance]:
    """Find the member and lock their balance row: the first lock of every write."""
    member: Member | None = None
    if ref.id is not None:
        member = await tx.members.by_id(ref.id)
    elif ref.external_id is not None:
        member = await tx.members.by_external_id(ref.external_id)
    if member is None:
        raise DomainError(ErrorCode.MEMBER_NOT_FOUND, "No such member.", "member")
    balance = await tx.members.lock(member.id)
    if balance is None:  # pragma: no cover - enroll writes both rows together
        raise DomainError(ErrorCode.MEMBER_NOT_FOUND, "No such member.", "member")
    return member, balance


async def active_program(tx: WriteTx) -> ProgramVersion:
    version = await tx.programs.active()
    if version is None:
        raise DomainError(
            ErrorCode.INVALID_STATE, "No program is active; run `tally program apply`.", None
        )
    return version


async def tier_rank(tx: WriteTx, version: ProgramVersion, member_id: int, now: datetime) -> int:
    since = now - timedelta(days=version.program.qualifying_days)
    points = (await tx.reads.qualifying_points([member_id], since))[member_id]
    return version.program.tier_rank(version.program.tier_for(points).key)


def balance_data(balance: Balance) -> dict[str, int]:
    return balance.as_data()
