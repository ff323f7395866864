"""Ledger entries on a member's accounts, newest first."""

from __future__ import annotations

from datetime import datetime

import strawberry

from app.domain.accounts import MemberAccount, TransferKind
from app.domain.records import Entry
from app.domain.records import RuleAward as RuleAwardRecord
from app.graphql.context import Context
from app.graphql.errors import within_int
from app.graphql.ids import to_global_id
from app.graphql.types.common import Node, publish_enum

EntryKind = TransferKind
publish_enum(  # the domain enums, published as they are
    TransferKind,
    "EntryKind",
    "What moved the points.",
    {
        TransferKind.EARN: "Points earned by a purchase, an activity or a referral: to "
        "available, or to pending while the return window is open.",
        TransferKind.RELEASE: "Pending points became available: the return window ended, or "
        "confirmOrder released them early.",
        TransferKind.RETURN: "Points taken back because goods were returned (or a referral's "
        "purchase was).",
        TransferKind.HOLD: "Points reserved by a redemption: from available to held.",
        TransferKind.POST: "A held redemption was fulfilled: its held points are spent.",
        TransferKind.VOID: "A held redemption was cancelled: its held points went back to "
        "available.",
        TransferKind.ADJUST: "A manual correction by staff (adjustPoints), with a reason.",
        TransferKind.EXPIRE: "Available points expired under the program's expiry policy.",
    },
)
publish_enum(
    MemberAccount,
    "MemberAccount",
    "Which of the member's balances the entry changed.",
    {
        MemberAccount.AVAILABLE: "Spendable points (Balance.available).",
        MemberAccount.PENDING: "Earned points waiting out the return window (Balance.pending).",
        MemberAccount.HELD: "Points reserved by redemptions not yet fulfilled or cancelled "
        "(Balance.held).",
    },
)


@strawberry.type(description="What one earning rule gave: the why behind an earn.")
class RuleAward:
    rule: str = strawberry.field(description="The rule's key in the program.")
    name: str = strawberry.field(description="The rule's display name, from the program.")
    points: int = strawberry.field(
        description="Points this rule gave, after its cap (for a MULTIPLIER rule: the extra "
        "points)."
    )
    capped_by: int = strawberry.field(description="Points the rule's cap held back.")

    @classmethod
    def of(cls, a: RuleAwardRecord) -> RuleAward:
        return cls(rule=a.rule, name=a.name, points=a.points, capped_by=a.capped_by)


@strawberry.type(description="One entry of a transfer on one of the member's accounts.")
class LedgerEntry(Node):
    kind: EntryKind = strawberry.field(description="What moved the points.")
    account: MemberAccount = strawberry.field(
        description="The balance this entry changed. A move between two of the member's "
        "balances (a HOLD, a RELEASE) shows as two entries of the same kind."
    )
    stored_points: strawberry.Private[int]
    balance_after: int = strawberry.field(description="The account's balance after this entry.")
    occurred_at: datetime = strawberry.field(
        description="When it happened: the purchase's or activity's occurredAt for their earns, "
        "otherwise when Tally recorded it."
    )
    reference: str | None = strawberry.field(
        description="What it refers to: the order id (EARN, RETURN), `activity:KIND` or "
        "`referral:...` (activity and referral points), the reward key (HOLD), "
        "`client:ID` of who adjusted (ADJUST); null otherwise."
    )
    reason: str | None = strawberry.field(
        description="Staff's reason on an ADJUST; null on other entries."
    )
    explanation: list[RuleAward] | None = strawberry.field(
        description="On an EARN: which earning rules gave what, in order."
    )

    @strawberry.field(description="Signed: positive adds to the account.")
    def points(self, info: strawberry.Info[Context, None]) -> int:
        return within_int(info, self.stored_points)

    @classmethod
    def of(cls, e: Entry) -> LedgerEntry:
        return cls(
            id=strawberry.ID(to_global_id("LedgerEntry", e.id)),
            kind=e.kind,
            account=e.account,
            stored_points=e.points,
            balance_after=e.balance_after,
            occurred_at=e.occurred_at,
            reference=e.reference,
            reason=e.reason,
            explanation=(
                [RuleAward.of(a) for a in e.explanation] if e.explanation is not None else None
            ),
        )
