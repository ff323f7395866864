"""Shared GraphQL types: Node, PageInfo, user errors, scalars."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from enum import Enum
from typing import Generic, TypeVar

import strawberry
from strawberry.types.enum import EnumValue, has_enum_definition

from app.domain.errors import DomainError, ErrorCode
from app.domain.records import Page
from app.graphql.ids import encode_cursor
from app.services.outcome import UserError as DomainUserError

E = TypeVar("E", bound=Enum)


def publish_enum(
    enum_cls: type[E], name: str, description: str, values: Mapping[E, str]
) -> type[E]:
    """Publish a domain enum as a GraphQL enum, with a description for each value.

    The domain layer does not import strawberry, so its enums cannot carry
    `strawberry.enum_value(...)`; their descriptions live here instead. A member without a
    description (say, one just added in app/domain) or a key that is not a member fails at
    import, so the schema is never built with an undescribed value."""
    missing = [m.name for m in enum_cls if not values.get(m, "").strip()]
    strays = [repr(k) for k in values if not isinstance(k, enum_cls)]
    if missing or strays:
        raise TypeError(
            f"publish_enum({enum_cls.__name__} as {name}): "
            + "; ".join(
                part
                for part in (
                    f"no description for {', '.join(missing)}" if missing else "",
                    f"not members: {', '.join(strays)}" if strays else "",
                )
                if part
            )
        )
    published = strawberry.enum(enum_cls, name=name, description=description)
    for value in _enum_values(published):
        value.description = values[enum_cls(value.value)]
    return published


def _enum_values(published: object) -> list[EnumValue]:
    assert has_enum_definition(published)
    return published.__strawberry_definition__.values


#: The arguments every connection takes.
FIRST_HELP = "How many items to return: 1 to 100."
AFTER_HELP = (
    "Start after this cursor (an edge's cursor or pageInfo.endCursor of the previous page); "
    "omit for the first page."
)

UserErrorCode = publish_enum(
    ErrorCode,
    "UserErrorCode",
    "Why a write did not happen (UserError.code), or why it would not "
    "(AvailableReward.reason): a stable code to branch on.",
    {
        ErrorCode.INSUFFICIENT_POINTS: "The member's available points do not cover it: a "
        "redemption's cost times quantity, or a negative adjustment.",
        ErrorCode.OUT_OF_STOCK: "The reward's remaining stock is less than the quantity asked for.",
        ErrorCode.TIER_REQUIRED: "The reward needs a higher tier than the member holds "
        "(Reward.minTier).",
        ErrorCode.LIMIT_REACHED: "A limit is reached: the reward's perMemberLimit, an activity "
        "that already counted, or points past 2147483647 (the largest Int).",
        ErrorCode.REWARD_UNAVAILABLE: "The reward is closed or outside its activeFrom/activeUntil "
        "window, or no program is active.",
        ErrorCode.REWARD_NOT_FOUND: "No reward has that rewardId.",
        ErrorCode.MEMBER_NOT_FOUND: "No member with that memberId or externalId that this token "
        "may act on (a member token naming another member gets this too).",
        ErrorCode.MEMBER_EXISTS: "A member with this externalId is already enrolled.",
        ErrorCode.MEMBER_SUSPENDED: "The member is suspended (suspendMember) and cannot "
        "redeem until reactivateMember.",
        ErrorCode.ORDER_NOT_FOUND: "No purchase was recorded with that orderId.",
        ErrorCode.ORDER_EXISTS: "A purchase with this orderId is already recorded. To retry a "
        "purchase, resend it with its first idempotencyKey.",
        ErrorCode.REDEMPTION_NOT_FOUND: "No redemption with that id that this token may resolve "
        "(a member token sees only its own).",
        ErrorCode.WEBHOOK_ENDPOINT_NOT_FOUND: "No webhook endpoint (or delivery) with that id.",
        ErrorCode.CART_NOT_FOUND: "No points are applied to that cartId for this member "
        "(applyPointsAtCheckout first).",
        ErrorCode.INVALID_STATE: "The write does not fit the current state: the redemption is "
        "already final (FULFILLED, DELIVERED, FAILED or CANCELLED), a cart is already paid or "
        "its points are no longer held, or no program is active.",
        ErrorCode.INVALID_TRANSITION: "The redemption's kind and status do not allow that move "
        "(the message says where it can go); nothing changed.",
        ErrorCode.IDEMPOTENCY_CONFLICT: "This token already used the idempotencyKey for a "
        "different request; nothing was written. Use a new key for a new write.",
        ErrorCode.INVALID_INPUT: "A value was refused (wrong currency, a date out of range, text "
        "too long, ...); field names it. activateProgram reports each problem of the file so.",
        ErrorCode.FORBIDDEN: "Not returned in userErrors today: a missing scope is a GraphQL "
        "error whose extensions.code is FORBIDDEN.",
    },
)


@strawberry.interface(description="An object with a global id (Relay).")
class Node:
    id: strawberry.ID = strawberry.field(
        description="Opaque global id; node(id:) finds the object by it, and every argument "
        "that takes this type's id accepts it."
    )


@strawberry.type(description="Where a page ends, and whether another follows.")
class PageInfo:
    has_next_page: bool = strawberry.field(
        description="True when more items follow; ask again with after: endCursor."
    )
    end_cursor: str | None = strawberry.field(
        description="The cursor of this page's last edge; null when the page is empty."
    )


@strawberry.type(description="An expected failure: what went wrong, where, as a stable code.")
class UserError:
    field: str | None = strawberry.field(
        description="The input field at fault, spelled as the client sent it (memberId, orderId, "
        "lines[0].sku, ...), or the place in the file for activateProgram; null when no one "
        "field is."
    )
    code: UserErrorCode = strawberry.field(  # type: ignore[valid-type]
        description="What went wrong, as a stable code to branch on."
    )
    message: str = strawberry.field(
        description="A readable explanation for developers and logs; its wording may change, "
        "so branch on code."
    )

    @classmethod
    def of(cls, error: DomainUserError) -> UserError:
        return cls(field=error.field, code=error.code, message=error.message)

    @classmethod
    def of_domain(cls, error: DomainError) -> UserError:
        return cls(field=error.field, code=error.code, message=error.message)


N = TypeVar("N")
T = TypeVar("T")


@strawberry.type(description="One item of a page, with the cursor that continues after it.")
class Edge(Generic[N]):
    cursor: str = strawberry.field(
        description="Opaque; pass it as after to get the items that follow this one."
    )
    node: N = strawberry.field(description="The item.")


@strawberry.type(
    description="One page of a list (Relay connection). For the next page, pass "
    "pageInfo.endCursor as after."
)
class Connection(Generic[N]):
    """A Relay connection; `Connection[Reward]` is published as `RewardConnection`."""

    edges: list[Edge[N]] = strawberry.field(description="This page's items, in the list's order.")
    page_info: PageInfo = strawberry.field(
        description="Whether more items follow, and the cursor to continue from."
    )

    @classmethod
    def of(cls, page: Page[T], node: Callable[[T], N], key: Callable[[T], int]) -> Connection[N]:
        """One page of rows as a connection: each edge's cursor continues after its row."""
        edges = [Edge(cursor=encode_cursor(key(row)), node=node(row)) for row in page.items]
        return cls(
            edges=edges,
            page_info=PageInfo(
                has_next_page=page.has_next, end_cursor=edges[-1].cursor if edges else None
            ),
        )
