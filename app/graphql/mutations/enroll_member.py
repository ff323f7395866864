"""enrollMember: a partner enrolls a member (members:write)."""

from __future__ import annotations

from typing import Annotated

import strawberry

from app.auth.scopes import Scope
from app.graphql.context import Context
from app.graphql.mutations.write import (
    IDEMPOTENCY_HELP,
    USER_ERRORS_HELP,
    WritePayload,
    Writer,
)
from app.graphql.permissions import needs
from app.graphql.types.common import UserError
from app.graphql.types.member import Member
from app.services.enroll import EnrollMember, MemberEnrolled, enroll_member


@strawberry.input(description="The customer to enroll.")
class EnrollMemberInput:
    external_id: str = strawberry.field(
        description="Your id for this customer; unique (MEMBER_EXISTS when taken), 1 to 200 "
        "characters."
    )
    email: str | None = strawberry.field(
        default=None,
        description="E-mail address, checked and stored with its domain in lower case; at "
        "most 254 characters.",
    )
    display_name: str | None = strawberry.field(
        default=None, description="The name to greet the member by; at most 200 characters."
    )
    referral_code: str | None = strawberry.field(
        default=None,
        description="The referring member's code (Member.referralCode), if they were referred; "
        "an unknown code is INVALID_INPUT.",
    )


@strawberry.type(description="What enrollMember did.")
class EnrollMemberPayload(WritePayload):
    member: Member | None = strawberry.field(
        description="The new member, with its own referralCode; null when the write failed."
    )
    user_errors: list[UserError] = strawberry.field(description=USER_ERRORS_HELP)


@strawberry.mutation(
    description="Enroll a member (members:write). Each member gets a referralCode to share; "
    "a referral is linked only here, at enrolment.",
    extensions=needs(Scope.MEMBERS_WRITE),
)
async def enroll_member_mutation(
    info: strawberry.Info[Context, None],
    input: Annotated[EnrollMemberInput, strawberry.argument(description="Who to enroll.")],
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
