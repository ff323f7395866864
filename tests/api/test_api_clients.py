"""Partner clients (issue 8): a revoked client's tokens stop working at once and it gets no
new ones; a rotated secret replaces the old one at once; a client can have its own rate."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from app.services.clock import FixedClock
from tests.api.client import Api, make_settings, open_api

SCOPES = frozenset({"points:write", "members:read", "members:write"})
VIEWER = "{ __typename }"  # costs the minimum charge of 1


async def fetch_token(api: Api, client_id: str, secret: str) -> httpx.Response:
    return await api.http.post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(client_id, secret),
    )


async def token_of(api: Api, client_id: str, secret: str) -> str:
    response = await fetch_token(api, client_id, secret)
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


async def answer(api: Api, token: str) -> httpx.Response:
    return await api.post(VIEWER, token=token)


def _unauthorized(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 401, response.text
    error: dict[str, Any] = response.json()["errors"][0]
    assert error["extensions"]["code"] == "UNAUTHENTICATED"
    return error


async def test_a_revoked_clients_tokens_stop_at_once(db_url: str, tmp_path: Path) -> None:
    settings = make_settings(db_url, tmp_path, client_cache_seconds=0)
    async with open_api(settings) as api:
        registry = api.runtime.registry
        client_id, secret = await registry.create(name="POS", scopes=SCOPES, now=datetime.now(UTC))
        token = await token_of(api, client_id, secret)
        assert (await answer(api, token)).status_code == 200
        assert await registry.revoke(client_id, datetime.now(UTC))
        error = _unauthorized(await answer(api, token))
        assert "revoked" in error["message"]
        refused = await fetch_token(api, client_id, secret)
        assert refused.status_code == 401
        assert refused.json()["error"] == "invalid_client"
        assert not await registry.revoke("tly_nobody", datetime.now(UTC))


async def test_revocation_is_cached_only_briefly(db_url: str, tmp_path: Path) -> None:
    """Each request checks the client; the answer is kept client_cache_seconds."""
    settings = make_settings(db_url, tmp_path, client_cache_seconds=300)
    async with open_api(settings) as api:
        registry = api.runtime.registry
        client_id, secret = await registry.create(name="POS", scopes=SCOPES, now=datetime.now(UTC))
        token = await token_of(api, client_id, secret)
        assert (await answer(api, token)).status_code == 200
        await registry.revoke(client_id, datetime.now(UTC))
        assert (await answer(api, token)).status_code == 200  # still within the cache
        status = api.runtime.verifier.clients
        assert status is not None
        status.forget(client_id)  # what the cache's expiry does
        _unauthorized(await answer(api, token))


async def test_a_rotated_secret_replaces_the_old_one(db_url: str, tmp_path: Path) -> None:
    async with open_api(make_settings(db_url, tmp_path)) as api:
        registry = api.runtime.registry
        client_id, old = await registry.create(name="POS", scopes=SCOPES, now=datetime.now(UTC))
        issued = await token_of(api, client_id, old)
        new = await registry.rotate_secret(client_id, datetime.now(UTC))
        assert new is not None
        assert new != old
        assert (await fetch_token(api, client_id, old)).status_code == 401
        assert (await answer(api, await token_of(api, client_id, new))).status_code == 200
        assert (await answer(api, issued)).status_code == 200  # good until it expires
        await registry.revoke(client_id, datetime.now(UTC))
        assert await registry.rotate_secret(client_id, datetime.now(UTC)) is None


async def test_a_client_can_have_its_own_rate(db_url: str, tmp_path: Path) -> None:
    clock = FixedClock(datetime.now(UTC))
    settings = make_settings(db_url, tmp_path, client_cache_seconds=0)
    async with open_api(settings, clock=clock) as api:
        registry = api.runtime.registry
        small, secret = await registry.create(
            name="Kiosk", scopes=SCOPES, now=clock.now(), rate=(3, 1.0)
        )
        kiosk = await token_of(api, small, secret)
        answers = [(await answer(api, kiosk)).json() for _ in range(4)]
        assert [("errors" in a) for a in answers] == [False, False, False, True]
        assert answers[-1]["errors"][0]["extensions"]["code"] == "THROTTLED"
        assert answers[0]["extensions"]["cost"]["throttleStatus"]["maximumAvailable"] == 3
        # Other clients keep the default bucket.
        body = (await answer(api, api.partner)).json()
        assert body["extensions"]["cost"]["throttleStatus"]["maximumAvailable"] == 10_000
