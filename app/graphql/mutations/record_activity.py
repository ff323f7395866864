"""recordActivity: a sign-up, profile completion, birthday, review, share or custom activity."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

from app.auth.scopes import Scope
from app.domain.rule_definitions import ActivityKind as DomainActivityKind
from app.graphql.context import Context
from app.graphql.mutations.write import IDEMPOTENCY_HELP, WritePayload, Writer
from app.graphql.permissions import needs
from app.graphql.types.common import UserError
from app.graphql.types.member import Balance, Member
from app.graphql.types.program import Tier
from app.services.activity import ActivityRecorded, RecordActivity, record_activity

ActivityKind = DomainActivityKind
strawberry.enum(
    ActivityKind, name="ActivityKind", description="What the member did."
)  # the domain enum, published as is


@strawberry.input
class RecordActivityInput:
    member_id: strawberry.ID | None = None
    external_id: str | None = None
    kind: ActivityKind
    name: str | None = strawberry.field(
        default=None, description="For CUSTOM: one of the program's custom_activities."
    )
    reference: str | None = strawberry.field(
        default=None, description="Your id for it (the review, the post); each counts once."
    )
    occurred_at: datetime


@strawberry.type
class RecordActivityPayload(WritePayload):
    member: Member | None
    points_earned: int | None
    upgraded_to: Tier | None = strawberry.field(
        default=None, description="The tier this lifted the member to, when it did."
    )
    balance: Balance | None
    user_errors: list[UserError]


@strawberry.mutation(
    description="Record an activity; it earns by the program's activity rules. SIGNUP and "
    "PROFILE_COMPLETED count once per member, BIRTHDAY once a year, the others once per "
    "reference (LIMIT_REACHED after that).",
    extensions=needs(Scope.POINTS_WRITE),
)
async def record_activity_mutation(
    info: strawberry.Info[Context, None],
    input: RecordActivityInput,
    idempotency_key: Annotated[str, strawberry.argument(description=IDEMPOTENCY_HELP)],
) -> RecordActivityPayload:
    async def command(w: Writer) -> RecordActivity:
        return RecordActivity(
            member=await w.member(
                input.member_id, input.external_id, partner_scope=Scope.POINTS_WRITE
            ),
            kind=input.kind.value,
            occurred_at=input.occurred_at,
            name=input.name,
            reference=input.reference,
        )

    async def shown(w: Writer, done: ActivityRecorded) -> RecordActivityPayload:
        return RecordActivityPayload(
            member=await w.member_view(done.member_id),
            points_earned=done.points,
            balance=w.balance(done.balance),
            upgraded_to=await w.tier(done.upgraded_to),
            user_errors=[],
        )

    return await Writer(info).run(
        record_activity,
        command,
        idempotency_key=idempotency_key,
        shown=shown,
        failed=RecordActivityPayload.failed,
    )
