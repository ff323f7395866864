"""Referrals: the referrer and the newcomer earn on the newcomer's first qualifying purchase;
a full return of that purchase takes both awards back."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from app.domain.accounts import Account, TransferKind
from app.domain.lots import allocate
from app.domain.points import ReturnPolicy
from app.domain.records import Member
from app.domain.rules import period_bounds
from app.ledger.programs import ProgramVersion
from app.ledger.uow import WriteTx
from app.services.common import MemberRef, credit_lot, lock_member
from app.services.tiers.lifecycle import standing_before_earn, undo_after_return, upgrade_after_earn


async def award_referral(
    tx: WriteTx,
    version: ProgramVersion,
    referee: Member,
    *,
    order_id: int,
    amount: Decimal,
    occurred_at: datetime,
    now: datetime,
) -> int:
    """After a purchase: award the referral if this is the referee's first qualifying one.
    The referee's lock is held; the referrer (enrolled earlier, lower id) is locked next,
    so locks are always taken newer member first and cannot deadlock."""
    program = version.program
    terms = program.referral
    if terms is None or referee.referred_by is None or amount < terms.min_order_amount:
        return 0
    if await tx.referrals.for_referee(referee.id) is not None:
        return 0
    referrer, _ = await lock_member(tx, MemberRef(id=referee.referred_by))
    referrer_before = await standing_before_earn(tx, version, referrer.id, now)
    referrer_points = terms.referrer_points
    if terms.max_per_referrer is not None:
        since, until = period_bounds(occurred_at, terms.period, ZoneInfo(program.time_zone))
        if (
            await tx.referrals.rewarded_referrals(referrer.id, since, until)
            >= terms.max_per_referrer
        ):
            referrer_points = 0  # the referrer's cap is reached; the newcomer still earns
    await tx.referrals.create(
        referrer_id=referrer.id,
        referee_id=referee.id,
        order_id=order_id,
        referrer_points=referrer_points,
        referee_points=terms.referee_points,
        awarded_at=occurred_at,
    )
    for member, points, note in (
        (referrer, referrer_points, f"referral:{referee.external_id}"),
        (referee, terms.referee_points, "referral:welcome"),
    ):
        if points > 0:
            await credit_lot(
                tx,
                kind=TransferKind.EARN,
                member_id=member.id,
                debit=Account.ISSUED,
                points=points,
                now=now,
                occurred_at=occurred_at,
                expires_at=program.lot_expires_at(occurred_at),
                reference=note,
                program_version=version.version,
                earned=points,
            )
    if referrer_points > 0:  # the referrer's tier follows the award (the referee's, the sale)
        await upgrade_after_earn(
            tx, version, referrer.id, now, before=referrer_before, gained=referrer_points
        )
    return terms.referee_points


async def claw_back_referral(
    tx: WriteTx,
    version: ProgramVersion,
    order_id: int,
    *,
    counted_at: datetime,
    recorded_at: datetime,
    now: datetime,
) -> int:
    """The referral's qualifying purchase came back in full: take both awards back. Points
    already spent follow the program's return policy: not taken (RECORD_SHORTFALL) or owed
    (NEGATIVE_BALANCE). Returns the points taken."""
    program = version.program
    referral = await tx.referrals.for_order(order_id)
    if referral is None or not await tx.referrals.reverse(referral.id):
        return 0
    taken = 0
    for member_id, points in (
        (referral.referee_id, referral.referee_points),
        (referral.referrer_id, referral.referrer_points),
    ):
        if points <= 0:
            continue
        _, balance = await lock_member(tx, MemberRef(id=member_id))
        covered = min(points, max(0, balance.available))
        take = points if program.return_policy is ReturnPolicy.NEGATIVE_BALANCE else covered
        if take > 0:
            await tx.lots.take(allocate(await tx.lots.spendable(member_id), covered))
            await tx.transfers.post(
                kind=TransferKind.RETURN,
                member_id=member_id,
                debit=Account.AVAILABLE,
                credit=Account.ISSUED,
                amount=take,
                now=now,
                reference="referral:reversed",
                earned=-take,
                allow_negative=take > covered,
                counts_at=counted_at,  # for tiers, when the award was made
            )
        # what was spent stays spent, but leaves the tier measure all the same
        await tx.transfers.unreversed(
            member_id=member_id, points=points - take, counts_at=counted_at, now=now
        )
        if member_id == referral.referrer_id:  # the referee's tier follows the order's return
            await undo_after_return(tx, version, member_id, recorded_at, now)
        taken += take
    return taken
