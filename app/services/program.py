"""Activate a program definition: a new numbered version, and the catalog synced to it."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from app.domain.errors import DomainError, ErrorCode, ProgramInvalid
from app.domain.program import Program, parse_program, program_to_data
from app.ledger.programs import checksum
from app.ledger.uow import UnitOfWork, WriteTx
from app.services.clock import Clock
from app.services.codec import AnswerCodec
from app.services.idempotent import run_once
from app.services.outcome import Outcome, UserError

DEMO_PROGRAM = Path(__file__).resolve().parents[1] / "programs" / "demo.toml"


@dataclass(frozen=True, slots=True)
class Applied:
    version: int
    changed: bool
    program: Program
    diff: list[str]


@dataclass(frozen=True, slots=True)
class ActivateProgram:
    definition: str  # the TOML text of `tally program apply`


@dataclass(frozen=True, slots=True)
class ProgramActivated:
    version: int
    changed: bool
    diff: tuple[str, ...]


PROGRAMACTIVATED_CODEC = AnswerCodec(ProgramActivated)


def load_program_file(path: Path) -> dict[str, Any]:
    """Read and validate a TOML program file; returns its canonical data."""
    try:
        return parse_program_text(path.read_text(encoding="utf-8"))
    except ProgramInvalid as invalid:
        problems = [p.replace("definition:", f"{path.name}:", 1) for p in invalid.problems]
        raise ProgramInvalid(problems) from None


def diff_programs(old: dict[str, Any] | None, new: dict[str, Any]) -> list[str]:
    """Human-readable differences, one line per changed setting, tier or reward."""
    if old is None:
        return ["+ new program"]
    lines: list[str] = []
    for key in sorted(set(old["program"]) | set(new["program"])):
        before, after = old["program"].get(key), new["program"].get(key)
        if before != after:
            lines.append(f"~ program.{key}: {before!r} -> {after!r}")
    for section in ("tiers", "rewards", "rules"):
        before_items = {item["key"]: item for item in old.get(section, [])}
        after_items = {item["key"]: item for item in new.get(section, [])}
        for key in sorted(set(before_items) | set(after_items)):
            if key not in after_items:
                lines.append(f"- {section}.{key}")
            elif key not in before_items:
                lines.append(f"+ {section}.{key}")
            elif before_items[key] != after_items[key]:
                changed = sorted(
                    field
                    for field in set(before_items[key]) | set(after_items[key])
                    if before_items[key].get(field) != after_items[key].get(field)
                )
                lines.append(f"~ {section}.{key}: {', '.join(changed)}")
    return lines


async def activate(tx: WriteTx, data: dict[str, Any], now: datetime) -> Applied:
    """Inside a transaction: activate `data` unless it is the active version already."""
    program = parse_program(data)
    data = program_to_data(program)
    current = await tx.programs.active()
    if current is not None and current.checksum == checksum(data):
        return Applied(current.version, False, program, [])
    await _catalog_still_fits(tx, program)
    diff = diff_programs(current.data if current else None, data)
    version = await tx.programs.activate(data, now)
    await tx.rewards.sync(program.rewards)
    return Applied(version, True, program, diff)


async def _catalog_still_fits(tx: WriteTx, program: Program) -> None:
    """A new program may not pull the ground from under the catalog's active rewards: the
    tiers they name and the providers their gift cards come from must still exist."""
    tiers = {t.key for t in program.tiers}
    providers = {p.name for p in program.providers if p.kind == "giftcard-api"}
    page = await tx.reads.rewards_page(after=0, limit=100_000, active_only=True)
    for reward in page.items:
        if reward.source != "catalog":
            continue
        named = {reward.min_tier} if reward.min_tier else set()
        named |= set(reward.visible_tiers or ())
        missing = sorted(named - tiers)
        if missing or (reward.provider and reward.provider not in providers):
            what = f"tier {missing[0]!r}" if missing else f"provider {reward.provider!r}"
            raise DomainError(
                ErrorCode.INVALID_INPUT,
                f"rewards: the catalog reward {reward.key!r} needs {what}, which this program "
                "drops; change or retire that reward first",
                "definition",
            )


async def apply_program(uow: UnitOfWork, clock: Clock, data: dict[str, Any]) -> Applied:
    """Activate `data` unless it is already the active version (re-applying is a no-op)."""
    async with uow.write() as tx:
        return await activate(tx, data, clock.now())


#: The largest program definition accepted, in characters (the demo program is ~5,000).
MAX_DEFINITION_CHARS = 256 * 1024


def parse_program_text(text: str) -> dict[str, Any]:
    """A TOML program definition from text, validated; raises ProgramInvalid."""
    if len(text) > MAX_DEFINITION_CHARS:
        raise ProgramInvalid(
            [f"definition: {len(text):,} characters; at most {MAX_DEFINITION_CHARS:,}"]
        )
    if "\x00" in text:
        raise ProgramInvalid(["definition: contains a NUL character"])
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ProgramInvalid([f"definition: not valid TOML: {error}"]) from None
    except RecursionError:  # arrays or tables nested hundreds deep
        raise ProgramInvalid(["definition: nested too deeply"]) from None
    return program_to_data(parse_program(raw))


async def activate_program(
    uow: UnitOfWork, clock: Clock, *, principal: str, idempotency_key: str, cmd: ActivateProgram
) -> Outcome[ProgramActivated]:
    """The staff use case (program:write): every validation problem is its own user error."""
    try:
        data = parse_program_text(cmd.definition)
    except ProgramInvalid as invalid:
        return Outcome(
            errors=tuple(
                UserError(ErrorCode.INVALID_INPUT, problem, problem.partition(":")[0])
                for problem in invalid.problems
            )
        )

    async def action(tx: WriteTx) -> ProgramActivated:
        applied = await activate(tx, data, clock.now())
        return ProgramActivated(
            version=applied.version, changed=applied.changed, diff=tuple(applied.diff)
        )

    return await run_once(
        uow,
        clock,
        principal=principal,
        key=idempotency_key,
        operation="activateProgram",
        request={"definition": checksum(data)},
        action=action,
        codec=PROGRAMACTIVATED_CODEC,
    )
