"""Root queries. Each checks scopes; a member token only ever resolves its own member."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, cast

import strawberry
from strawberry.scalars import JSON

from app.auth.scopes import Scope
from app.domain.errors import DomainError
from app.domain.records import Page
from app.domain.text import check_text
from app.graphql.context import Context
from app.graphql.errors import BadInput, PublicError
from app.graphql.ids import decode_cursor, from_global_id, page_size
from app.graphql.permissions import may_read_member, needs, own_member_id, principal_of
from app.graphql.types.activity import LedgerEntry, RuleAward
from app.graphql.types.audit import AuditEntry
from app.graphql.types.common import AFTER_HELP, FIRST_HELP, Connection, Node
from app.graphql.types.event import EventType, WebhookEvent
from app.graphql.types.inbound import inbound_events_field
from app.graphql.types.member import Member
from app.graphql.types.order import Channel, OrderLineInput
from app.graphql.types.program import CheckoutOffer, PointsEstimate, Program, Tier
from app.graphql.types.redemption import Redemption
from app.graphql.types.reward import Reward
from app.graphql.types.webhook import WebhookEndpoint

#: How `member` and `exportMember` name a member: by global id or by your id, one of them.
MemberIdArg = Annotated[
    strawberry.ID | None,
    strawberry.argument(description="The member's global id; give this or externalId."),
]
ExternalIdArg = Annotated[
    str | None,
    strawberry.argument(description="Your id for the customer; give this or id."),
]

ANY_READER = (Scope.LOYALTY_READ, Scope.REWARDS_READ, Scope.MEMBERS_READ, Scope.POINTS_WRITE)


async def load_member(info: strawberry.Info[Context, None], member_id: int) -> Member | None:
    if not await may_read_member(info, member_id):
        return None
    found = await info.context.loaders.member.load(member_id)
    return Member.of(found) if found else None


async def find_member_id(
    info: strawberry.Info[Context, None], id: strawberry.ID | None, external_id: str | None
) -> int | None:
    if (id is None) == (external_id is None):
        raise BadInput("Give exactly one of id and externalId.", "id")
    if id is not None:
        return from_global_id(str(id), expect="Member")[1]
    try:  # refused before the lookup, which would fail the whole batch (a NUL on PostgreSQL)
        check_text(str(external_id), "externalId")
    except DomainError as error:
        raise BadInput(error.message, error.field) from None
    found = await info.context.loaders.member_by_external_id.load(str(external_id))
    return found.id if found else None


@strawberry.type(
    description="Reads. Each field names the scopes that may call it; a member token only ever "
    "reaches its own member."
)
class Query:
    @strawberry.field(
        description="The member behind a member token (loyalty:read); null for a partner token "
        "or a member not enrolled yet.",
        extensions=needs(Scope.LOYALTY_READ),
    )
    async def viewer(self, info: strawberry.Info[Context, None]) -> Member | None:
        member_id = await own_member_id(info)
        return None if member_id is None else await load_member(info, member_id)

    @strawberry.field(
        description="A member by id or externalId; null when there is none this token may read. "
        "Partners need members:read; a member token (loyalty:read) sees only itself.",
        extensions=needs(Scope.MEMBERS_READ, Scope.LOYALTY_READ),
    )
    async def member(
        self,
        info: strawberry.Info[Context, None],
        id: MemberIdArg = None,
        external_id: ExternalIdArg = None,
    ) -> Member | None:
        member_id = await find_member_id(info, id, external_id)
        return None if member_id is None else await load_member(info, member_id)

    @strawberry.field(
        description="Everything Tally holds on a member, for an access request (GDPR article "
        "15): the member row and every row that names the member, table by table, as JSON. "
        "Partners need members:read; a member token (loyalty:read) exports only itself. "
        "Null when there is no such member this token may read.",
        extensions=needs(Scope.MEMBERS_READ, Scope.LOYALTY_READ),
    )
    async def export_member(
        self,
        info: strawberry.Info[Context, None],
        id: MemberIdArg = None,
        external_id: ExternalIdArg = None,
    ) -> JSON | None:
        member_id = await find_member_id(info, id, external_id)
        if member_id is None or not await may_read_member(info, member_id):
            return None
        exported = await info.context.services.queries.export_member(member_id)
        return cast(JSON, exported.as_document()) if exported is not None else None

    @strawberry.field(
        description="The audit trail (audit:read): every write through the API, newest "
        "first, with who made it, through which client, its idempotency key, request id, "
        "source address and outcome.",
        extensions=needs(Scope.AUDIT_READ),
    )
    async def audit_trail(
        self,
        info: strawberry.Info[Context, None],
        first: Annotated[int | None, strawberry.argument(description=FIRST_HELP)] = 20,
        after: Annotated[str | None, strawberry.argument(description=AFTER_HELP)] = None,
        member_id: Annotated[
            strawberry.ID | None,
            strawberry.argument(description="Only the writes that changed this member."),
        ] = None,
    ) -> Connection[AuditEntry]:
        limit = page_size(first)
        pk = (
            from_global_id(str(member_id), expect="Member", field="memberId")[1]
            if member_id is not None
            else None
        )
        rows = await info.context.services.queries.audit_trail(
            before_id=decode_cursor(after), limit=limit + 1, member_id=pk
        )
        page = Page(items=rows[:limit], has_next=len(rows) > limit)
        return Connection.of(page, AuditEntry.of, key=lambda e: e.id)

    inbound_events = strawberry.field(
        inbound_events_field,
        description="Store order webhooks as received (orders:manage), newest first: each "
        "one's topic, what became of it, and why it failed. retryInboundEvent tries a "
        "failed one again.",
        extensions=needs(Scope.ORDERS_MANAGE),
    )

    @strawberry.field(
        description="The webhook endpoints (webhooks:manage), oldest first, each with its "
        "deliveries and their attempts.",
        extensions=needs(Scope.WEBHOOKS_MANAGE),
    )
    async def webhook_endpoints(
        self,
        info: strawberry.Info[Context, None],
        first: Annotated[int | None, strawberry.argument(description=FIRST_HELP)] = 20,
        after: Annotated[str | None, strawberry.argument(description=AFTER_HELP)] = None,
    ) -> Connection[WebhookEndpoint]:
        page = await info.context.services.queries.webhook_endpoints(
            after=decode_cursor(after) or 0, limit=page_size(first)
        )
        return Connection.of(page, WebhookEndpoint.of, key=lambda e: e.id)

    @strawberry.field(
        description="The published events in commit order (events:read), for a CDP or "
        "warehouse that pulls: the same ids and data as webhook deliveries. Continue with "
        "the last cursor to get only what came after; `tally events export` writes them "
        "as NDJSON.",
        extensions=needs(Scope.EVENTS_READ),
    )
    async def events(
        self,
        info: strawberry.Info[Context, None],
        first: Annotated[int | None, strawberry.argument(description=FIRST_HELP)] = 20,
        after: Annotated[str | None, strawberry.argument(description=AFTER_HELP)] = None,
        types: Annotated[
            list[EventType] | None,
            strawberry.argument(description="Only events of these types; null: all."),
        ] = None,
        member_id: Annotated[
            strawberry.ID | None,
            strawberry.argument(description="Only this member's events."),
        ] = None,
    ) -> Connection[WebhookEvent]:
        pk = (
            from_global_id(str(member_id), expect="Member", field="memberId")[1]
            if member_id is not None
            else None
        )
        page = await info.context.services.queries.events(
            after=decode_cursor(after) or 0,
            limit=page_size(first),
            types=set(types) if types else None,
            member_id=pk,
        )
        return Connection.of(page, WebhookEvent.of, key=lambda e: e.sequence)

    @strawberry.field(
        description="The redemption a discount code was given out with, for a till or a "
        "checkout that scans it; null for a code Tally never issued. Partners with "
        "redemptions:write or members:read.",
        extensions=needs(Scope.REDEMPTIONS_WRITE, Scope.MEMBERS_READ),
    )
    async def redemption_by_code(
        self,
        info: strawberry.Info[Context, None],
        code: Annotated[str, strawberry.argument(description="The code as printed or scanned.")],
    ) -> Redemption | None:
        try:
            check_text(code, "code", limit=100)
        except DomainError as error:
            raise BadInput(error.message, error.field) from None
        found = await info.context.services.queries.redemption_by_code(code.strip())
        return Redemption.of(found) if found else None

    @strawberry.field(
        description="Any Member, Reward, Redemption or LedgerEntry by its global id; null when "
        "there is none this token may see. Needs loyalty:read, rewards:read, members:read or "
        "points:write.",
        extensions=needs(*ANY_READER),
    )
    async def node(
        self,
        info: strawberry.Info[Context, None],
        id: Annotated[strawberry.ID, strawberry.argument(description="An object's id field.")],
    ) -> Node | None:
        type_name, pk = from_global_id(str(id))
        principal = principal_of(info)
        if type_name == "Member":
            return await load_member(info, pk)
        if type_name == "Reward":
            if not principal.has(Scope.REWARDS_READ) and not principal.has(Scope.LOYALTY_READ):
                return None
            reward = await info.context.loaders.reward.load(pk)
            return Reward.of(reward) if reward else None
        if type_name == "Redemption":
            redemption = await info.context.loaders.redemption.load(pk)
            if redemption is None or not await may_read_member(info, redemption.member_id):
                return None
            return Redemption.of(redemption)
        if type_name == "LedgerEntry":
            entry = await info.context.loaders.entry.load(pk)
            if entry is None or not await may_read_member(info, entry.member_id):
                return None
            return LedgerEntry.of(entry)
        return None

    @strawberry.field(
        description="The active program; null before one is applied. Needs loyalty:read, "
        "rewards:read, members:read or points:write.",
        extensions=needs(*ANY_READER),
    )
    async def program(self, info: strawberry.Info[Context, None]) -> Program | None:
        version = await info.context.services.queries.program()
        return Program.of(version) if version else None

    @strawberry.field(
        description="The reward catalog (rewards:read): every reward that is not closed, oldest "
        "first. Member.availableRewards says whether one member can redeem each.",
        extensions=needs(Scope.REWARDS_READ),
    )
    async def rewards(
        self,
        info: strawberry.Info[Context, None],
        first: Annotated[int | None, strawberry.argument(description=FIRST_HELP)] = 20,
        after: Annotated[str | None, strawberry.argument(description=AFTER_HELP)] = None,
    ) -> Connection[Reward]:
        member_token = principal_of(info).is_member
        page = await info.context.services.queries.reward_page(
            after=decode_cursor(after) or 0,
            limit=page_size(first),
            seen_by=await own_member_id(info) if member_token else None,
            member_token=member_token,
        )
        return Connection.of(page, Reward.of, key=lambda r: r.id)

    @strawberry.field(
        description="What an order would earn, with the member's tier multiplier. Writes "
        "nothing; a refusal (wrong currency, no active program) is a GraphQL error with "
        "extensions.code. Needs rewards:read, points:write or loyalty:read.",
        extensions=needs(Scope.REWARDS_READ, Scope.POINTS_WRITE, Scope.LOYALTY_READ),
    )
    async def estimate_points(
        self,
        info: strawberry.Info[Context, None],
        amount: Annotated[
            Decimal,
            strawberry.argument(
                description="What the member would pay, before tax and shipping, in currency."
            ),
        ],
        currency: Annotated[
            str, strawberry.argument(description="ISO 4217 code; must be the program's currency.")
        ],
        member_id: Annotated[
            strawberry.ID | None,
            strawberry.argument(
                description="Whose tier and caps to apply; a member token may omit it for itself. "
                "Without a member this token may read, the first tier is used."
            ),
        ] = None,
        channel: Annotated[
            Channel, strawberry.argument(description="Where the order would be placed.")
        ] = Channel.ONLINE,
        lines: Annotated[
            list[OrderLineInput] | None,
            strawberry.argument(
                description="The order's lines, for SKU and category rules; their amounts after "
                "discounts must add up to amount."
            ),
        ] = None,
    ) -> PointsEstimate:
        pk: int | None = None
        if member_id is not None:
            pk = from_global_id(str(member_id), expect="Member", field="memberId")[1]
            if not await may_read_member(info, pk):
                pk = None
        elif principal_of(info).is_member:
            pk = await own_member_id(info)
        try:
            e = await info.context.services.queries.estimate(
                amount=str(amount),
                currency=currency,
                member_id=pk,
                channel=channel.value,
                lines=tuple(line.to_domain() for line in lines or ()),
            )
        except DomainError as error:
            raise PublicError(error.message, error.code.value, error.field) from None
        return PointsEstimate(
            points=e.points,
            breakdown=[RuleAward.of(a) for a in e.awards],
            base_points=e.base_points,
            multiplier=e.multiplier,
            tier=Tier.of(e.tier) if e.tier else None,
            currency=e.currency,
            checkout=CheckoutOffer.of(e.checkout) if e.checkout else None,
        )
