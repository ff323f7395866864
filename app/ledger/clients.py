"""Partner OAuth clients (client_credentials) in the `oauth_clients` table."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from app.ledger.tables import oauth_clients


@dataclass(frozen=True, slots=True)
class ClientRecord:
    client_id: str
    name: str
    secret_hash: str
    scopes: frozenset[str]
    disabled: bool
    created_at: datetime | None = None
    revoked_at: datetime | None = None
    rate: tuple[int, float] | None = None  # its own bucket (capacity, restored per second)

    @property
    def active(self) -> bool:
        return not self.disabled and self.revoked_at is None


class ClientStore:
    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def create(
        self,
        *,
        client_id: str,
        name: str,
        secret_hash: str,
        scopes: str,
        now: datetime,
        rate: tuple[int, float] | None = None,
    ) -> None:
        await self.conn.execute(
            insert(oauth_clients).values(
                client_id=client_id,
                name=name,
                secret_hash=secret_hash,
                scopes=scopes,
                created_at=now,
                disabled=False,
                rate_capacity=rate[0] if rate else None,
                rate_restore=rate[1] if rate else None,
            )
        )

    async def list(self) -> list[ClientRecord]:
        rows = await self.conn.execute(select(oauth_clients).order_by(oauth_clients.c.created_at))
        return [_record(row) for row in rows]

    async def revoke(self, client_id: str, now: datetime) -> bool:
        """Revoke a client (once: the first revocation's time stays); False if unknown."""
        found = await self.conn.execute(
            update(oauth_clients)
            .where(oauth_clients.c.client_id == client_id)
            .values(revoked_at=now)
            .where(oauth_clients.c.revoked_at.is_(None))
        )
        return found.rowcount == 1 or await self.get(client_id) is not None

    async def set_secret(self, client_id: str, secret_hash: str, now: datetime) -> bool:
        found = await self.conn.execute(
            update(oauth_clients)
            .where(oauth_clients.c.client_id == client_id)
            .where(oauth_clients.c.revoked_at.is_(None))
            .values(secret_hash=secret_hash, secret_rotated_at=now)
        )
        return found.rowcount == 1

    async def set_rate(self, client_id: str, rate: tuple[int, float] | None) -> bool:
        found = await self.conn.execute(
            update(oauth_clients)
            .where(oauth_clients.c.client_id == client_id)
            .values(rate_capacity=rate[0] if rate else None, rate_restore=rate[1] if rate else None)
        )
        return found.rowcount == 1

    async def get(self, client_id: str) -> ClientRecord | None:
        row = (
            await self.conn.execute(
                select(oauth_clients).where(oauth_clients.c.client_id == client_id)
            )
        ).one_or_none()
        return None if row is None else _record(row)


def _record(row: Row[Any]) -> ClientRecord:
    capacity, restore = row.rate_capacity, row.rate_restore
    return ClientRecord(
        client_id=row.client_id,
        name=row.name,
        secret_hash=row.secret_hash,
        scopes=frozenset(row.scopes.split()),
        disabled=bool(row.disabled),
        created_at=row.created_at,
        revoked_at=row.revoked_at,
        rate=(int(capacity), float(restore)) if capacity is not None and restore else None,
    )
