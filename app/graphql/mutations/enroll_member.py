"""enrollMember: a partner enrolls a member (members:write)."""

from __future__ import annotations

from typing import Annotated

import strawberry

from app.auth.scopes import Scope
from app.graphql.context import Context
from app.graphql.mutations.base import IDEMPOTENCY_HELP, errors_of, member_of, writer_key
from app.graphql.permissions import needs
from app.graphql.types.common import UserError
from app.graphql.types.member import Member
from app.services.enroll import EnrollMember, enroll_member


@strawberry.input
class EnrollMemberInput:
    external_id: str = strawberry.field(description="Your id for this customer; unique.")
    email: str | None = None
    display_name: str | None = None
    referral_code: str | None = strawberry.field(
        default=None, description="The referring member's code, if they were referred."
    )


@strawberry.type
class EnrollMemberPayload:
    member: Member | None
    user_errors: list[UserError]


@strawberry.mutation(description="Enroll a member.", extensions=needs(Scope.MEMBERS_WRITE))
async def enroll_member_mutation(
    info: strawberry.Info[Context, None],
    input: EnrollMemberInput,
    idempotency_key: Annotated[str, strawberry.argument(description=IDEMPOTENCY_HELP)],
) -> EnrollMemberPayload:
    services = info.context.services
    outcome = await enroll_member(
        services.uow,
        services.clock,
        principal=writer_key(info),
        idempotency_key=idempotency_key,
        cmd=EnrollMember(
            external_id=input.external_id,
            email=input.email,
            display_name=input.display_name,
            referral_code=input.referral_code,
        ),
    )
    return EnrollMemberPayload(
        member=await member_of(info, outcome, enrolled=True), user_errors=errors_of(outcome)
    )
