"""Every request bounded (issue 8): body size, tokens, depth, aliases, root fields,
directives and cost are refused before anything runs; every response carries
`extensions.cost`; buckets of cost points throttle each principal, in one process or
shared through Redis; an operation past its timeout is stopped. Each attack as found."""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from graphql import get_introspection_query

from app.services.clock import FixedClock
from tests.api import ops
from tests.api.client import Api, make_settings, open_api

VIEWER = "{ viewer { balance { available } } }"
PAGE = "activity(first: 100) { edges { node { points reason } } }"


def _member(api: Api) -> str:
    """A token for a member who need not exist (a cost is counted all the same)."""
    return api.token(member=f"m-{uuid.uuid4().hex[:8]}")


async def _enrolled(api: Api) -> str:
    external = f"m-{uuid.uuid4().hex[:8]}"
    await ops.enroll(api, external)
    return api.token(member=external)


def _only_error(body: dict[str, Any]) -> dict[str, Any]:
    assert body.get("data") is None, body
    [error] = body["errors"]
    return error


async def test_a_thousand_aliased_pages_are_refused_in_milliseconds(api: Api) -> None:
    """As found: 1000 aliases of `viewer { activity(first:100) ... }` took 14 s of CPU."""
    member = _member(api)
    query = "{ " + " ".join(f"a{i}: viewer {{ {PAGE} }}" for i in range(1000)) + " }"
    began = time.process_time()
    response = await api.post(query, token=member)
    spent = time.process_time() - began
    # 67 KB: under the body limit (1 MiB, for POS batches), refused by the token count
    # before it is parsed.
    assert response.status_code == 200
    codes = {e["extensions"]["code"] for e in response.json()["errors"]}
    assert codes
    assert codes <= {"LIMIT_REACHED", "GRAPHQL_PARSE_FAILED"}
    fewer = "{ " + " ".join(f"a{i}: viewer {{ {PAGE} }}" for i in range(100)) + " }"
    error = _only_error(await api.gql(fewer, token=member))
    assert error["extensions"]["code"] in ("LIMIT_REACHED", "GRAPHQL_PARSE_FAILED")
    assert spent < 2.0  # generous: the CPU it saves is measured by make bench


async def test_aliases_past_the_limit_are_refused_and_nothing_runs(api: Api) -> None:
    member = _member(api)
    query = "{ " + " ".join(f"a{i}: viewer {{ id }}" for i in range(31)) + " }"
    error = _only_error(await api.gql(query, token=member))
    assert error["extensions"] == {"code": "LIMIT_REACHED", "field": "aliases"}
    assert error["message"] == "This operation has 31 aliases; at most 30 are allowed."
    within = "{ viewer { " + " ".join(f"a{i}: id" for i in range(30)) + " } }"
    assert "errors" not in await api.gql(within, token=member)


async def test_the_cost_of_connections_follows_first_and_counts_fragments_where_spread(
    api: Api,
) -> None:
    member = await _enrolled(api)
    query = """query($n: Int!) { viewer { ...Page } }
      fragment Page on Member { activity(first: $n) { edges { node { points } } } }"""
    body = await api.gql(query, {"n": 50}, token=member)
    cost = body["extensions"]["cost"]
    assert cost["requestedQueryCost"] == 1 + 2 + 50 * 1  # viewer, the connection, 50 nodes
    assert cost["actualQueryCost"] == 1 + 2  # no entries yet
    assert cost["throttleStatus"]["maximumAvailable"] == 1000.0
    assert cost["throttleStatus"]["restoreRate"] == 100.0


async def test_a_query_over_the_cost_limit_is_refused_with_its_cost(api: Api) -> None:
    page = "activity(first: 100) { edges { node { explanation { rule } } } }"
    query = "{ " + " ".join(f"a{i}: viewer {{ {page} }}" for i in range(6)) + " }"
    body = await api.gql(query, token=_member(api))
    error = _only_error(body)
    assert error["extensions"] == {"code": "LIMIT_REACHED", "field": "cost"}
    assert body["extensions"]["cost"]["requestedQueryCost"] > 1000


async def test_depth_counts_through_fragments_whatever_their_name(api: Api) -> None:
    """graphql-armor's advisory: a fragment named `__schema` bypassed its depth limit."""
    member = _member(api)
    chain = "name"
    for _ in range(16):
        chain = f"ofType {{ {chain} }}"
    deep = f"{{ __schema {{ types {{ fields {{ type {{ {chain} }} }} }} }} }}"
    error = _only_error(await api.gql(deep, token=member))
    assert error["extensions"] == {"code": "LIMIT_REACHED", "field": "depth"}
    hidden = (
        "query { ...__schema } fragment __schema on Query { __schema { types { fields { "
        f"type {{ {chain} }} }} }} }} }}"
    )
    error = _only_error(await api.gql(hidden, token=member))
    assert error["extensions"] == {"code": "LIMIT_REACHED", "field": "depth"}
    graphiql = await api.gql(get_introspection_query(descriptions=True), token=member)
    assert "errors" not in graphiql  # what GraphiQL and codegen tools send still passes


