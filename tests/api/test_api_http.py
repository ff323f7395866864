"""The HTTP edge: bearer tokens, GraphiQL, health checks, masked crashes, batched reads."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from sqlalchemy import event

from app.auth.keys import generate_keys
from app.auth.tokens import TokenIssuer
from tests.api import ops
from tests.api.client import PARTNER_SCOPES, Api
from tests.api.ops import (
    PROGRAM,
    member_gid,
)

# --- bearer tokens --------------------------------------------------------------------------


def foreign_token(api: Api) -> str:
    """Right issuer and audience, signed by a key the API does not know."""
    settings = api.runtime.settings
    return TokenIssuer(generate_keys(), settings.issuer, settings.audience).mint(
        subject="partner-1", client_id="partner-1", scopes=PARTNER_SCOPES
    )


def wrong_audience(api: Api) -> str:
    assert api.runtime.keys is not None
    return TokenIssuer(api.runtime.keys, api.runtime.settings.issuer, "someone-else").mint(
        subject="partner-1", client_id="partner-1", scopes=PARTNER_SCOPES
    )


def wrong_issuer(api: Api) -> str:
    assert api.runtime.keys is not None
    return TokenIssuer(
        api.runtime.keys, "https://evil.example", api.runtime.settings.audience
    ).mint(subject="partner-1", client_id="partner-1", scopes=PARTNER_SCOPES)


def expired(api: Api) -> str:
    assert api.runtime.issuer is not None
    return api.runtime.issuer.mint(
        subject="partner-1",
        client_id="partner-1",
        scopes=PARTNER_SCOPES,
        ttl=60,
        now=int(time.time()) - 3600,
    )


BAD_TOKENS: dict[str, Callable[[Api], str]] = {
    "malformed": lambda api: "not-a-jwt",
    "three-garbage-parts": lambda api: "abc.def.ghi",
    "other-key": foreign_token,
    "wrong-audience": wrong_audience,
    "wrong-issuer": wrong_issuer,
    "expired": expired,
}


async def test_no_token_is_401(api: Api) -> None:
    response = await api.post(PROGRAM)
    basic = await api.http.post(
        "/graphql", json={"query": PROGRAM}, headers={"Authorization": "Basic dXNlcjpwdw=="}
    )

    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert basic.status_code == 401


async def test_a_bad_token_is_401_and_nothing_is_written(api: Api) -> None:
    for case, make in BAD_TOKENS.items():
        response = await api.post(
            ops.ENROLL, {"key": "e-1", "input": {"externalId": "mallory"}}, make(api)
        )

        assert response.status_code == 401, case
        assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED", case
    assert (await api.data(ops.MEMBER, {"ext": "mallory"}))["member"] is None


async def test_a_valid_token_is_accepted(api: Api) -> None:
    response = await api.post(PROGRAM, token=api.partner)

    assert response.status_code == 200
    assert response.json()["data"]["program"]["name"] == "Test Club"


# --- pages and health -----------------------------------------------------------------------


async def test_graphiql_page_needs_no_token_but_a_get_query_does(api: Api) -> None:
    page = await api.http.get("/graphql", headers={"Accept": "text/html"})
    query = await api.http.get(
        "/graphql", params={"query": "{ program { name } }"}, headers={"Accept": "text/html"}
    )

    assert page.status_code == 200
    assert "text/html" in page.headers["content-type"]
    assert "graphiql" in page.text.lower()
    assert query.status_code == 401


async def test_health_and_readiness(api: Api) -> None:
    health = await api.http.get("/healthz")
    ready = await api.http.get("/readyz")

    assert health.status_code == 200
    assert health.json() == {"status": "ok"}
    assert ready.status_code == 200
    assert ready.json()["status"] == "ok"
    assert ready.json()["migrations"]["current"]


# --- masking --------------------------------------------------------------------------------


async def test_an_unexpected_error_is_masked(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    async def explode(*args: object, **kwargs: object) -> None:
        raise RuntimeError("secret connection string postgres://admin:hunter2@db")

    monkeypatch.setattr(api.runtime.services.queries, "program", explode)

    response = await api.post(PROGRAM, token=api.partner)

    assert response.status_code == 200
    body = response.json()
    assert body["data"] == {"program": None}
    assert [e["message"] for e in body["errors"]] == ["Unexpected error."]
    for leak in ("secret", "hunter2", "RuntimeError", "Traceback", "explode"):
        assert leak not in response.text


async def test_a_crash_inside_a_mutation_is_masked_too(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    pk = await ops.enroll(api, "alice")

    async def explode(*args: object, **kwargs: object) -> None:
        raise RuntimeError("secret")

    monkeypatch.setattr(api.runtime.services.queries, "members", explode)
    response = await api.post(
        ops.ADJUST,
        {"key": "a-1", "input": {"memberId": member_gid(pk), "points": 5, "reason": "x"}},
        api.partner,
    )

    assert response.status_code == 200
    assert "secret" not in response.text
    assert "Unexpected error." in [e["message"] for e in response.json()["errors"]]


# --- dataloaders ----------------------------------------------------------------------------


def members_query(count: int) -> str:
    variables = ", ".join(f"$m{i}: ID!" for i in range(count))
    fields = " ".join(
        f"m{i}: node(id: $m{i}) {{ ... on Member {{ externalId"
        " balance { available version expiringSoon { points } }"
        " tier { current { key } qualifyingPoints } } }"
        for i in range(count)
    )
    return f"query({variables}) {{ {fields} }}"


async def test_many_members_cost_a_fixed_number_of_statements(api: Api) -> None:
    ids = []
    for i in range(10):
        pk = await ops.enroll(api, f"m-{i}")
        await ops.adjust(api, pk, 10 + i)
        ids.append(member_gid(pk))
    statements: list[str] = []

    def count(conn: object, cursor: object, statement: str, *args: object) -> None:
        # Not counted: the change-feed poller (background) and the program, cached for seconds.
        if "FROM outbox" not in statement and "FROM program_versions" not in statement:
            statements.append(statement)

    async def cost(n: int) -> int:
        statements.clear()
        data = await api.data(members_query(n), {f"m{i}": ids[i] for i in range(n)})
        assert [data[f"m{i}"]["balance"]["available"] for i in range(n)] == [
            10 + i for i in range(n)
        ]
        return len(statements)

    engine = api.runtime.db.read_engine.sync_engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        two = await cost(2)
        ten = await cost(10)
    finally:
        event.remove(engine, "before_cursor_execute", count)

    assert two > 0
    assert ten == two


# --- bugs -----------------------------------------------------------------------------------

HUGE = 10**20


async def test_an_out_of_range_id_is_not_a_crash(api: Api) -> None:
    from app.graphql.ids import to_global_id

    body = await api.gql(ops.NODE, {"id": to_global_id("Member", HUGE)})

    assert "Unexpected error." not in str(body)
    assert body["data"] == {"node": None} or ops.error_codes(body) == ["INVALID_INPUT"]


async def test_an_out_of_range_cursor_is_invalid_input(api: Api) -> None:
    from app.graphql.ids import encode_cursor

    body = await api.gql(ops.REWARDS, {"first": 5, "after": encode_cursor(HUGE)})

    assert ops.error_codes(body) == ["INVALID_INPUT"]


async def test_a_query_over_get_with_a_token_answers_and_a_mutation_over_get_is_refused(
    api: Api,
) -> None:
    headers = {"Authorization": f"Bearer {api.partner}"}
    query = await api.http.get(
        "/graphql", params={"query": "{ program { name currency } }"}, headers=headers
    )
    mutation = await api.http.get(
        "/graphql",
        params={
            "query": 'mutation { enrollMember(idempotencyKey: "g", input: {externalId: "g"}) '
            "{ userErrors { code } } }"
        },
        headers=headers,
    )

    assert query.status_code == 200
    assert query.json()["data"]["program"] == {"name": "Test Club", "currency": "EUR"}
    assert mutation.status_code in {400, 405}
    assert (await api.data('{ member(externalId: "g") { id } }'))["member"] is None
