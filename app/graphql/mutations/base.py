"""What every mutation shares: who is writing, which member, how results become payloads."""

from __future__ import annotations

import strawberry

from app.auth.scopes import Scope
from app.domain.errors import ErrorCode
from app.graphql.context import Context
from app.graphql.errors import BadInput
from app.graphql.ids import from_global_id
from app.graphql.permissions import may_read_member, own_member_id, principal_of
from app.graphql.types.common import UserError
from app.graphql.types.member import Balance, Member
from app.graphql.types.program import Tier
from app.graphql.types.redemption import Redemption
from app.services.common import MemberRef
from app.services.outcome import Outcome
from app.services.outcome import UserError as ServiceError

IDEMPOTENCY_HELP = (
    "Your unique key for this write. Retrying with the same key and input returns the "
    "first answer; reusing it for different input fails with IDEMPOTENCY_CONFLICT."
)


def writer_key(info: strawberry.Info[Context, None]) -> str:
    """Idempotency keys are scoped to the principal: two partners never collide."""
    return principal_of(info).key


def member_not_found() -> list[UserError]:
    return [UserError.of(ServiceError(ErrorCode.MEMBER_NOT_FOUND, "No such member.", "memberId"))]


async def target_member(
    info: strawberry.Info[Context, None],
    member_id: strawberry.ID | None,
    external_id: str | None,
    *,
    partner_scope: Scope,
) -> MemberRef | None:
    """The member a write acts on: a member token acts on itself only; a partner names one.

    None means the member cannot be addressed by this token (reported as MEMBER_NOT_FOUND).
    """
    principal = principal_of(info)
    if principal.is_member:
        own = await own_member_id(info)
        if own is None:
            return None
        if member_id is not None and from_global_id(str(member_id), expect="Member")[1] != own:
            return None
        if external_id is not None and external_id != principal.subject:
            return None
        return MemberRef(id=own)
    if not principal.has(partner_scope):
        return None
    if (member_id is None) == (external_id is None):
        raise BadInput("Give exactly one of memberId and externalId.", "memberId")
    if member_id is not None:
        return MemberRef(id=from_global_id(str(member_id), expect="Member", field="memberId")[1])
    return MemberRef(external_id=external_id)


def errors_of(outcome: Outcome) -> list[UserError]:
    return [UserError.of(e) for e in outcome.errors]


async def member_of(
    info: strawberry.Info[Context, None], outcome: Outcome, *, enrolled: bool = False
) -> Member | None:
    """The member a write touched, shown only to a token that may read that member (or,
    for enrollMember, to the members:write token that just enrolled it)."""
    if not outcome.ok or "memberId" not in outcome.data:
        return None
    member_id = int(outcome.data["memberId"])
    if not (enrolled or await may_read_member(info, member_id)):
        return None
    found = await info.context.loaders.member.load(member_id)
    return Member.of(found) if found else None


async def upgrade_of(info: strawberry.Info[Context, None], outcome: Outcome) -> Tier | None:
    """The tier this write lifted the member to, when it did."""
    key = outcome.data.get("upgradedTo") if outcome.ok else None
    version = await info.context.services.queries.program() if key else None
    tier = version.program.tier_by_key(key) if version else None
    return Tier.of(tier) if tier else None


def balance_of(outcome: Outcome) -> Balance | None:
    if not outcome.ok or "balance" not in outcome.data:
        return None
    return Balance.from_data(int(outcome.data["memberId"]), outcome.data["balance"])


async def redemption_of(
    info: strawberry.Info[Context, None], outcome: Outcome
) -> Redemption | None:
    if not outcome.ok:
        return None
    found = await info.context.loaders.redemption.load(int(outcome.data["redemptionId"]))
    return Redemption.of(found) if found else None
