"""updateMember, suspendMember, reactivateMember (members:write) and eraseMember
(members:erase): a member's profile and standing, for partners and staff."""

from __future__ import annotations

from typing import Annotated

import strawberry

from app.auth.scopes import Scope
from app.graphql.context import Context
from app.graphql.mutations.write import (
    EXTERNAL_ID_HELP,
    IDEMPOTENCY_HELP,
    MEMBER_ID_HELP,
    MEMBER_VIEW_HELP,
    USER_ERRORS_HELP,
    WritePayload,
    Writer,
)
from app.graphql.permissions import needs
from app.graphql.types.common import UserError
from app.graphql.types.member import Member
from app.services.members import (
    ChangeStanding,
    EraseMember,
    MemberErased,
    MemberUpdated,
    StandingChanged,
    UpdateMember,
    erase_member,
    reactivate_member,
    suspend_member,
    update_member,
)


@strawberry.input(
    description="The member to change and what to change; give email or displayName, or both."
)
class UpdateMemberInput:
    member_id: strawberry.ID | None = strawberry.field(default=None, description=MEMBER_ID_HELP)
    external_id: str | None = strawberry.field(default=None, description=EXTERNAL_ID_HELP)
    email: str | None = strawberry.field(
        default=None,
        description="A new e-mail address (checked, its domain stored in lower case); an "
        "empty string removes it; null or absent leaves it as it is.",
    )
    display_name: str | None = strawberry.field(
        default=None,
        description="A new name to greet the member by (at most 200 characters); an empty "
        "string removes it; null or absent leaves it as it is.",
    )


@strawberry.input(
    description="The member, and why: the reason is kept with the member's status for staff."
)
class MemberStandingInput:
    member_id: strawberry.ID | None = strawberry.field(default=None, description=MEMBER_ID_HELP)
    external_id: str | None = strawberry.field(default=None, description=EXTERNAL_ID_HELP)
    reason: str = strawberry.field(
        description="Why (for example a fraud case number); 1 to 500 characters."
    )


@strawberry.type(description="What updateMember did.")
class UpdateMemberPayload(WritePayload):
    member: Member | None = strawberry.field(description=MEMBER_VIEW_HELP)
    user_errors: list[UserError] = strawberry.field(description=USER_ERRORS_HELP)


@strawberry.type(description="What suspendMember or reactivateMember did.")
class MemberStandingPayload(WritePayload):
    member: Member | None = strawberry.field(description=MEMBER_VIEW_HELP)
    user_errors: list[UserError] = strawberry.field(description=USER_ERRORS_HELP)


@strawberry.type(description="What eraseMember did.")
class EraseMemberPayload(WritePayload):
    erased_external_id: str | None = strawberry.field(
        description="The pseudonym that replaced the member's externalId; null when the "
        "write failed."
    )
    user_errors: list[UserError] = strawberry.field(description=USER_ERRORS_HELP)


@strawberry.mutation(
    description="Change a member's e-mail address or display name (members:write).",
    extensions=needs(Scope.MEMBERS_WRITE),
)
async def update_member_mutation(
    info: strawberry.Info[Context, None],
    input: Annotated[UpdateMemberInput, strawberry.argument(description="What to change.")],
    idempotency_key: Annotated[str, strawberry.argument(description=IDEMPOTENCY_HELP)],
) -> UpdateMemberPayload:
    async def command(w: Writer) -> UpdateMember:
        member = await w.member(
            input.member_id, input.external_id, partner_scope=Scope.MEMBERS_WRITE
        )
        return UpdateMember(member, email=input.email, display_name=input.display_name)

    async def shown(w: Writer, done: MemberUpdated) -> UpdateMemberPayload:
        return UpdateMemberPayload(member=await w.member_view(done.member_id), user_errors=[])

    return await Writer(info).run(
        update_member,
        command,
        idempotency_key=idempotency_key,
        shown=shown,
        failed=UpdateMemberPayload.failed,
    )


async def _standing(
    info: strawberry.Info[Context, None],
    input: MemberStandingInput,
    idempotency_key: str,
    *,
    suspend: bool,
) -> MemberStandingPayload:
    async def command(w: Writer) -> ChangeStanding:
        member = await w.member(
            input.member_id, input.external_id, partner_scope=Scope.MEMBERS_WRITE
        )
        return ChangeStanding(member, input.reason)

    async def shown(w: Writer, done: StandingChanged) -> MemberStandingPayload:
        return MemberStandingPayload(member=await w.member_view(done.member_id), user_errors=[])

    return await Writer(info).run(
        suspend_member if suspend else reactivate_member,
        command,
        idempotency_key=idempotency_key,
        shown=shown,
        failed=MemberStandingPayload.failed,
    )


@strawberry.mutation(
    description="Put a member on hold (members:write), for example while fraud is checked: "
    "the member keeps earning, and redeemReward answers MEMBER_SUSPENDED until "
    "reactivateMember. Suspending a suspended member is INVALID_STATE.",
    extensions=needs(Scope.MEMBERS_WRITE),
)
async def suspend_member_mutation(
    info: strawberry.Info[Context, None],
    input: Annotated[MemberStandingInput, strawberry.argument(description="Who, and why.")],
    idempotency_key: Annotated[str, strawberry.argument(description=IDEMPOTENCY_HELP)],
) -> MemberStandingPayload:
    return await _standing(info, input, idempotency_key, suspend=True)


@strawberry.mutation(
    description="Lift a member's hold (members:write): redemptions work again. Only a "
    "suspended member can be reactivated (INVALID_STATE otherwise).",
    extensions=needs(Scope.MEMBERS_WRITE),
)
async def reactivate_member_mutation(
    info: strawberry.Info[Context, None],
    input: Annotated[MemberStandingInput, strawberry.argument(description="Who, and why.")],
    idempotency_key: Annotated[str, strawberry.argument(description=IDEMPOTENCY_HELP)],
) -> MemberStandingPayload:
    return await _standing(info, input, idempotency_key, suspend=False)


@strawberry.mutation(
    description="Erase a member's personal data (members:erase), for a deletion request: "
    "e-mail, display name and referral code are removed and the externalId is replaced by "
    "a pseudonym. The points ledger stays, so program totals remain true; the member takes "
    "no more writes (MEMBER_NOT_FOUND) and cannot be found by the old externalId.",
    extensions=needs(Scope.MEMBERS_ERASE),
)
async def erase_member_mutation(
    info: strawberry.Info[Context, None],
    input: Annotated[
        MemberStandingInput, strawberry.argument(description="Who, and the request it answers.")
    ],
    idempotency_key: Annotated[str, strawberry.argument(description=IDEMPOTENCY_HELP)],
) -> EraseMemberPayload:
    async def command(w: Writer) -> EraseMember:
        member = await w.member(
            input.member_id, input.external_id, partner_scope=Scope.MEMBERS_ERASE
        )
        return EraseMember(member, input.reason)

    async def shown(w: Writer, done: MemberErased) -> EraseMemberPayload:
        return EraseMemberPayload(erased_external_id=done.pseudonym, user_errors=[])

    return await Writer(info).run(
        erase_member,
        command,
        idempotency_key=idempotency_key,
        shown=shown,
        failed=EraseMemberPayload.failed,
    )
