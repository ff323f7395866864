"""Partner OAuth clients (client_credentials) in the `oauth_clients` table."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from app.ledger.tables import oauth_clients


@dataclass(frozen=True, slots=True)
class ClientRecord:
    client_id: str
    name: str
    secret_hash: str
    scopes: frozenset[str]
    disabled: bool


class ClientStore:
    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def create(
        self, *, client_id: str, name: str, secret_hash: str, scopes: str, now: datetime
    ) -> None:
        await self.conn.execute(
            insert(oauth_clients).values(
                client_id=client_id,
                name=name,
                secret_hash=secret_hash,
                scopes=scopes,
                created_at=now,
                disabled=False,
            )
        )

    async def get(self, client_id: str) -> ClientRecord | None:
        row = (
            await self.conn.execute(
                select(oauth_clients).where(oauth_clients.c.client_id == client_id)
            )
        ).one_or_none()
        if row is None:
            return None
        return ClientRecord(
            client_id=row.client_id,
            name=row.name,
            secret_hash=row.secret_hash,
            scopes=frozenset(row.scopes.split()),
            disabled=bool(row.disabled),
        )
