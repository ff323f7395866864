"""A bounded GraphQL fuzz (issue 8): queries and mutations generated over the whole schema
by hypothesis-graphql, each sent over HTTP with a member's token and a partner's token.

Whatever the document, the answer is never a 5xx and never a masked crash
(`INTERNAL_SERVER_ERROR`, "Unexpected error."): generated input is the client's mistake at
worst, and a client's mistake is explained (BAD_USER_INPUT, a userErrors entry, ...).

Documents of one root field and of several, with scalars valid seven times in eight (one
bad literal refuses the whole document before anything runs), and a fifth of them with one
schema violation (hypothesis-graphql's negative mode). Each test shares one app and one
database across its examples: seeded members, a purchase and a redemption to name, and
whatever the generated mutations wrote before.

`make test` runs SCALE times the loaded profile's examples (`quick`: 200 a test);
`make fuzz` runs this file with the `deep` profile (3200 a test). A failure found is a bug
in the app: fix it there and pin it in test_api_honest_errors.py.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import graphql
import pytest
from hypothesis import given, note
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from hypothesis_graphql import Mode, mutations, nodes, queries

from app.auth.scopes import ALL_SCOPES, MEMBER_SCOPES
from app.graphql.errors import MASKED
from app.graphql.ids import encode_cursor, to_global_id
from app.graphql.schema import schema
from app.services.clock import FixedClock
from app.services.program import DEMO_PROGRAM
from tests.api import ops
from tests.api.client import Api, make_settings, open_api

SDL = schema.as_str()
# Generous buckets: the fuzz is about answers, not throttling; every other limit stays at
# its default, so LIMIT_REACHED is one of the answers it meets.
RATE = (10**9, 10**9)
MEMBERS = ("m-1", "m-2")
ORDERS = ("o-1", "o-2")
Strategy = st.SearchStrategy[graphql.ValueNode]
# Documents per test, as a multiple of the loaded profile's max_examples: an example is
# two requests of a few milliseconds (quick: 200 a test, about 4 s; deep: 3200, about 2 minutes).
SCALE = 8


def _mostly(valid: Strategy, nonsense: Strategy) -> Strategy:
    """Valid seven times in eight: one bad literal fails the whole document before anything
    runs, so most values must be good for documents to reach the resolvers."""
    return st.integers(0, 7).flatmap(lambda i: nonsense if i == 0 else valid)


def decimals() -> Strategy:
    """Amounts the scalar takes (strings and JSON integers), and what it must refuse."""
    valid = st.one_of(
        st.decimals(min_value=0, max_value=10**4, places=2).map(str),
        st.sampled_from(
            ["0", "-5", "-0", "0.01", "1000000000", "9" * 16, "9" * 16 + "." + "9" * 16]
        ),
    ).map(nodes.String) | st.integers(-(10**12), 10**12).map(nodes.Int)
    nonsense = st.one_of(
        st.sampled_from(
            ["1e3", "1_000", "  5  ", "NaN", "Infinity", "0." + "0" * 20 + "1", "\u0661\u0662", ""]
        ).map(nodes.String),
        st.text(max_size=20).map(nodes.String),
        st.floats(allow_nan=False, allow_infinity=False).map(nodes.Float),
        st.booleans().map(nodes.Boolean),
    )
    return _mostly(valid, nonsense)


def _offsets() -> st.SearchStrategy[timezone]:
    return st.integers(-14 * 60, 14 * 60).map(lambda m: timezone(timedelta(minutes=m)))


def datetimes(now: datetime) -> Strategy:
    """Times around now and anywhere Python holds them, and what is not a time."""
    near = st.integers(-400 * 86400, 2 * 86400).map(lambda s: now + timedelta(seconds=s))
    anywhere = st.datetimes(timezones=st.just(UTC))
    valid = st.one_of(
        st.tuples(near, _offsets()).map(lambda p: p[0].astimezone(p[1]).isoformat()),
        anywhere.map(lambda d: d.isoformat()),
        st.tuples(anywhere, _offsets()).map(lambda p: p[0].replace(tzinfo=p[1]).isoformat()),
        st.datetimes().map(lambda d: d.isoformat()),  # naive
        st.sampled_from(
            [
                "0001-01-01T00:00:00Z",
                "0001-01-01T00:00:00+05:00",
                "0001-01-01T00:00:00-05:00",
                "9999-12-31T23:59:59-05:00",
                "9999-12-31T23:59:59.999999+00:00",
                "9999-12-31T23:59:59.999999+14:00",
                "2026-01-05",
            ]
        ),
    ).map(nodes.String)
    nonsense = st.one_of(
        st.sampled_from(["2026-13-45T00:00:00Z", "2026-02-30", "yesterday", "", "T"]),
        st.text(max_size=30),
    ).map(nodes.String) | st.integers().map(nodes.Int)
    return _mostly(valid, nonsense)


def ids(seeded: list[str]) -> Strategy:
    """Ids of what was seeded, ids of the wrong type or of nothing, and not ids at all."""
    types = st.sampled_from(["Member", "Reward", "Redemption", "LedgerEntry", "Nope", ""])
    valid = st.sampled_from(seeded).map(nodes.String)
    nonsense = st.one_of(
        st.builds(to_global_id, types, st.integers(-(2**63), 2**63)),
        st.builds(to_global_id, types, st.integers(1, 10)),
        st.text(max_size=30),
    ).map(nodes.String) | st.integers(-3, 10).map(nodes.Int)  # GraphQL's ID takes an Int too
    return _mostly(valid, nonsense)


def strings() -> Strategy:
    """Text that names what was seeded (members, orders, the currency), fresh keys and ids,
    program definitions good and bad, and any text."""
    program = DEMO_PROGRAM.read_text()
    named = st.sampled_from(
        [*MEMBERS, *ORDERS, "EUR", "USD", "coffee", "tote", "lounge", encode_cursor(1), "a@b.co"]
    )
    fresh = st.integers(0, 10**6).map(lambda n: f"k-{n}")  # a new key, order or member
    programs = st.sampled_from(
        [program, program.replace("10", "-1"), "[program]\nname = 1", "= = =", ""]
    )
    valid = st.one_of(named, fresh, named, fresh, programs)
    return _mostly(valid.map(nodes.String), st.text(max_size=40).map(nodes.String))


def ints() -> Strategy:
    """Small numbers (pages, quantities, points) more often than the whole 32-bit range."""
    return _mostly(
        st.integers(-3, 120).map(nodes.Int), st.integers(-(2**31), 2**31 - 1).map(nodes.Int)
    )


def json_values() -> Strategy:
    """Any JSON literal (no input takes JSON yet; one that does is fuzzed from the start)."""
    names = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,8}", fullmatch=True)
    leaves = st.one_of(
        st.just(nodes.Null),
        st.booleans().map(nodes.Boolean),
        st.integers().map(nodes.Int),
        st.floats(allow_nan=False, allow_infinity=False).map(nodes.Float),
        st.text(max_size=10).map(nodes.String),
    )

    def containers(children: Strategy) -> Strategy:
        fields = st.dictionaries(names, children, max_size=3).map(
            lambda d: [
                graphql.ObjectFieldNode(name=graphql.NameNode(value=k), value=v)
                for k, v in d.items()
            ]
        )
        return st.lists(children, max_size=3).map(nodes.List) | fields.map(nodes.Object)

    return st.recursive(leaves, containers, max_leaves=8)


def documents(kind: str, seeded: list[str], now: datetime) -> st.SearchStrategy[str]:
    scalars = {
        "Decimal": decimals(),
        "DateTime": datetimes(now),
        "ID": ids(seeded),
        "String": strings(),
        "Int": ints(),
        "JSON": json_values(),
    }
    build = queries if kind == "query" else mutations
    root = schema._schema.query_type if kind == "query" else schema._schema.mutation_type
    assert root is not None
    # Documents of one root field (each field as likely as any other) and of several.
    valid = st.one_of(
        *(build(SDL, fields=[name], custom_scalars=scalars) for name in sorted(root.fields)),
        build(SDL, custom_scalars=scalars),
    )
    violating = build(SDL, custom_scalars=scalars, mode=Mode.NEGATIVE)  # one schema violation
    return st.integers(0, 4).flatmap(lambda i: violating if i == 0 else valid)


async def _seed(api: Api) -> list[str]:
    """Two members, a purchase, a redemption: global ids a generated document can name."""
    first = await ops.enroll(api, MEMBERS[0])
    second = await ops.enroll(api, MEMBERS[1])
    await ops.adjust(api, first, 500)
    await ops.purchase(api, first, ORDERS[0], "25.00")
    rewards = await ops.reward_ids(api)
    redeemed = await api.data(
        ops.REDEEM,
        {
            "key": ops.key(),
            "input": {"rewardId": rewards["coffee"], "memberId": ops.member_gid(first)},
        },
    )
    redemption = redeemed["redeemReward"]["redemption"]["id"]
    return [ops.member_gid(first), ops.member_gid(second), *rewards.values(), redemption]


def _problems(status: int, text: str, body: dict[str, Any] | None) -> list[str]:
    if status >= 500:
        return [f"status {status}: {text[:500]}"]
    if body is None:
        return []
    found = []
    for error in body.get("errors") or []:
        code = (error.get("extensions") or {}).get("code")
        if code == "INTERNAL_SERVER_ERROR" or error.get("message") == MASKED or code is None:
            found.append(f"{code}: {error}")
    return found


async def _send(api: Api, document: str, tokens: dict[str, str]) -> list[str]:
    problems = []
    for who, token in tokens.items():
        try:
            response = await api.post(document, token=token)
        except (Exception, asyncio.CancelledError) as error:  # a crash past the app's handlers
            problems.append(f"{who}: the request raised {error!r}")
            continue
        try:
            body = response.json() if response.status_code < 500 else None
        except ValueError:
            problems.append(
                f"{who}: status {response.status_code}, not JSON: {response.text[:200]}"
            )
            continue
        problems += [f"{who}: {p}" for p in _problems(response.status_code, response.text, body)]
    return problems


@pytest.mark.parametrize("kind", ["query", "mutation"])
def test_generated_operations_never_crash(kind: str, db_url: str, tmp_path: Path) -> None:
    # Fixed at the test's start: the seeded purchase (ops.just_now) is a minute before it.
    clock = FixedClock(datetime.now(UTC))
    settings = make_settings(db_url, tmp_path, member_rate=RATE, client_rate=RATE)
    stack = contextlib.AsyncExitStack()
    with asyncio.Runner() as runner:
        api = runner.run(stack.enter_async_context(open_api(settings, clock=clock)))
        try:
            seeded = runner.run(_seed(api))
            tokens = {
                "member": api.token(member=MEMBERS[0], scopes=MEMBER_SCOPES),
                "partner": api.token(scopes=ALL_SCOPES),
            }

            @hypothesis_settings(max_examples=hypothesis_settings.default.max_examples * SCALE)
            @given(document=documents(kind, seeded, clock.now()))
            def check(document: str) -> None:
                note(document)
                problems = runner.run(_send(api, document, tokens))
                assert not problems, "\n".join(problems)

            check()
        finally:
            runner.run(stack.aclose())
