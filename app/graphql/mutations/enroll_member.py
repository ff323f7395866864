"""enrollMember: a partner enrolls a member (members:write)."""

from __future__ import annotations

from typing import Annotated

import strawberry

from app.auth.scopes import Scope
from app.graphql.context import Context
from app.graphql.mutations.write import IDEMPOTENCY_HELP, WritePayload, Writer
from app.graphql.permissions import needs
from app.graphql.types.common import UserError
from app.graphql.types.member import Member
from app.services.enroll import EnrollMember, MemberEnrolled, enroll_member


@strawberry.input
class EnrollMemberInput:
    external_id: str = strawberry.field(description="Your id for this customer; unique.")
    email: str | None = None
    display_name: str | None = None
    referral_code: str | None = strawberry.field(
        default=None, description="The referring member's code, if they were referred."
    )


@strawberry.type
class EnrollMemberPayload(WritePayload):
    member: Member | None
    user_errors: list[UserError]


@strawberry.mutation(description="Enroll a member.", extensions=needs(Scope.MEMBERS_WRITE))
async def enroll_member_mutation(
    info: strawberry.Info[Context, None],
    input: EnrollMemberInput,
    idempotency_key: Annotated[str, strawberry.argument(description=IDEMPOTENCY_HELP)],
) -> EnrollMemberPayload:
    async def command(w: Writer) -> EnrollMember:
        return EnrollMember(
            external_id=input.external_id,
            email=input.email,
            display_name=input.display_name,
            referral_code=input.referral_code,
        )

    async def shown(w: Writer, done: MemberEnrolled) -> EnrollMemberPayload:
        return EnrollMemberPayload(
            member=await w.member_view(done.member_id, enrolled=True), user_errors=[]
        )

    return await Writer(info).run(
        enroll_member,
        command,
        idempotency_key=idempotency_key,
        shown=shown,
        failed=EnrollMemberPayload.failed,
    )
