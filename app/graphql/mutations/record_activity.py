"""recordActivity: a sign-up, profile completion, birthday, review, share or custom activity."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Annotated

import strawberry

from app.auth.scopes import Scope
from app.graphql.context import Context
from app.graphql.mutations.base import (
    IDEMPOTENCY_HELP,
    balance_of,
    errors_of,
    member_not_found,
    member_of,
    target_member,
    upgrade_of,
    writer_key,
)
from app.graphql.permissions import needs
from app.graphql.types.common import UserError
from app.graphql.types.member import Balance, Member
from app.graphql.types.program import Tier
from app.services.activity import RecordActivity, record_activity


@strawberry.enum(description="What the member did.")
class ActivityKind(Enum):
    SIGNUP = "SIGNUP"
    PROFILE_COMPLETED = "PROFILE_COMPLETED"
    BIRTHDAY = "BIRTHDAY"
    REVIEW = "REVIEW"
    SOCIAL_SHARE = "SOCIAL_SHARE"
    CUSTOM = "CUSTOM"


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
class RecordActivityPayload:
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
    ref = await target_member(
        info, input.member_id, input.external_id, partner_scope=Scope.POINTS_WRITE
    )
    if ref is None:
        return RecordActivityPayload(
            member=None, points_earned=None, balance=None, user_errors=member_not_found()
        )
    services = info.context.services
    outcome = await record_activity(
        services.uow,
        services.clock,
        principal=writer_key(info),
        idempotency_key=idempotency_key,
        cmd=RecordActivity(
            member=ref,
            kind=input.kind.value,
            occurred_at=input.occurred_at,
            name=input.name,
            reference=input.reference,
        ),
    )
    return RecordActivityPayload(
        member=await member_of(info, outcome),
        points_earned=outcome.data.get("points"),
        balance=balance_of(outcome),
        upgraded_to=await upgrade_of(info, outcome),
        user_errors=errors_of(outcome),
    )
