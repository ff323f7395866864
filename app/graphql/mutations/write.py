"""The one way a mutation writes: resolve the member, run the use case, map the errors.

The whole path of a write is in docs/ARCHITECTURE.md, "A write, end to end".

A mutation gives `Writer.run` three things: how to build its command (`Writer.member`
resolves the member it acts on), the use case, and how to show the use case's typed result.
Every `DomainError` — raised while building the command or answered by the use case, first
time or replayed — becomes `userErrors` here, and nowhere else.

Which field an error names, one rule: the input field, in the client's own spelling
(`memberId`, `externalId`, `orderId`, `idempotencyKey`, ...). Input the API cannot turn into
a command at all (an unparseable id, both or neither of memberId and externalId) stays a
GraphQL error with code INVALID_INPUT: that is a malformed request, not a business answer.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable
from typing import Protocol, Self, TypeVar

import strawberry

from app.auth.scopes import Scope
from app.domain.errors import DomainError, ErrorCode
from app.domain.records import Balance as BalanceRecord
from app.graphql.context import Context
from app.graphql.errors import BadInput
from app.graphql.ids import from_global_id
from app.graphql.permissions import may_read_member, own_member_id, principal_of
from app.graphql.types.common import UserError
from app.graphql.types.member import Balance, Member
from app.graphql.types.program import Tier
from app.graphql.types.redemption import Redemption
from app.ledger.uow import UnitOfWork
from app.services.audit import record_refusal
from app.services.clock import Clock
from app.services.common import MemberRef
from app.services.outcome import Outcome

IDEMPOTENCY_HELP = (
    "Your unique key for this write (1 to 200 characters; keys are per client or member, so "
    "two never collide). Retrying with the same key and input returns the first answer; "
    "reusing it for different input fails with IDEMPOTENCY_CONFLICT."
)

#: Descriptions the payloads and inputs of several mutations share.
USER_ERRORS_HELP = (
    "Why the write did not happen; empty when it did. A write with user errors changed "
    "nothing, and the payload's other fields are null."
)
MEMBER_VIEW_HELP = (
    "The member the write touched, as they are now; null when the write failed or this "
    "token may not read the member (a partner needs members:read)."
)
BALANCE_AFTER_HELP = (
    "The member's balance as this write left it (a retry shows the same); null when the "
    "write failed."
)
MEMBER_ID_HELP = "The member's global id (Member.id); give exactly one of memberId and externalId."
EXTERNAL_ID_HELP = (
    "The member by your id for them (Member.externalId); give exactly one of memberId and "
    "externalId."
)

C = TypeVar("C")
C_contra = TypeVar("C_contra", contravariant=True)
R = TypeVar("R")
P = TypeVar("P")


class UseCase(Protocol[C_contra, R]):
    """A write use case: one transaction, idempotent per (principal, key)."""

    def __call__(
        self,
        uow: UnitOfWork,
        clock: Clock,
        *,
        principal: str,
        idempotency_key: str,
        cmd: C_contra,
    ) -> Awaitable[Outcome[R]]: ...


class WritePayload:
    """For payload types: a failed write shows every field as null, and its user errors."""

    @classmethod
    def failed(cls, errors: list[UserError]) -> Self:
        empty = dict.fromkeys(
            f.name
            for f in dataclasses.fields(cls)  # type: ignore[arg-type]  # strawberry types are dataclasses
            if f.name != "user_errors"
        )
        return cls(**empty, user_errors=errors)  # type: ignore[call-arg]


def member_not_found(ref_by_external_id: bool = False) -> DomainError:
    field = "externalId" if ref_by_external_id else "memberId"
    return DomainError(ErrorCode.MEMBER_NOT_FOUND, "No such member.", field)


class Writer:
    """One mutation call: who writes, with which services."""

    def __init__(self, info: strawberry.Info[Context, None]) -> None:
        self.info = info
        self.services = info.context.services

    @property
    def principal_key(self) -> str:
        """Idempotency keys are scoped to the principal: two partners never collide."""
        return principal_of(self.info).key

    async def member(
        self,
        member_id: strawberry.ID | None,
        external_id: str | None,
        *,
        partner_scope: Scope,
    ) -> MemberRef:
        """The member a write acts on: a member token acts on itself only; a partner with
        `partner_scope` names one. Anyone else's member is MEMBER_NOT_FOUND."""
        principal = principal_of(self.info)
        by_external_id = external_id is not None and member_id is None
        if principal.is_member:
            own = await own_member_id(self.info)
            if own is None:
                raise member_not_found(by_external_id)
            if member_id is not None and from_global_id(str(member_id), expect="Member")[1] != own:
                raise member_not_found()
            if external_id is not None and external_id != principal.subject:
                raise member_not_found(by_external_id)
            return MemberRef(id=own)
        if not principal.has(partner_scope):
            raise member_not_found(by_external_id)
        if (member_id is None) == (external_id is None):
            raise BadInput("Give exactly one of memberId and externalId.", "memberId")
        if member_id is not None:
            return MemberRef(
                id=from_global_id(str(member_id), expect="Member", field="memberId")[1]
            )
        return MemberRef(external_id=external_id)

    async def run(
        self,
        use_case: UseCase[C, R],
        command: Callable[[Writer], Awaitable[C]],
        *,
        idempotency_key: str,
        shown: Callable[[Writer, R], Awaitable[P]],
        failed: Callable[[list[UserError]], P],
    ) -> P:
        try:
            cmd = await command(self)
        except DomainError as error:
            await self._refused(idempotency_key, error.code)
            return failed([UserError.of_domain(error)])
        outcome = await use_case(
            self.services.uow,
            self.services.clock,
            principal=self.principal_key,
            idempotency_key=idempotency_key,
            cmd=cmd,
        )
        if not outcome.ok:
            if not outcome.audited:
                await self._refused(idempotency_key, outcome.errors[0].code)
            return failed([UserError.of(e) for e in outcome.errors])
        return await shown(self, outcome.value)

    async def _refused(self, idempotency_key: str, code: ErrorCode) -> None:
        """The audit row of a write refused before its transaction."""
        await record_refusal(
            self.services.uow,
            self.services.clock,
            principal=self.principal_key,
            idempotency_key=idempotency_key,
            operation=self.info.field_name,
            code=code,
        )

    # --- what a result shows -----------------------------------------------------------

    async def member_view(self, member_id: int, *, enrolled: bool = False) -> Member | None:
        """The member a write touched, shown only to a token that may read that member (or,
        for enrollMember, to the members:write token that just enrolled it)."""
        if not (enrolled or await may_read_member(self.info, member_id)):
            return None
        found = await self.info.context.loaders.member.load(member_id)
        return Member.of(found) if found else None

    async def tier(self, key: str | None) -> Tier | None:
        """The tier this write lifted the member to, when it did."""
        version = await self.services.queries.program() if key else None
        tier = version.program.tier_by_key(key) if version and key else None
        return Tier.of(tier) if tier else None

    async def redemption(self, redemption_id: int) -> Redemption | None:
        found = await self.info.context.loaders.redemption.load(redemption_id)
        return Redemption.of(found) if found else None

    @staticmethod
    def balance(balance: BalanceRecord) -> Balance:
        return Balance.of(balance)
