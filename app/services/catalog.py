"""The reward catalog over the API (catalog:write): create, change and retire rewards, and
import pools of discount codes. A reward is checked exactly as a program file's would be
(the same reader, the active program's tiers and providers). Rewards from the program
file stay the file's: the API refuses to change them, and applying a file never touches
the catalog's."""

from __future__ import annotations

from dataclasses import dataclass, replace

from app.domain.definition_reader import Reader
from app.domain.errors import DomainError, ErrorCode
from app.domain.records import Reward
from app.domain.reward_codes import MAX_IMPORT, RejectedCode, sort_codes
from app.domain.reward_definitions import (
    RewardChanges,
    RewardDefinition,
    RewardSpec,
    parse_rewards,
)
from app.domain.rewards import RewardKind
from app.domain.text import check_text
from app.ledger.catalog import CATALOG
from app.ledger.uow import UnitOfWork, WriteTx
from app.services.clock import Clock
from app.services.codec import AnswerCodec
from app.services.common import active_program
from app.services.idempotent import run_once
from app.services.outcome import Outcome

GENERATED, POOL = "GENERATED", "POOL"


@dataclass(frozen=True, slots=True)
class RewardFields:
    """A reward as the API gives it, and where its discount codes come from."""

    spec: RewardSpec
    code_source: str = GENERATED  # DISCOUNT_CODE only: POOL draws from imported codes


@dataclass(frozen=True, slots=True)
class CreateReward:
    fields: RewardFields


@dataclass(frozen=True, slots=True)
class UpdateReward:
    reward_id: int
    changes: RewardChanges  # only what changes; None clears an optional setting


@dataclass(frozen=True, slots=True)
class RetireReward:
    reward_id: int


@dataclass(frozen=True, slots=True)
class ImportRewardCodes:
    reward_id: int
    codes: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class RewardSaved:
    reward_id: int


@dataclass(frozen=True, slots=True)
class CodesImported:
    reward_id: int
    imported: int
    rejected_lines: tuple[str, ...] = ()  # the three side by side: line, code, reason
    rejected_codes: tuple[str, ...] = ()
    rejected_reasons: tuple[str, ...] = ()

    @property
    def rejected(self) -> tuple[RejectedCode, ...]:
        return tuple(
            RejectedCode(int(line), code, reason)
            for line, code, reason in zip(
                self.rejected_lines, self.rejected_codes, self.rejected_reasons, strict=True
            )
        )


SAVED_CODEC = AnswerCodec(RewardSaved)
IMPORTED_CODEC = AnswerCodec(CodesImported)


def _fail(problem: str) -> DomainError:
    """A reader's problem ('rewards[0].cost: must be ...') as a user error on its field."""
    where, _, message = problem.partition(": ")
    field = where.rsplit(".", 1)[-1] if "." in where else "input"
    return DomainError(ErrorCode.INVALID_INPUT, f"{field}: {message}", field)


async def _checked(tx: WriteTx, spec: RewardSpec, code_source: str) -> RewardDefinition:
    program = (await active_program(tx)).program
    read = Reader()
    tiers = {t.key for t in program.tiers}
    found = parse_rewards(
        read, [spec.as_table()], tiers, program.providers, currency=program.currency
    )
    if read.problems:
        raise _fail(read.problems[0])
    [definition] = found
    for value, field, limit, free in (
        (definition.key, "key", 100, False),
        (definition.name, "name", 200, False),
        (definition.description, "description", 2000, True),
        (definition.discount, "discount", 200, False),
        (definition.product_id, "product_id", 100, False),
        (definition.provider, "provider", 40, False),
        (definition.value.sku if definition.value else None, "value_sku", 100, False),
    ):
        if value:
            check_text(value, field, limit=limit, free_text=free)
    if code_source not in (GENERATED, POOL):
        raise DomainError(ErrorCode.INVALID_INPUT, "codeSource: GENERATED or POOL", "codeSource")
    if code_source == POOL:
        if definition.kind != RewardKind.DISCOUNT_CODE:
            raise DomainError(
                ErrorCode.INVALID_INPUT, "codeSource: only a DISCOUNT_CODE has codes", "codeSource"
            )
        if definition.stock is not None:
            raise DomainError(
                ErrorCode.INVALID_INPUT,
                "stock: a pool's stock is its unused codes (importRewardCodes)",
                "stock",
            )
        definition = replace(definition, stock=None)
    return definition


async def _catalog_reward(tx: WriteTx, reward_id: int) -> Reward:
    reward = await tx.rewards.get(reward_id)
    if reward is None:
        raise DomainError(ErrorCode.REWARD_NOT_FOUND, "No such reward.", "rewardId")
    if reward.source != CATALOG:
        raise DomainError(
            ErrorCode.INVALID_STATE,
            f"{reward.key} comes from the program file: change it there (activateProgram)",
            "rewardId",
        )
    return reward


