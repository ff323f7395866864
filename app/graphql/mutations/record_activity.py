"""recordActivity: a sign-up, profile completion, birthday, review, share or custom activity."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

from app.auth.scopes import Scope
from app.domain.rule_definitions import ActivityKind as DomainActivityKind
from app.graphql.context import Context
from app.graphql.mutations.write import (
    BALANCE_AFTER_HELP,
    EXTERNAL_ID_HELP,
    IDEMPOTENCY_HELP,
    MEMBER_ID_HELP,
    MEMBER_VIEW_HELP,
    USER_ERRORS_HELP,
    WritePayload,
    Writer,
)
from app.graphql.permissions import needs
from app.graphql.types.common import UserError, publish_enum
from app.graphql.types.member import Balance, Member
from app.graphql.types.program import Tier
from app.services.activity import ActivityRecorded, RecordActivity, record_activity

ActivityKind = DomainActivityKind
publish_enum(  # the domain enum, published as is
    ActivityKind,
    "ActivityKind",
    "What the member did.",
    {
        ActivityKind.SIGNUP: "Signed up for the program; counts once per member.",
        ActivityKind.PROFILE_COMPLETED: "Completed their profile; counts once per member.",
        ActivityKind.BIRTHDAY: "Had a birthday; counts once per calendar year (program time zone).",
        ActivityKind.REVIEW: "Wrote a review; counts once per reference.",
        ActivityKind.SOCIAL_SHARE: "Shared on social media; counts once per reference.",
        ActivityKind.CUSTOM: "One of the program's own activities, named by name; counts once "
        "per reference.",
    },
)


@strawberry.input(description="An activity to record: who, what, when.")
class RecordActivityInput:
    member_id: strawberry.ID | None = strawberry.field(default=None, description=MEMBER_ID_HELP)
    external_id: str | None = strawberry.field(default=None, description=EXTERNAL_ID_HELP)
    kind: ActivityKind = strawberry.field(description="What the member did.")
    name: str | None = strawberry.field(
        default=None,
        description="For CUSTOM, and only for it: one of the program's custom_activities.",
    )
    reference: str | None = strawberry.field(
        default=None,
        description="Your id for it (the review, the post); each counts once. Required except "
        "for SIGNUP, PROFILE_COMPLETED and BIRTHDAY.",
    )
    occurred_at: datetime = strawberry.field(
        description="When it happened, with a UTC offset; not in the future, nor more than the "
        "program's max_backdate_days ago. A BIRTHDAY counts for this date's year."
    )


@strawberry.type(description="What recordActivity did.")
class RecordActivityPayload(WritePayload):
    member: Member | None = strawberry.field(description=MEMBER_VIEW_HELP)
    points_earned: int | None = strawberry.field(
        description="Points the activity earned; 0 when no activity rule rewards it (it still "
        "counts as done). Null when the write failed."
    )
    upgraded_to: Tier | None = strawberry.field(
        default=None, description="The tier this lifted the member to; null when it did not."
    )
    balance: Balance | None = strawberry.field(description=BALANCE_AFTER_HELP)
    user_errors: list[UserError] = strawberry.field(description=USER_ERRORS_HELP)


@strawberry.mutation(
    description="Record an activity; it earns by the program's activity rules. SIGNUP and "
    "PROFILE_COMPLETED count once per member, BIRTHDAY once a year, the others once per "
    "reference (LIMIT_REACHED after that). Needs points:write.",
    extensions=needs(Scope.POINTS_WRITE),
)
async def record_activity_mutation(
    info: strawberry.Info[Context, None],
    input: Annotated[
        RecordActivityInput, strawberry.argument(description="The activity to record.")
    ],
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
