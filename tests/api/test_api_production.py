"""Production mode (issue 8): with TALLY_ENV=prod introspection needs schema:read, errors
make no suggestions, CORS answers only TALLY_CORS_ORIGINS. As found: introspection answered
anyone and errors said "Did you mean 'rewards'?". Development keeps both."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from graphql import get_introspection_query

from app.settings import Settings
from tests.api.client import PARTNER_SCOPES, Api, make_settings, open_api

SHOP = "https://shop.example"


def prod_settings(db_url: str, tmp_path: Path, **overrides: Any) -> Settings:
    return Settings(
        env="prod",
        issuer="https://auth.tally.example",
        database_url=db_url,
        keys_file=tmp_path / "keys" / "jwks.json",
        sweep_interval=0,
        feed_poll_interval=0.05,
        cors_origins=[SHOP],
        **overrides,
    )


@pytest.fixture
async def prod(db_url: str, tmp_path: Path) -> AsyncIterator[Api]:
    async with open_api(prod_settings(db_url, tmp_path)) as opened:
        yield opened


def _code(body: dict[str, Any]) -> str:
    code: str = body["errors"][0]["extensions"]["code"]
    return code


async def test_introspection_needs_schema_read_in_production(prod: Api) -> None:
    query = get_introspection_query()
    member = prod.token(member="m-1")
    assert _code(await prod.gql(query, token=member)) == "FORBIDDEN"
    backend = prod.token(scopes=PARTNER_SCOPES - {"schema:read"})  # a till, say
    assert _code(await prod.gql(query, token=backend)) == "FORBIDDEN"
    assert _code(await prod.gql('{ __type(name: "Member") { name } }', token=backend)) == (
        "FORBIDDEN"
    )
    developer = prod.token(scopes={"schema:read"})
    body = await prod.gql(query, token=developer)
    assert "errors" not in body, body
    assert body["data"]["__schema"]["queryType"]["name"] == "Query"
    # __typename is not introspection: clients (Apollo, urql) add it everywhere.
    assert "errors" not in await prod.gql("{ viewer { __typename } }", token=member)


async def test_production_errors_make_no_suggestions(prod: Api) -> None:
    body = await prod.gql("{ reward { id } }")
    [error] = body["errors"]
    assert error["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert "Did you mean" not in error["message"]
    assert "reward" in error["message"]  # still names what was wrong


async def test_development_keeps_introspection_and_suggestions(db_url: str, tmp_path: Path) -> None:
    async with open_api(make_settings(db_url, tmp_path)) as dev:
        assert "errors" not in await dev.gql(get_introspection_query())
        [error] = (await dev.gql("{ reward { id } }"))["errors"]
        assert "Did you mean" in error["message"]


async def test_cors_answers_only_the_listed_origins(prod: Api) -> None:
    def preflight(origin: str) -> dict[str, str]:
        return {
            "Origin": origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization,content-type",
        }

    allowed = await prod.http.options("/graphql", headers=preflight(SHOP))
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == SHOP
    refused = await prod.http.options("/graphql", headers=preflight("https://evil.example"))
    assert "access-control-allow-origin" not in refused.headers
    response = await prod.http.post(
        "/graphql",
        json={"query": "{ viewer { id } }"},
        headers={"Origin": "https://evil.example", "Authorization": f"Bearer {prod.partner}"},
    )
    assert "access-control-allow-origin" not in response.headers
