"""The schema: queries, mutations, subscriptions; caches on, crashes masked."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from functools import partial

import strawberry
from graphql import GraphQLError
from strawberry.types import ExecutionContext

from app.graphql.errors import PublicErrors, should_mask
from app.graphql.guard import GuardedParserCache, GuardedValidationCache, RequestGuard
from app.graphql.mutation import Mutation
from app.graphql.query import Query
from app.graphql.scalars import DescribedDateTime, StrictDecimal
from app.graphql.subscription import Subscription
from app.graphql.types.activity import LedgerEntry
from app.graphql.types.member import Member
from app.graphql.types.redemption import Redemption
from app.graphql.types.reward import Reward


class TallySchema(strawberry.Schema):
    """Logs what is a bug (a crash the client sees masked) with its traceback. A client's
    own mistake (parse, validation, limit, input, permission) is answered, not logged:
    strawberry logs each with its whole document, which cost more CPU than refusing it."""

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        super().process_errors([e for e in errors if should_mask(e)], execution_context)


schema = TallySchema(
    query=Query,
    mutation=Mutation,
    subscription=Subscription,
    types=[Member, Reward, Redemption, LedgerEntry],
    extensions=[
        # Factories: a fresh extension per operation; the caches are shared module-wide.
        # The guard sets the parser's token limit, so a document over it is never cached;
        # bodies are bounded (RequestBounds) before they get here. The guard measures
        # before validation, and a document it refuses is neither validated nor cached.
        partial(GuardedParserCache, maxsize=256),
        RequestGuard,
        partial(GuardedValidationCache, maxsize=256),
        PublicErrors,
    ],
    scalar_overrides={Decimal: StrictDecimal, datetime: DescribedDateTime},
)
