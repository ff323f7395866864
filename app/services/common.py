"""Steps every write use case shares: find and lock the member, load the program."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from app.domain.accounts import Account, TransferKind
from app.domain.errors import DomainError, ErrorCode
from app.domain.lots import LotState, allocate
from app.domain.members import MemberStatus
from app.domain.program import Program
from app.domain.records import Balance, Member
from app.domain.text import check_text
from app.ledger.programs import ProgramVersion
from app.ledger.transfers import Posted
from app.ledger.uow import WriteTx

#: How far ahead of the server a till's clock may run.
CLOCK_SKEW = timedelta(minutes=5)
#: No purchase or activity is dated before this, whatever the program allows.
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)


def check_occurred_at(occurred_at: datetime, now: datetime) -> None:
    """Before the program is known: an offset, not in the future, not before 2000."""
    if occurred_at.tzinfo is None:
        raise DomainError(ErrorCode.INVALID_INPUT, "occurredAt needs a UTC offset", "occurredAt")
    if occurred_at > now + CLOCK_SKEW:
        raise DomainError(ErrorCode.INVALID_INPUT, "occurredAt is in the future", "occurredAt")
    if occurred_at < EARLIEST:
        raise DomainError(
            ErrorCode.INVALID_INPUT, "occurredAt may not be before 2000-01-01", "occurredAt"
        )


def check_backdating(program: Program, occurred_at: datetime, now: datetime) -> None:
    """A till offline for days may date a sale back that far, not further: the program's
    `max_backdate_days` (default 90)."""
    days = program.max_backdate_days
    if occurred_at < now - timedelta(days=days):
        raise DomainError(
            ErrorCode.INVALID_INPUT,
            f"occurredAt may be at most {days} days ago (the program's max_backdate_days)",
            "occurredAt",
        )


@dataclass(frozen=True, slots=True)
class MemberRef:
    """A member named by internal id or by the retailer's external id."""

    id: int | None = None
    external_id: str | None = None

    def as_request(self) -> dict[str, object]:
        return {"memberId": self.id, "externalId": self.external_id}


async def lock_member(
    tx: WriteTx, ref: MemberRef, *, erased_too: bool = False
) -> tuple[Member, Balance]:
    """Find the member and lock their balance row: the first lock of every write. An
    erased member takes no more writes, except `erased_too` (what was already under way
    for them finishing: a redemption's fulfilment or its deadline)."""
    member: Member | None = None
    if ref.id is not None:
        member = await tx.members.by_id(ref.id)
    elif ref.external_id is not None:
        # An id that breaks the text rules names no member, and a NUL is more than
        # PostgreSQL's text can even be compared with: refused before the lookup.
        member = await tx.members.by_external_id(check_text(ref.external_id, "externalId"))
    # The field is the input the client named the member with (the rule in graphql write.py).
    field = "memberId" if ref.id is not None else "externalId"
    if member is None or (member.status is MemberStatus.ERASED and not erased_too):
        # An erased member's ledger stays for the totals; it takes no more writes.
        raise DomainError(ErrorCode.MEMBER_NOT_FOUND, "No such member.", field)
    balance = await tx.members.lock(member.id)
    if balance is None:  # pragma: no cover - enroll writes both rows together
        raise DomainError(ErrorCode.MEMBER_NOT_FOUND, "No such member.", field)
    return member, balance


async def active_program(tx: WriteTx) -> ProgramVersion:
    version = await tx.programs.active()
    if version is None:
        raise DomainError(
            ErrorCode.INVALID_STATE, "No program is active; run `tally program apply`.", None
        )
    return version


async def credit_lot(
    tx: WriteTx,
    *,
    kind: TransferKind,
    member_id: int,
    debit: Account,
    points: int,
    now: datetime,
    occurred_at: datetime,
    expires_at: datetime | None,
    pending_until: datetime | None = None,
    order_id: int | None = None,
    reference: str | None = None,
    reason: str | None = None,
    program_version: int | None = None,
    earned: int = 0,
) -> Posted:
    """Credit a member with new points and the lot that carries their expiry: an earn
    (pending while `pending_until` is set), an activity or a positive adjustment."""
    posted = await tx.transfers.post(
        kind=kind,
        member_id=member_id,
        debit=debit,
        credit=Account.PENDING if pending_until else Account.AVAILABLE,
        amount=points,
        now=now,
        occurred_at=occurred_at,
        order_id=order_id,
        reference=reference,
        reason=reason,
        program_version=program_version,
        earned=earned,
    )
    lot_id = await tx.lots.add(
        member_id=member_id,
        transfer_id=posted.transfer_id,
        order_id=order_id,
        points=points,
        state=LotState.PENDING if pending_until else LotState.AVAILABLE,
        release_at=pending_until,
        expires_at=expires_at,
        now=now,
    )
    if not pending_until:
        await repay_debt(tx, posted, prefer=lot_id)
    return posted


async def repay_debt(tx: WriteTx, posted: Posted, *, prefer: int | None = None) -> int:
    """Points credited to a member whose available balance was below zero (a return under
    NEGATIVE_BALANCE took back points already spent) repay that debt first: the lots they
    came in give up as much, so available lots still sum to what can be spent. Returns
    the points repaid."""
    change = posted.change
    before = posted.balance.available - change.delta
    repaid = min(-before, change.delta)
    if before >= 0 or repaid <= 0:
        return 0
    spendable = await tx.lots.spendable(posted.balance.member_id)
    await tx.lots.take(allocate(spendable, repaid, prefer=prefer))
    return repaid
