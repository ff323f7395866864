"""An API under test: the real app over ASGI, with tokens minted by its own issuer."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from starlette.applications import Starlette

from app.auth.scopes import ALL_SCOPES, MEMBER_SCOPES
from app.main import Runtime, create_app
from app.services.clock import Clock
from app.services.program import apply_program
from app.settings import Settings
from tests.ledger.harness import program_data

PARTNER_SCOPES = frozenset(s for s in ALL_SCOPES if s not in MEMBER_SCOPES) | {"rewards:read"}


@dataclass
class Api:
    app: Starlette
    runtime: Runtime
    http: httpx.AsyncClient

    def token(
        self,
        *,
        member: str | None = None,
        scopes: frozenset[str] | set[str] | None = None,
        client: str = "partner-1",
    ) -> str:
        issuer = self.runtime.issuer
        assert issuer is not None
        if member is not None:
            return issuer.mint(
                subject=member, scopes=scopes if scopes is not None else MEMBER_SCOPES
            )
        return issuer.mint(
            subject=client,
            client_id=client,
            scopes=scopes if scopes is not None else PARTNER_SCOPES,
        )

    @property
    def partner(self) -> str:
        return self.token()

    async def post(
        self, query: str, variables: dict[str, Any] | None = None, token: str | None = None
    ) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return await self.http.post(
            "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
        )

    async def gql(
        self, query: str, variables: dict[str, Any] | None = None, token: str | None = None
    ) -> dict[str, Any]:
        """Run an operation that must succeed at the transport level; returns the body."""
        response = await self.post(query, variables, token if token is not None else self.partner)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def data(
        self, query: str, variables: dict[str, Any] | None = None, token: str | None = None
    ) -> dict[str, Any]:
        body = await self.gql(query, variables, token)
        assert not body.get("errors"), body["errors"]
        result: dict[str, Any] = body["data"]
        return result


def make_settings(db_url: str, tmp_path: Path, **overrides: Any) -> Settings:
    return Settings(
        env="test",
        database_url=db_url,
        keys_file=tmp_path / "keys" / "jwks.json",
        sweep_interval=0,
        webhook_interval=0,  # tests run the dispatcher themselves
        feed_poll_interval=0.05,
        **overrides,
    )


@contextlib.asynccontextmanager
async def open_api(
    settings: Settings, *, clock: Clock | None = None, program: dict[str, Any] | None = None
) -> AsyncIterator[Api]:
    app = create_app(settings, clock=clock)
    runtime: Runtime = app.state.runtime
    async with app.router.lifespan_context(app):
        await apply_program(runtime.services.uow, runtime.services.clock, program or program_data())
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://tally.test") as http:
            yield Api(app, runtime, http)