async def test_root_fields_and_directives_are_bounded(api: Api) -> None:
    member = _member(api)
    roots = "{ " + " ".join(f"v{i}: __typename" for i in range(25)) + " viewer { id } }"
    assert "errors" not in await api.gql(roots, token=member)  # __typename is free
    many = "{ " + " ".join(f"r{i}: viewer {{ id }}" for i in range(21)) + " }"
    error = _only_error(await api.gql(many, token=member))
    assert error["extensions"] == {"code": "LIMIT_REACHED", "field": "rootFields"}
    spreads = " ".join("...F @include(if: true)" for _ in range(51))
    directives = f"{{ viewer {{ {spreads} }} }} fragment F on Member {{ id }}"
    error = _only_error(await api.gql(directives, token=member))
    assert error["extensions"] == {"code": "LIMIT_REACHED", "field": "directives"}


async def test_fragments_that_double_at_every_spread_are_refused_unexpanded(api: Api) -> None:
    """Sixty fragments, each spreading the next twice, name 2^60 fields in 3 KB: the
    guard stops expanding past the field limit instead of walking them all."""
    links = 60
    fragments = "".join(
        f"fragment F{i} on Member {{ ...F{i + 1} ...F{i + 1} }} " for i in range(links)
    )
    bomb = f"{{ viewer {{ ...F0 }} }} {fragments} fragment F{links} on Member {{ id }}"
    began = time.process_time()
    error = _only_error(await api.gql(bomb, token=_member(api)))
    spent = time.process_time() - began
    assert error["extensions"] == {"code": "LIMIT_REACHED", "field": "fields"}
    assert "at most 2000 are allowed" in error["message"]
    assert spent < 2.0  # unbounded, this walk would never end; make bench measures the CPU


