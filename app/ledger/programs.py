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
        return ProgramVersion(
            version=row.version,
            program=parse_program(row.definition),
            data=row.definition,
            checksum=row.checksum,
            activated_at=row.activated_at,
        )

    async def activate(self, data: dict[str, Any], now: datetime) -> int:
        """Store `data` as the next version; returns its number."""
        program = parse_program(data)
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
        return version
