"""createReward, updateReward, retireReward and importRewardCodes (catalog:write)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, TypeVar

import strawberry

from app.auth.scopes import Scope
from app.domain.errors import DomainError, ErrorCode
from app.domain.reward_definitions import KEEP, Keep, RewardChanges, RewardSpec
from app.graphql.context import Context
from app.graphql.ids import from_global_id
from app.graphql.mutations.write import (
    IDEMPOTENCY_HELP,
    USER_ERRORS_HELP,
    WritePayload,
    Writer,
)
from app.graphql.permissions import needs
from app.graphql.types.common import UserError
from app.graphql.types.discount_value import DiscountLevel, DiscountValueType
from app.graphql.types.reward import Reward, RewardKind
from app.services.catalog import (
    CodesImported,
    CreateReward,
    ImportRewardCodes,
    RetireReward,
    RewardFields,
    RewardSaved,
    UpdateReward,
    create_reward,
    import_reward_codes,
    retire_reward,
    update_reward,
)

REWARD_ID_HELP = "The reward's global id (Reward.id)."
T = TypeVar("T")


@strawberry.input(description="A reward for the catalog: the keys of a program file's [[rewards]].")
class RewardInput:
    key: str = strawberry.field(description="Its stable id, unique among rewards.")
    name: str = strawberry.field(description="Its display name.")
    kind: RewardKind = strawberry.field(description="What redeeming it gives.")
    cost: int = strawberry.field(description="Points per unit, 1 to 10,000,000.")
    description: str = strawberry.field(default="", description="Text to show the member.")
    discount: str = strawberry.field(default="", description="What a code is worth, as shown.")
    stock: int | None = strawberry.field(
        default=None, description="Units (seats for an experience); null: unlimited."
    )
    min_tier: str | None = strawberry.field(default=None, description="Lowest tier's key.")
    per_member_limit: int | None = strawberry.field(
        default=None, description="Most units one member may redeem; null: no limit."
    )
    active_from: datetime | None = strawberry.field(default=None, description="Redeemable from.")
    active_until: datetime | None = strawberry.field(
        default=None, description="Redeemable until, exclusive."
    )
    provider: str | None = strawberry.field(
        default=None, description="GIFT_CARD: the program's [providers.NAME]."
    )
    product_id: str | None = strawberry.field(
        default=None, description="GIFT_CARD: the provider's product."
    )
    face_value: Decimal | None = strawberry.field(
        default=None, description="GIFT_CARD: the card's value."
    )
    face_currency: str | None = strawberry.field(
        default=None, description="GIFT_CARD: the card's currency (ISO 4217)."
    )
    delivery: str | None = strawberry.field(
        default=None, description="GIFT_CARD: EMAIL (the default) or LINK."
    )
    deadline_hours: int | None = strawberry.field(
        default=None, description="Hours to fulfil a redemption; null: the kind's default."
    )
    visible_tiers: list[str] | None = strawberry.field(
        default=None, description="Only members of these tiers see it; null: everyone."
    )
    limit_period: str = strawberry.field(
        default="LIFETIME", description="perMemberLimit per LIFETIME, DAY, MONTH or YEAR."
    )
    value_type: DiscountValueType | None = strawberry.field(
        default=None,
        description="DISCOUNT_CODE: what a code takes off, typed (Reward.value); null: only "
        "the discount text.",
    )
    value_amount: Decimal | None = strawberry.field(
        default=None,
        description="FIXED_AMOUNT: the amount off in the program's currency (more than 0, its "
        "decimals); PERCENTAGE: the percent off (more than 0, at most 100).",
    )
    value_sku: str | None = strawberry.field(
        default=None,
        description="FREE_ITEM: the item; an ITEM-level amount or percentage: which item.",
    )
    value_level: DiscountLevel | None = strawberry.field(
        default=None,
        description="CHECK or ITEM; null: ITEM with a sku, CHECK without.",
    )
    experience_at: datetime | None = strawberry.field(
        default=None,
        description="EXPERIENCE (required there, only there): when it takes place, with its "
        "UTC offset; it cannot be redeemed from then on.",
    )
    code_source: str = strawberry.field(
        default="GENERATED",
        description="DISCOUNT_CODE: GENERATED (Tally makes each code) or POOL (drawn from "
        "codes you import with importRewardCodes, each given out once).",
    )

    def spec(self) -> RewardSpec:
        return RewardSpec(
            key=self.key,
            name=self.name,
            kind=self.kind.value,
            cost=self.cost,
            description=self.description,
            discount=self.discount,
            stock=self.stock,
            min_tier=self.min_tier,
            per_member_limit=self.per_member_limit,
            active_from=self.active_from,
            active_until=self.active_until,
            provider=self.provider,
            product_id=self.product_id,
            face_value=self.face_value,
            face_currency=self.face_currency,
            delivery=self.delivery,
            deadline_hours=self.deadline_hours,
            visible_tiers=tuple(self.visible_tiers) if self.visible_tiers is not None else None,
            limit_period=self.limit_period,
            value_type=self.value_type.value if self.value_type else None,
            value_amount=self.value_amount,
            value_sku=self.value_sku,
            value_level=self.value_level.value if self.value_level else None,
            experience_at=self.experience_at,
        )


@strawberry.input(description="What changes in a catalog reward; an omitted field stays.")
class RewardChangesInput:
    name: str | None = strawberry.field(default=strawberry.UNSET, description="New name.")
    description: str | None = strawberry.field(default=strawberry.UNSET, description="New text.")
    discount: str | None = strawberry.field(default=strawberry.UNSET, description="New value.")
    cost: int | None = strawberry.field(default=strawberry.UNSET, description="New cost.")
    stock: int | None = strawberry.field(
        default=strawberry.UNSET, description="New total stock; null: unlimited."
    )
    min_tier: str | None = strawberry.field(
        default=strawberry.UNSET, description="New lowest tier; null: every tier."
    )
    per_member_limit: int | None = strawberry.field(
        default=strawberry.UNSET, description="New limit; null: none."
    )
    active_from: datetime | None = strawberry.field(
        default=strawberry.UNSET, description="New start; null: from now."
    )
    active_until: datetime | None = strawberry.field(
        default=strawberry.UNSET, description="New end; null: no end."
    )
    deadline_hours: int | None = strawberry.field(
        default=strawberry.UNSET, description="New deadline; null: the kind's default."
    )
    visible_tiers: list[str] | None = strawberry.field(
        default=strawberry.UNSET, description="New tiers that see it; null: everyone."
    )
    limit_period: str | None = strawberry.field(
        default=strawberry.UNSET, description="New period of perMemberLimit."
    )
    value_type: DiscountValueType | None = strawberry.field(
        default=strawberry.UNSET,
        description="A new typed value: the value fields not given with it are cleared; "
        "null: no typed value.",
    )
    value_amount: Decimal | None = strawberry.field(
        default=strawberry.UNSET, description="New amount or percentage off."
    )
    value_sku: str | None = strawberry.field(
        default=strawberry.UNSET, description="New item of the value; null: none."
    )
    value_level: DiscountLevel | None = strawberry.field(
        default=strawberry.UNSET, description="New level of the value; null: its default."
    )
    experience_at: datetime | None = strawberry.field(
        default=strawberry.UNSET,
        description="EXPERIENCE: its new date; redemptions already made keep their seats.",
    )

    def changes(self) -> RewardChanges:
        """The changes given; a null name or cost is refused (they cannot be cleared)."""
        for value, field, need in (
            (self.name, "name", "a non-empty string is required"),
            (self.cost, "cost", "a whole number is required"),
        ):
            if value is None:
                raise DomainError(ErrorCode.INVALID_INPUT, f"{field}: {need}", field)
        tiers = _given(self.visible_tiers)
        return RewardChanges(
            name=_required(self.name),
            description=_given(self.description),
            discount=_given(self.discount),
            cost=_required(self.cost),
            stock=_given(self.stock),
            min_tier=_given(self.min_tier),
            per_member_limit=_given(self.per_member_limit),
            active_from=_given(self.active_from),
            active_until=_given(self.active_until),
            deadline_hours=_given(self.deadline_hours),
            visible_tiers=tuple(tiers) if isinstance(tiers, list) else tiers,
            limit_period=_given(self.limit_period),
            value_type=_enum(self.value_type),
            value_amount=_given(self.value_amount),
            value_sku=_given(self.value_sku),
            value_level=_enum(self.value_level),
            experience_at=_given(self.experience_at),
        )


def _given(value: T | None) -> T | None | Keep:
    """An input field left out is KEEP; null clears."""
    return KEEP if value is strawberry.UNSET else value


def _enum(value: DiscountValueType | DiscountLevel | None) -> str | None | Keep:
    given = _given(value)
    return given.value if isinstance(given, DiscountValueType | DiscountLevel) else given


def _required(value: T | None) -> T | Keep:
    return KEEP if value is strawberry.UNSET or value is None else value


@strawberry.type(description="What createReward, updateReward or retireReward did.")
class RewardPayload(WritePayload):
    @staticmethod
    async def shown(w: Writer, done: RewardSaved) -> RewardPayload:
        w.info.context.loaders.reward.forget(done.reward_id)
        found = await w.info.context.loaders.reward.load(done.reward_id)
        return RewardPayload(reward=Reward.of(found) if found else None, user_errors=[])

    reward: Reward | None = strawberry.field(
        description="The reward as saved; null when the write failed."
    )
    user_errors: list[UserError] = strawberry.field(description=USER_ERRORS_HELP)


@strawberry.type(description="A line importRewardCodes did not import, and why.")
class RejectedRewardCode:
    line: int = strawberry.field(description="Its place in the list, from 1.")
    code: str = strawberry.field(description="The code as given (control characters escaped).")
    reason: str = strawberry.field(description="Why it was not imported.")


@strawberry.type(description="What importRewardCodes did.")
class ImportRewardCodesPayload(WritePayload):
    @staticmethod
    async def shown(w: Writer, done: CodesImported) -> ImportRewardCodesPayload:
        w.info.context.loaders.reward.forget(done.reward_id)
        found = await w.info.context.loaders.reward.load(done.reward_id)
        return ImportRewardCodesPayload(
            reward=Reward.of(found) if found else None,
            imported=done.imported,
            rejected=[
                RejectedRewardCode(line=r.line, code=r.code, reason=r.reason) for r in done.rejected
            ],
            user_errors=[],
        )

    reward: Reward | None = strawberry.field(
        description="The reward, its stock grown by the codes imported; null on failure."
    )
    imported: int | None = strawberry.field(description="How many codes were added.")
    rejected: list[RejectedRewardCode] | None = strawberry.field(
        description="Each line not imported (blank lines are skipped, not rejected)."
    )
    user_errors: list[UserError] = strawberry.field(description=USER_ERRORS_HELP)


CATALOG_WRITE = needs(Scope.CATALOG_WRITE)


@strawberry.mutation(
    description="Add a reward to the catalog (catalog:write), checked as a program file's "
    "would be. Rewards of the program file are changed in the file instead.",
    extensions=CATALOG_WRITE,
)
async def create_reward_mutation(
    info: strawberry.Info[Context, None],
    input: Annotated[RewardInput, strawberry.argument(description="The reward.")],
    idempotency_key: Annotated[str, strawberry.argument(description=IDEMPOTENCY_HELP)],
) -> RewardPayload:
    async def command(w: Writer) -> CreateReward:
        return CreateReward(RewardFields(input.spec(), input.code_source))

    return await Writer(info).run(
        create_reward,
        command,
        idempotency_key=idempotency_key,
        shown=RewardPayload.shown,
        failed=RewardPayload.failed,
    )


@strawberry.mutation(
    description="Change a catalog reward (catalog:write); key and kind stay. Existing "
    "redemptions keep what they were redeemed for.",
    extensions=CATALOG_WRITE,
)
async def update_reward_mutation(
    info: strawberry.Info[Context, None],
    reward_id: Annotated[strawberry.ID, strawberry.argument(description=REWARD_ID_HELP)],
    input: Annotated[RewardChangesInput, strawberry.argument(description="What changes.")],
    idempotency_key: Annotated[str, strawberry.argument(description=IDEMPOTENCY_HELP)],
) -> RewardPayload:
    pk = from_global_id(str(reward_id), expect="Reward", field="rewardId")[1]

    async def command(w: Writer) -> UpdateReward:
        return UpdateReward(pk, input.changes())

    return await Writer(info).run(
        update_reward,
        command,
        idempotency_key=idempotency_key,
        shown=RewardPayload.shown,
        failed=RewardPayload.failed,
    )


@strawberry.mutation(
    description="Close a catalog reward to new redemptions (catalog:write); redemptions "
    "already made go on unaffected.",
    extensions=CATALOG_WRITE,
)
async def retire_reward_mutation(
    info: strawberry.Info[Context, None],
    reward_id: Annotated[strawberry.ID, strawberry.argument(description=REWARD_ID_HELP)],
    idempotency_key: Annotated[str, strawberry.argument(description=IDEMPOTENCY_HELP)],
) -> RewardPayload:
    pk = from_global_id(str(reward_id), expect="Reward", field="rewardId")[1]

    async def command(w: Writer) -> RetireReward:
        return RetireReward(pk)

    return await Writer(info).run(
        retire_reward,
        command,
        idempotency_key=idempotency_key,
        shown=RewardPayload.shown,
        failed=RewardPayload.failed,
    )


@strawberry.mutation(
    description="Add codes to a POOL reward's pool (catalog:write): up to 10,000 a call, "
    "deduplicated within the call and against every code already given out or imported; "
    "each rejected line is reported and the rest imported. The reward's stock grows by as "
    "many. For a file, `tally reward import-codes`.",
    extensions=CATALOG_WRITE,
)
async def import_reward_codes_mutation(
    info: strawberry.Info[Context, None],
    reward_id: Annotated[strawberry.ID, strawberry.argument(description=REWARD_ID_HELP)],
    codes: Annotated[list[str], strawberry.argument(description="One code per item.")],
    idempotency_key: Annotated[str, strawberry.argument(description=IDEMPOTENCY_HELP)],
) -> ImportRewardCodesPayload:
    pk = from_global_id(str(reward_id), expect="Reward", field="rewardId")[1]

    async def command(w: Writer) -> ImportRewardCodes:
        return ImportRewardCodes(pk, tuple(codes))

    return await Writer(info).run(
        import_reward_codes,
        command,
        idempotency_key=idempotency_key,
        shown=ImportRewardCodesPayload.shown,
        failed=ImportRewardCodesPayload.failed,
    )