async def test_an_operation_past_a_limit_is_refused_before_it_is_validated(api: Api) -> None:
    """Validation costs grow with the document, so the limits are checked first: an
    over-limit document full of unknown fields is refused for its aliases, not validated."""
    member = _member(api)
    query = "{ " + " ".join(f"a{i}: viewer {{ noSuchField }}" for i in range(31)) + " }"
    error = _only_error(await api.gql(query, token=member))
    assert error["extensions"] == {"code": "LIMIT_REACHED", "field": "aliases"}
    within = "{ " + " ".join(f"a{i}: viewer {{ noSuchField }}" for i in range(2)) + " }"
    error = (await api.gql(within, token=member))["errors"][0]
    assert error["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"


async def test_nesting_as_deep_as_the_parser_allows_is_answered_not_crashed(
    api: Api,
) -> None:
    """Selections and inline fragments nested 150 deep (graphql-core's parser stops near
    200): the walk measuring them never recurses past Python's limit into a masked crash."""
    member = _member(api)
    selections = "{ viewer { " + "a { " * 150 + "id" + " }" * 150 + " } }"
    error = _only_error(await api.gql(selections, token=member))
    assert error["extensions"] == {"code": "LIMIT_REACHED", "field": "depth"}
    inline = "{ viewer { " + "... on Member { " * 150 + "id" + " }" * 150 + " } }"
    body = await api.gql(inline, token=member)
    assert "errors" not in body, body  # inline fragments add no depth: a valid query
    too_deep = "{ viewer { " + "a { " * 400 + "id" + " }" * 400 + " } }"
    error = _only_error(await api.gql(too_deep, token=member))
    assert error["extensions"]["code"] == "GRAPHQL_PARSE_FAILED"


async def test_a_hundred_thousand_typenames_never_reach_the_parser(api: Api) -> None:
    """As found: 100,000 x __typename (1.9 MB) took 11 s, and 10 MB bodies were kept in
    the parser cache. Over the body limit: 413 before parsing; under it but over the
    token limit: refused by the parser, which caches nothing it refused."""
    member = _member(api)
    huge = "{ " + "__typename " * 100_000 + "}"
    response = await api.post(huge, token=member)
    assert response.status_code == 413
    assert response.json()["errors"][0]["extensions"]["code"] == "REQUEST_TOO_LARGE"
    many = "{ " + "__typename " * 4000 + "}"  # 44 KB: under the body limit
    error = _only_error(await api.gql(many, token=member))
    assert error["extensions"]["code"] == "GRAPHQL_PARSE_FAILED"
    assert "2000 tokens" in error["message"]


async def test_a_streamed_body_over_the_limit_is_refused_too(api: Api) -> None:
    member = _member(api)

    async def chunks() -> Any:
        for _ in range(1100):  # past 1 MiB, streamed without a content-length
            yield b'{"query": "' + b" " * 1000 + b'"}'

    response = await api.http.post(
        "/graphql",
        content=chunks(),
        headers={"Authorization": f"Bearer {member}", "Content-Type": "application/json"},
    )
    assert response.status_code == 413


async def test_a_member_is_throttled_then_recovers_as_the_bucket_refills(
    db_url: str, tmp_path: Path
) -> None:
    clock = FixedClock(datetime.now(UTC))
    settings = make_settings(db_url, tmp_path, member_rate=(10, 1.0))
    async with open_api(settings, clock=clock) as api:
        member = await _enrolled(api)
        for _ in range(5):  # viewer + balance: 2 points each
            body = await api.gql(VIEWER, token=member)
            assert "errors" not in body, body
        throttled = await api.gql(VIEWER, token=member)
        error = _only_error(throttled)
        assert error["extensions"]["code"] == "THROTTLED"
        assert error["extensions"]["retryAfter"] == 2.0
        assert throttled["extensions"]["cost"]["throttleStatus"]["currentlyAvailable"] == 0.0
        assert "errors" in await api.gql(VIEWER, token=member)  # a refusal costs nothing...
        clock.advance(seconds=2)
        recovered = await api.gql(VIEWER, token=member)  # ...so two seconds are enough
        assert "errors" not in recovered, recovered
        other = _member(api)
        assert "errors" not in await api.gql(VIEWER, token=other)  # buckets are per principal


async def test_what_a_response_did_not_use_is_given_back(db_url: str, tmp_path: Path) -> None:
    clock = FixedClock(datetime.now(UTC))
    settings = make_settings(db_url, tmp_path, member_rate=(200, 1.0))
    async with open_api(settings, clock=clock) as api:
        member = await _enrolled(api)
        body = await api.gql(f"{{ viewer {{ {PAGE} }} }}", token=member)
        cost = body["extensions"]["cost"]
        assert (cost["requestedQueryCost"], cost["actualQueryCost"]) == (103, 3)
        assert cost["throttleStatus"]["currentlyAvailable"] == 197.0


REDIS_URL = os.environ.get("TALLY_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


async def _redis_up() -> bool:
    from redis.asyncio import Redis

    client = Redis.from_url(REDIS_URL, socket_connect_timeout=1)
    try:
        return bool(await client.ping())
    except OSError:
        return False
    finally:
        await client.aclose()


async def test_two_instances_share_buckets_through_redis(db_url: str, tmp_path: Path) -> None:
    if not await _redis_up():
        if os.environ.get("CI"):
            pytest.fail(f"Redis is required under CI: {REDIS_URL}")
        pytest.skip(f"no Redis at {REDIS_URL}")
    clock = FixedClock(datetime.now(UTC))
    shared = make_settings(db_url, tmp_path, member_rate=(10, 1.0), rate_limit_url=REDIS_URL)
    async with open_api(shared, clock=clock) as first:
        other = make_settings(db_url, tmp_path, member_rate=(10, 1.0), rate_limit_url=REDIS_URL)
        async with open_api(other, clock=clock) as second:
            member = await _enrolled(first)  # the same keys: each verifies the other's tokens
            answers = []
            for i in range(6):
                api = first if i % 2 == 0 else second
                answers.append(await api.gql(VIEWER, token=member))
            assert ["errors" in a for a in answers] == [False] * 5 + [True]
            assert answers[-1]["errors"][0]["extensions"]["code"] == "THROTTLED"
            clock.advance(seconds=2)
            assert "errors" not in await second.gql(VIEWER, token=member)


async def test_an_operation_past_its_timeout_is_stopped(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = make_settings(db_url, tmp_path, operation_timeout=0.2)
    async with open_api(settings) as api:
        queries = api.runtime.services.queries
        original = queries.balances

        async def slow(*args: Any, **kw: Any) -> Any:
            await asyncio.sleep(5)
            return await original(*args, **kw)

        monkeypatch.setattr(queries, "balances", slow)
        began = time.monotonic()
        response = await api.post(VIEWER, token=await _enrolled(api))
        assert time.monotonic() - began < 3
        assert response.status_code == 503
        assert response.json()["errors"][0]["extensions"]["code"] == "TIMEOUT"
