"""Record an activity (sign-up, review, birthday…): it earns by the program's activity rules.

Each activity counts once: SIGNUP and PROFILE_COMPLETED once per member, BIRTHDAY once per
member per calendar year (program time zone), the others once per reference.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from app.domain.accounts import Account, TransferKind
from app.domain.errors import DomainError, ErrorCode
from app.domain.records import Balance
from app.domain.rule_definitions import ACTIVITY_KINDS
from app.domain.rules import Line, Purchase
from app.domain.text import NAME_LENGTH, check_text
from app.ledger.uow import UnitOfWork, WriteTx
from app.services.clock import Clock
from app.services.codec import AnswerCodec
from app.services.common import (
    MemberRef,
    active_program,
    check_backdating,
    check_occurred_at,
    credit_lot,
    lock_member,
)
from app.services.earning import explain, explanation_data, points_by_rule
from app.services.idempotent import run_once
from app.services.outcome import Outcome
from app.services.tiers.lifecycle import standing_before_earn, upgrade_after_earn

ONCE_PER_MEMBER = frozenset({"SIGNUP", "PROFILE_COMPLETED"})


@dataclass(frozen=True, slots=True)
class RecordActivity:
    member: MemberRef
    kind: str
    occurred_at: datetime
    name: str | None = None  # CUSTOM activities: a name from program.custom_activities
    reference: str | None = None


@dataclass(frozen=True, slots=True)
class ActivityRecorded:
    member_id: int
    points: int
    balance: Balance
    upgraded_to: str | None = None


ACTIVITYRECORDED_CODEC = AnswerCodec(ActivityRecorded)


def activity_key(cmd: RecordActivity) -> str:
    return f"CUSTOM:{cmd.name}" if cmd.kind == "CUSTOM" else cmd.kind


def _validate(cmd: RecordActivity, now: datetime) -> None:
    if cmd.kind not in ACTIVITY_KINDS:
        raise DomainError(
            ErrorCode.INVALID_INPUT, f"kind must be one of {list(ACTIVITY_KINDS)}", "kind"
        )
    if (cmd.kind == "CUSTOM") != bool(cmd.name):
        raise DomainError(
            ErrorCode.INVALID_INPUT, "name goes with kind CUSTOM, and only with it", "name"
        )
    needs_reference = cmd.kind not in ONCE_PER_MEMBER | {"BIRTHDAY"}
    if needs_reference and not (cmd.reference and cmd.reference.strip()):
        raise DomainError(
            ErrorCode.INVALID_INPUT, f"a {cmd.kind} activity needs a reference", "reference"
        )
    if cmd.reference is not None:
        check_text(cmd.reference, "reference", required=False)
    if cmd.name is not None:
        check_text(cmd.name, "name", limit=NAME_LENGTH)
    check_occurred_at(cmd.occurred_at, now)


def _dedupe_key(cmd: RecordActivity, member_id: int, zone: ZoneInfo) -> str:
    key = activity_key(cmd)
    if cmd.kind in ONCE_PER_MEMBER:
        return f"{key}:{member_id}"
    if cmd.kind == "BIRTHDAY":
        return f"{key}:{member_id}:{cmd.occurred_at.astimezone(zone).year}"
    return f"{key}:{member_id}:{cmd.reference}"


async def record_activity(
    uow: UnitOfWork, clock: Clock, *, principal: str, idempotency_key: str, cmd: RecordActivity
) -> Outcome[ActivityRecorded]:
    try:
        _validate(cmd, clock.now())
    except DomainError as error:
        return Outcome.failure(error)

    async def action(tx: WriteTx) -> ActivityRecorded:
        now = clock.now()
        member, balance = await lock_member(tx, cmd.member)
        version = await active_program(tx)
        program = version.program
        if cmd.kind == "CUSTOM" and cmd.name not in program.custom_activities:
            raise DomainError(
                ErrorCode.INVALID_INPUT,
                f"{cmd.name!r} is not one of this program's activities",
                "name",
            )
        check_backdating(program, cmd.occurred_at, now)
        zone = ZoneInfo(program.time_zone)
        activity_id = await tx.activities.create(
            member_id=member.id,
            kind=activity_key(cmd),
            reference=cmd.reference,
            dedupe_key=_dedupe_key(cmd, member.id, zone),
            occurred_at=cmd.occurred_at,
            now=now,
        )
        if activity_id is None:
            raise DomainError(
                ErrorCode.LIMIT_REACHED, "This activity was already recorded.", "kind"
            )
        before = await standing_before_earn(tx, version, member.id, now)
        tier = before.tier
        event = Purchase(
            "OTHER",
            cmd.occurred_at,
            (Line(activity_key(cmd), 1, Decimal(0)),),
            activity=activity_key(cmd),
        )
        explanation = await explain(program, event, tier, tx.awards, member.id)
        points = explanation.total
        await tx.awards.record(
            member_id=member.id,
            activity_id=activity_id,
            awards=points_by_rule(explanation),
            occurred_at=cmd.occurred_at,
        )
        transfer_id: int | None = None
        upgraded = None
        if points > 0:
            posted = await credit_lot(
                tx,
                kind=TransferKind.EARN,
                member_id=member.id,
                debit=Account.ISSUED,
                points=points,
                now=now,
                occurred_at=cmd.occurred_at,
                expires_at=program.lot_expires_at(cmd.occurred_at),
                reference=f"activity:{activity_key(cmd)}",
                program_version=version.version,
                earned=points,
            )
            balance, transfer_id = posted.balance, posted.transfer_id
            upgraded = await upgrade_after_earn(
                tx, version, member.id, now, before=before, gained=points
            )
        await tx.activities.set_earned(
            activity_id, points, explanation_data(explanation), transfer_id
        )
        return ActivityRecorded(
            member_id=member.id,
            points=points,
            balance=balance,
            upgraded_to=upgraded.key if upgraded else None,
        )

    return await run_once(
        uow,
        clock,
        principal=principal,
        key=idempotency_key,
        operation="recordActivity",
        request={
            **cmd.member.as_request(),
            "kind": cmd.kind,
            "name": cmd.name,
            "reference": cmd.reference,
            "occurredAt": cmd.occurred_at.isoformat(),
        },
        action=action,
        codec=ACTIVITYRECORDED_CODEC,
    )
