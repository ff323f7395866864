"""The schema: queries, mutations, subscriptions; caches on, crashes masked."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from functools import partial

import strawberry
from strawberry.extensions import ParserCache, ValidationCache

from app.graphql.errors import PublicErrors
from app.graphql.guard import RequestGuard
from app.graphql.mutation import Mutation
from app.graphql.query import Query
from app.graphql.scalars import DescribedDateTime, StrictDecimal
from app.graphql.subscription import Subscription
from app.graphql.types.activity import LedgerEntry
from app.graphql.types.member import Member
from app.graphql.types.redemption import Redemption
from app.graphql.types.reward import Reward

schema = strawberry.Schema(
    query=Query,
    mutation=Mutation,
    subscription=Subscription,
    types=[Member, Reward, Redemption, LedgerEntry],
    extensions=[
        # Factories: a fresh extension per operation; the caches are shared module-wide.
        # The guard sets the parser's token limit, so a document over it is never cached;
        # bodies are bounded (RequestBounds) before they get here.
        partial(ParserCache, maxsize=256),
        partial(ValidationCache, maxsize=256),
        RequestGuard,
        PublicErrors,
    ],
    scalar_overrides={Decimal: StrictDecimal, datetime: DescribedDateTime},
)
