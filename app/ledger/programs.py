"""Program definitions stored as numbered versions; the newest is the active one."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from app.domain.program import Program, parse_program
from app.ledger.tables import program_versions


@dataclass(frozen=True, slots=True)
class ProgramVersion:
    version: int
    program: Program
    data: dict[str, Any]
    checksum: str
    activated_at: datetime


def checksum(data: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


_PARSED: dict[tuple[int, str], ProgramVersion] = {}
_activations = 0


def activations() -> int:
    """How many versions this process activated: read caches compare it to stay fresh."""
    return _activations


def _parsed(
    version: int, digest: str, activated_at: datetime, data: dict[str, Any]
) -> ProgramVersion:
    """Versions never change once stored: parse each one once per process."""
    key = (version, digest)
    found = _PARSED.get(key)
    if found is None:
        found = ProgramVersion(
            version, parse_program(data, limits=False), data, digest, activated_at
        )
        if len(_PARSED) > 64:
            _PARSED.clear()
        _PARSED[key] = found
    return found


class ProgramStore:
    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def active(self) -> ProgramVersion | None:
        row = (
            await self.conn.execute(
                select(program_versions).order_by(program_versions.c.version.desc()).limit(1)
            )
        ).one_or_none()
        if row is None:
            return None
        return _parsed(row.version, row.checksum, row.activated_at, row.definition)

    async def history(self) -> list[ProgramVersion]:
        """Every version, newest first (each parsed once per process)."""
        rows = await self.conn.execute(
            select(program_versions).order_by(program_versions.c.version.desc())
        )
        return [_parsed(r.version, r.checksum, r.activated_at, r.definition) for r in rows]

    async def activate(self, data: dict[str, Any], now: datetime) -> int:
        """Store `data` as the next version; returns its number."""
        global _activations
        program = parse_program(data, limits=False)
        latest = await self.conn.execute(select(func.max(program_versions.c.version)))
        version = int(latest.scalar_one() or 0) + 1
        await self.conn.execute(
            insert(program_versions).values(
                version=version,
                name=program.name,
                definition=data,
                checksum=checksum(data),
                activated_at=now,
            )
        )
        _activations += 1
        return version
