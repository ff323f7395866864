"""`POST /oauth/token` (client_credentials) and the JWKS endpoint over a real SQLite database."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote_plus

import httpx
import pytest
from joserfc.jwk import KeySet
from sqlalchemy import update
from starlette.applications import Starlette

import app.ledger.migrate
from app.auth.clients import ClientRegistry
from app.auth.endpoints import auth_routes
from app.auth.keys import generate_keys, public_jwks
from app.auth.tokens import TokenIssuer, TokenVerifier
from app.ledger.database import Database, open_database
from app.ledger.tables import oauth_clients

ISS = "https://tally.test"
AUD = "tally-api"
SCOPES = frozenset({"points:write", "members:read", "members:write"})


@dataclass
class Env:
    http: httpx.AsyncClient
    db: Database
    registry: ClientRegistry
    verifier: TokenVerifier
    client_id: str
    secret: str


@pytest.fixture(scope="module")
def keys() -> KeySet:
    return generate_keys()


@pytest.fixture
async def env(tmp_path: Path, keys: KeySet) -> AsyncIterator[Env]:
    url = f"sqlite+aiosqlite:///{tmp_path}/t.db"
    await asyncio.to_thread(app.ledger.migrate.upgrade, url)
    db = open_database(url)
    registry = ClientRegistry(db)
    now = datetime.now(UTC)
    client_id, secret = await registry.create(name="POS", scopes=SCOPES, now=now)
    routes = auth_routes(
        registry=registry, issuer=TokenIssuer(keys, ISS, AUD), public_keys=public_jwks(keys)
    )
    transport = httpx.ASGITransport(app=Starlette(routes=routes))
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            verifier = TokenVerifier(issuer=ISS, audience=AUD, keys=keys)
            yield Env(http, db, registry, verifier, client_id, secret)
    finally:
        await db.dispose()


def basic(client_id: str, secret: str) -> dict[str, str]:
    raw = f"{quote_plus(client_id)}:{quote_plus(secret)}".encode()
    return {"Authorization": "Basic " + base64.b64encode(raw).decode()}


async def post_token(
    env: Env, data: dict[str, str], headers: dict[str, str] | None = None
) -> httpx.Response:
    return await env.http.post("/oauth/token", data=data, headers=headers or {})


def assert_error(response: httpx.Response, status: int, error: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert body["error"] == error
    assert body["error_description"]
    return body


async def test_registered_client_id_and_secret_shape(env: Env) -> None:
    assert env.client_id.startswith("tly_")
    assert len(env.client_id) == 20
    assert len(env.secret) >= 32
    record = await env.registry.get(env.client_id)
    assert record is not None
    assert record.scopes == SCOPES
    assert not record.disabled
    assert env.secret not in record.secret_hash


async def test_basic_auth_issues_verifiable_token_with_all_scopes(env: Env) -> None:
    response = await post_token(
        env, {"grant_type": "client_credentials"}, basic(env.client_id, env.secret)
    )
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["pragma"] == "no-cache"
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 3600
    assert body["scope"] == "members:read members:write points:write"
    principal = await env.verifier.verify(body["access_token"])
    assert principal.kind == "client"
    assert principal.subject == principal.client_id == env.client_id
    assert principal.scopes == SCOPES


async def test_client_secret_post_issues_token(env: Env) -> None:
    data = {"grant_type": "client_credentials", "client_id": env.client_id}
    response = await post_token(env, {**data, "client_secret": env.secret})
    assert response.status_code == 200, response.text
    assert (await env.verifier.verify(response.json()["access_token"])).client_id == env.client_id


async def test_wrong_secret_is_invalid_client(env: Env) -> None:
    response = await post_token(
        env, {"grant_type": "client_credentials"}, basic(env.client_id, env.secret + "x")
    )
    assert_error(response, 401, "invalid_client")
    assert response.headers["www-authenticate"] == 'Basic realm="tally"'
    assert "access_token" not in response.json()


async def test_basic_credentials_are_form_url_decoded(env: Env) -> None:
    # RFC 6749 2.3.1: id and secret are form-urlencoded before the Basic encoding.
    encoded_id = "".join(f"%{byte:02X}" for byte in env.client_id.encode())
    raw = f"{encoded_id}:{env.secret}".encode()
    headers = {"Authorization": "Basic " + base64.b64encode(raw).decode()}
    response = await post_token(env, {"grant_type": "client_credentials"}, headers)
    assert response.status_code == 200, response.text


async def test_disabled_client_is_invalid_client(env: Env) -> None:
    async with env.db.write_engine.begin() as conn:
        await conn.execute(
            update(oauth_clients)
            .where(oauth_clients.c.client_id == env.client_id)
            .values(disabled=True)
        )
    response = await post_token(
        env, {"grant_type": "client_credentials"}, basic(env.client_id, env.secret)
    )
    assert_error(response, 401, "invalid_client")


async def test_unknown_client_is_invalid_client(env: Env) -> None:
    data = {"grant_type": "client_credentials", "client_id": "tly_nobody", "client_secret": "x"}
    assert_error(await post_token(env, data), 401, "invalid_client")


async def test_no_client_authentication_is_invalid_client(env: Env) -> None:
    assert_error(await post_token(env, {"grant_type": "client_credentials"}), 401, "invalid_client")


async def test_unknown_grant_type(env: Env) -> None:
    response = await post_token(env, {"grant_type": "password"}, basic(env.client_id, env.secret))
    assert_error(response, 400, "unsupported_grant_type")


async def test_missing_grant_type_is_invalid_request(env: Env) -> None:
    response = await post_token(env, {}, basic(env.client_id, env.secret))
    assert_error(response, 400, "invalid_request")


async def test_json_body_is_invalid_request(env: Env) -> None:
    response = await env.http.post(
        "/oauth/token",
        json={"grant_type": "client_credentials"},
        headers=basic(env.client_id, env.secret),
    )
    assert_error(response, 400, "invalid_request")


async def test_two_auth_methods_is_invalid_request(env: Env) -> None:
    data = {"grant_type": "client_credentials", "client_secret": env.secret}
    response = await post_token(env, data, basic(env.client_id, env.secret))
    assert_error(response, 400, "invalid_request")


async def test_requested_scope_subset_granted(env: Env) -> None:
    data = {"grant_type": "client_credentials", "scope": "points:write"}
    response = await post_token(env, data, basic(env.client_id, env.secret))
    assert response.status_code == 200, response.text
    assert response.json()["scope"] == "points:write"
    principal = await env.verifier.verify(response.json()["access_token"])
    assert principal.scopes == {"points:write"}


@pytest.mark.parametrize("scope", ["points:adjust", "points:write program:write", "admin:all"])
async def test_scope_not_granted_is_invalid_scope(env: Env, scope: str) -> None:
    data = {"grant_type": "client_credentials", "scope": scope}
    response = await post_token(env, data, basic(env.client_id, env.secret))
    assert_error(response, 400, "invalid_scope")


async def test_jwks_endpoint_serves_public_keys_only(env: Env, keys: KeySet) -> None:
    response = await env.http.get("/.well-known/jwks.json")
    assert response.status_code == 200
    [key] = response.json()["keys"]
    assert key["kid"] == keys.keys[0].kid
    assert key["kty"] == "RSA"
    assert not {"d", "p", "q", "dp", "dq", "qi"} & set(key)
