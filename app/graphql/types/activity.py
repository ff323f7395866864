"""Ledger entries on a member's accounts, newest first."""

from __future__ import annotations

from datetime import datetime

import strawberry

from app.domain.accounts import MemberAccount, TransferKind
from app.domain.records import Entry
from app.domain.records import RuleAward as RuleAwardRecord
from app.graphql.ids import to_global_id
from app.graphql.types.common import Node

EntryKind = TransferKind
strawberry.enum(TransferKind, name="EntryKind", description="What moved the points.")
strawberry.enum(
    MemberAccount,
    name="MemberAccount",
    description="Which of the member's balances the entry changed.",
)  # the domain enums, published as they are


@strawberry.type(description="What one earning rule gave: the why behind an earn.")
class RuleAward:
    rule: str = strawberry.field(description="The rule's key in the program.")
    name: str
    points: int
    capped_by: int = strawberry.field(description="Points the rule's cap held back.")

    @classmethod
    def of(cls, a: RuleAwardRecord) -> RuleAward:
        return cls(rule=a.rule, name=a.name, points=a.points, capped_by=a.capped_by)


@strawberry.type(description="One entry of a transfer on one of the member's accounts.")
class LedgerEntry(Node):
    kind: EntryKind
    account: MemberAccount
    points: int = strawberry.field(description="Signed: positive adds to the account.")
    balance_after: int = strawberry.field(description="The account's balance after this entry.")
    occurred_at: datetime
    reference: str | None = strawberry.field(description="Order id, reward key or staff id.")
    reason: str | None
    explanation: list[RuleAward] | None = strawberry.field(
        description="On an EARN: which earning rules gave what, in order."
    )

    @classmethod
    def of(cls, e: Entry) -> LedgerEntry:
        return cls(
            id=strawberry.ID(to_global_id("LedgerEntry", e.id)),
            kind=e.kind,
            account=e.account,
            points=e.points,
            balance_after=e.balance_after,
            occurred_at=e.occurred_at,
            reference=e.reference,
            reason=e.reason,
            explanation=(
                [RuleAward.of(a) for a in e.explanation] if e.explanation is not None else None
            ),
        )