def _as_spec(reward: Reward) -> RewardSpec:
    """A stored reward as the caller would have given it (what an update starts from)."""
    return RewardSpec(
        key=reward.key,
        name=reward.name,
        description=reward.description,
        kind=reward.kind,
        discount=reward.discount,
        cost=reward.cost,
        stock=None if reward.code_source == POOL else reward.stock,
        min_tier=reward.min_tier,
        per_member_limit=reward.per_member_limit,
        active_from=reward.active_from,
        active_until=reward.active_until,
        provider=reward.provider,
        product_id=reward.product_id,
        face_value=reward.face_value,
        face_currency=reward.face_currency,
        delivery=reward.delivery,
        deadline_hours=reward.deadline_hours,
        visible_tiers=reward.visible_tiers,
        limit_period=reward.limit_period,
        value_type=reward.value.type.value if reward.value else None,
        value_amount=reward.value.stored_amount if reward.value else None,
        value_sku=reward.value.sku if reward.value else None,
        value_level=reward.value.level.value if reward.value else None,
        experience_at=reward.experience_at,
    )


async def create_reward(
    uow: UnitOfWork, clock: Clock, *, principal: str, idempotency_key: str, cmd: CreateReward
) -> Outcome[RewardSaved]:
    async def action(tx: WriteTx) -> RewardSaved:
        definition = await _checked(tx, cmd.fields.spec, cmd.fields.code_source)
        if await tx.catalog.by_key(definition.key) is not None:
            raise DomainError(
                ErrorCode.INVALID_INPUT, f"key: {definition.key!r} is already a reward", "key"
            )
        pool = cmd.fields.code_source == POOL
        reward_id = await tx.catalog.create(
            replace(definition, stock=0) if pool else definition, code_source=cmd.fields.code_source
        )
        return RewardSaved(reward_id)

    return await run_once(
        uow,
        clock,
        principal=principal,
        key=idempotency_key,
        operation="createReward",
        request={"reward": cmd.fields.spec.as_request(), "codeSource": cmd.fields.code_source},
        action=action,
        codec=SAVED_CODEC,
    )


async def update_reward(
    uow: UnitOfWork, clock: Clock, *, principal: str, idempotency_key: str, cmd: UpdateReward
) -> Outcome[RewardSaved]:
    async def action(tx: WriteTx) -> RewardSaved:
        reward = await _catalog_reward(tx, cmd.reward_id)
        merged = cmd.changes.applied_to(_as_spec(reward))
        definition = await _checked(tx, merged, reward.code_source)
        await tx.catalog.change(reward.id, definition, pool=reward.code_source == POOL)
        return RewardSaved(reward.id)

    return await run_once(
        uow,
        clock,
        principal=principal,
        key=idempotency_key,
        operation="updateReward",
        request={"rewardId": cmd.reward_id, "changes": cmd.changes.as_request()},
        action=action,
        codec=SAVED_CODEC,
    )


async def retire_reward(
    uow: UnitOfWork, clock: Clock, *, principal: str, idempotency_key: str, cmd: RetireReward
) -> Outcome[RewardSaved]:
    """Closed to new redemptions; its existing redemptions go on as they were."""

    async def action(tx: WriteTx) -> RewardSaved:
        reward = await _catalog_reward(tx, cmd.reward_id)
        if not await tx.catalog.retire(reward.id):
            raise DomainError(
                ErrorCode.INVALID_STATE, "This reward is already retired.", "rewardId"
            )
        return RewardSaved(reward.id)

    return await run_once(
        uow,
        clock,
        principal=principal,
        key=idempotency_key,
        operation="retireReward",
        request={"rewardId": cmd.reward_id},
        action=action,
        codec=SAVED_CODEC,
    )


async def import_reward_codes(
    uow: UnitOfWork, clock: Clock, *, principal: str, idempotency_key: str, cmd: ImportRewardCodes
) -> Outcome[CodesImported]:
    """Codes into a POOL reward's pool, deduplicated (within the call and against every code
    Tally has ever given out); each rejected line is reported, the rest imported."""
    if len(cmd.codes) > MAX_IMPORT:
        return Outcome.failure(
            DomainError(ErrorCode.LIMIT_REACHED, f"at most {MAX_IMPORT} codes per import", "codes")
        )

    async def action(tx: WriteTx) -> CodesImported:
        reward = await tx.rewards.get(cmd.reward_id)
        if reward is None:
            raise DomainError(ErrorCode.REWARD_NOT_FOUND, "No such reward.", "rewardId")
        if reward.code_source != POOL:
            raise DomainError(
                ErrorCode.INVALID_STATE,
                f"{reward.key} generates its codes: only a POOL reward takes imported ones",
                "rewardId",
            )
        sorted_codes = sort_codes(cmd.codes)
        taken = await tx.catalog.codes_in_use(sorted_codes.accepted)
        lines = {code: n for n, code in enumerate((c.strip() for c in cmd.codes), start=1)}
        fresh = [c for c in sorted_codes.accepted if c not in taken]
        rejected = list(sorted_codes.rejected) + [
            RejectedCode(lines[c], c, "already given out or imported") for c in sorted(taken)
        ]
        rejected.sort(key=lambda r: r.line)
        await tx.catalog.add_codes(reward.id, fresh, clock.now())
        return CodesImported(
            reward_id=reward.id,
            imported=len(fresh),
            rejected_lines=tuple(str(r.line) for r in rejected),
            rejected_codes=tuple(r.code for r in rejected),
            rejected_reasons=tuple(r.reason for r in rejected),
        )

    return await run_once(
        uow,
        clock,
        principal=principal,
        key=idempotency_key,
        operation="importRewardCodes",
        request={"rewardId": cmd.reward_id, "codes": list(cmd.codes)},
        action=action,
        codec=IMPORTED_CODEC,
    )
