"""Rewards and fulfilment providers as a program defines them, read and written back.

[providers.giftcards]
kind = "giftcard-api"            # or "codes" (instant discount codes), "manual"
base_url = "https://api.example"
email = "loyalty@shop.example"   # the account; its secrets come from the environment:
                                 # TALLY_PROVIDER_GIFTCARDS_ACCESS_TOKEN and
                                 # TALLY_PROVIDER_GIFTCARDS_WEBHOOK_SECRET

[[rewards]]
key = "gift-25"
kind = "GIFT_CARD"
provider = "giftcards"
product_id = "CVS"
face_value = "25"
face_currency = "EUR"
delivery = "EMAIL"               # or "LINK"
deadline_hours = 72              # then it fails and the points come back
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal
from enum import Enum
from typing import Any, TypeVar

from app.domain.definition_reader import Reader
from app.domain.discount_values import DiscountValue, parse_value, value_to_data
from app.domain.rewards import RewardKind

MAX_REWARD_COST = 10_000_000  # with the Int range: no valid redemption overflows
MAX_FACE_VALUE = Decimal("10000")
PROVIDER_KINDS = ("giftcard-api", "codes", "manual")
#: Which provider kind fulfils which reward kind.
FULFILS: dict[str, frozenset[RewardKind]] = {
    "giftcard-api": frozenset({RewardKind.GIFT_CARD}),
    "codes": frozenset({RewardKind.DISCOUNT_CODE}),
    "manual": frozenset({RewardKind.PHYSICAL, RewardKind.EXPERIENCE}),
}
#: Settings a provider table may hold: never a secret.
PROVIDER_SETTINGS = frozenset({"kind", "base_url", "email", "po_prefix", "timeout_seconds"})
SECRET_WORDS = ("secret", "token", "password", "key")
DELIVERIES = ("EMAIL", "LINK")
LIMIT_PERIODS = ("LIFETIME", "DAY", "MONTH", "YEAR")
#: Hours a redemption may take to be fulfilled, by kind, unless the reward says otherwise.
DEFAULT_DEADLINE_HOURS: dict[RewardKind, int] = {
    RewardKind.GIFT_CARD: 72,
    RewardKind.DISCOUNT_CODE: 30 * 24,
    RewardKind.PHYSICAL: 30 * 24,
    RewardKind.EXPERIENCE: 30 * 24,
}
MAX_DEADLINE_HOURS = 366 * 24


@dataclass(frozen=True, slots=True)
class ProviderDefinition:
    """A named fulfilment provider: its kind and its (non-secret) settings."""

    name: str
    kind: str
    settings: dict[str, str] = field(default_factory=dict)

    def env_name(self, secret: str) -> str:
        """Where a secret of this provider is read from: TALLY_PROVIDER_<NAME>_<SECRET>."""
        return f"TALLY_PROVIDER_{self.name.upper().replace('-', '_')}_{secret.upper()}"


@dataclass(frozen=True, slots=True)
class RewardDefinition:
    key: str
    name: str
    description: str
    cost: int
    stock: int | None
    min_tier: str | None
    per_member_limit: int | None
    active_from: datetime | None
    active_until: datetime | None
    kind: str = "DISCOUNT_CODE"
    discount: str = ""
    provider: str | None = None  # a [providers.NAME]; None: the kind's built-in way
    product_id: str | None = None  # GIFT_CARD: the provider's product
    face_value: Decimal | None = None  # GIFT_CARD: the card's value
    face_currency: str | None = None
    delivery: str | None = None  # GIFT_CARD: EMAIL (to the member) or LINK (claim link)
    deadline_hours: int | None = None  # None: DEFAULT_DEADLINE_HOURS of its kind
    visible_tiers: tuple[str, ...] | None = None  # only these tiers see it; None: everyone
    limit_period: str = "LIFETIME"  # per_member_limit counts per DAY, MONTH, YEAR or ever
    value: DiscountValue | None = None  # DISCOUNT_CODE: what a code is worth, typed
    experience_at: datetime | None = None  # EXPERIENCE: when it takes place (required)

    @property
    def deadline(self) -> int:
        return self.deadline_hours or DEFAULT_DEADLINE_HOURS[RewardKind(self.kind)]


class Keep(Enum):
    """A change left out: the setting stays as it is (None, by contrast, clears it)."""

    KEEP = "KEEP"


KEEP = Keep.KEEP
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class RewardSpec:
    """A reward as a caller gives it: the keys a [[rewards]] table can hold, typed. It is
    checked by turning it into that table (`as_table`) and reading it with parse_rewards,
    so the catalog and a program file are held to the very same rules."""

    key: str
    name: str
    kind: str
    cost: int
    description: str = ""
    discount: str = ""
    stock: int | None = None
    min_tier: str | None = None
    per_member_limit: int | None = None
    active_from: datetime | None = None
    active_until: datetime | None = None
    provider: str | None = None
    product_id: str | None = None
    face_value: Decimal | None = None
    face_currency: str | None = None
    delivery: str | None = None
    deadline_hours: int | None = None
    visible_tiers: tuple[str, ...] | None = None
    limit_period: str = "LIFETIME"
    value_type: str | None = None
    value_amount: Decimal | None = None
    value_sku: str | None = None
    value_level: str | None = None
    experience_at: datetime | None = None

    def _items(self) -> dict[str, object]:
        return {
            "key": self.key,
            "name": self.name,
            "kind": self.kind,
            "cost": self.cost,
            "description": self.description,
            "discount": self.discount,
            "stock": self.stock,
            "min_tier": self.min_tier,
            "per_member_limit": self.per_member_limit,
            "active_from": self.active_from,
            "active_until": self.active_until,
            "provider": self.provider,
            "product_id": self.product_id,
            "face_value": str(self.face_value) if self.face_value is not None else None,
            "face_currency": self.face_currency,
            "delivery": self.delivery,
            "deadline_hours": self.deadline_hours,
            "visible_tiers": list(self.visible_tiers) if self.visible_tiers is not None else None,
            "limit_period": self.limit_period,
        }

    def _added(self) -> dict[str, object]:
        """Keys added since the catalog first took requests: in a request only when given,
        so an older request hashes as it did."""
        added: dict[str, object] = {
            "value_type": self.value_type,
            "value_amount": str(self.value_amount) if self.value_amount is not None else None,
            "value_sku": self.value_sku,
            "value_level": self.value_level,
            "experience_at": self.experience_at,
        }
        return {k: v for k, v in added.items() if v is not None}

    def as_table(self) -> dict[str, Any]:
        """The [[rewards]] table it stands for (a setting not given is left out)."""
        items = {k: v for k, v in self._items().items() if v is not None}
        return {**items, **self._added()}

    def as_request(self) -> dict[str, object]:
        """What an idempotency key is claimed with: stable for the same reward."""
        return {k: _jsonable(v) for k, v in {**self._items(), **self._added()}.items()}


@dataclass(frozen=True, slots=True)
class RewardChanges:
    """What an update changes: KEEP (the default) leaves a setting as it is, None clears
    an optional one. Key and kind never change."""

    name: str | Keep = KEEP
    description: str | None | Keep = KEEP
    discount: str | None | Keep = KEEP
    cost: int | Keep = KEEP
    stock: int | None | Keep = KEEP
    min_tier: str | None | Keep = KEEP
    per_member_limit: int | None | Keep = KEEP
    active_from: datetime | None | Keep = KEEP
    active_until: datetime | None | Keep = KEEP
    deadline_hours: int | None | Keep = KEEP
    visible_tiers: tuple[str, ...] | None | Keep = KEEP
    limit_period: str | None | Keep = KEEP
    value_type: str | None | Keep = KEEP
    value_amount: Decimal | None | Keep = KEEP
    value_sku: str | None | Keep = KEEP
    value_level: str | None | Keep = KEEP
    experience_at: datetime | None | Keep = KEEP

    def applied_to(self, spec: RewardSpec) -> RewardSpec:
        """`spec` with these changes; a cleared text is empty, a cleared period LIFETIME.
        A new value_type replaces the whole value: the value keys not given are cleared."""
        if not isinstance(self.value_type, Keep):
            spec = replace(spec, value_amount=None, value_sku=None, value_level=None)
        return replace(
            spec,
            name=_pick(self.name, spec.name),
            description=_pick(self.description, spec.description) or "",
            discount=_pick(self.discount, spec.discount) or "",
            cost=_pick(self.cost, spec.cost),
            stock=_pick(self.stock, spec.stock),
            min_tier=_pick(self.min_tier, spec.min_tier),
            per_member_limit=_pick(self.per_member_limit, spec.per_member_limit),
            active_from=_pick(self.active_from, spec.active_from),
            active_until=_pick(self.active_until, spec.active_until),
            deadline_hours=_pick(self.deadline_hours, spec.deadline_hours),
            visible_tiers=_pick(self.visible_tiers, spec.visible_tiers),
            limit_period=_pick(self.limit_period, spec.limit_period) or "LIFETIME",
            value_type=_pick(self.value_type, spec.value_type),
            value_amount=_pick(self.value_amount, spec.value_amount),
            value_sku=_pick(self.value_sku, spec.value_sku),
            value_level=_pick(self.value_level, spec.value_level),
            experience_at=_pick(self.experience_at, spec.experience_at),
        )

    def as_request(self) -> dict[str, object]:
        """Only what was given (None for a clear): stable for the same changes."""
        given: dict[str, object] = {
            "name": self.name,
            "description": self.description,
            "discount": self.discount,
            "cost": self.cost,
            "stock": self.stock,
            "min_tier": self.min_tier,
            "per_member_limit": self.per_member_limit,
            "active_from": self.active_from,
            "active_until": self.active_until,
            "deadline_hours": self.deadline_hours,
            "visible_tiers": self.visible_tiers,
            "limit_period": self.limit_period,
            "value_type": self.value_type,
            "value_amount": self.value_amount,
            "value_sku": self.value_sku,
            "value_level": self.value_level,
            "experience_at": self.experience_at,
        }
        return {k: _jsonable(v) for k, v in given.items() if not isinstance(v, Keep)}


def _pick(new: T | Keep, old: T) -> T:
    return old if isinstance(new, Keep) else new


def _jsonable(value: object) -> object:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, tuple):
        return list(value)
    if isinstance(value, Decimal):
        return str(value)
    return value


def parse_providers(read: Reader, raw: object) -> tuple[ProviderDefinition, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, dict):
        read.fail("providers", "a [providers.NAME] table per provider is required")
        return ()
    found: list[ProviderDefinition] = []
    for name, table in raw.items():
        path = f"providers.{name}"
        if not isinstance(table, dict):
            read.fail(path, "a table is required")
            continue
        if not name.replace("-", "").replace("_", "").isalnum() or len(name) > 40:
            read.fail(path, "a name of letters, digits, - and _ (at most 40) is required")
        kind = str(table.get("kind", ""))
        if kind not in PROVIDER_KINDS:
            read.fail(f"{path}.kind", f"one of {list(PROVIDER_KINDS)} is required")
        for key in table:
            if any(word in key.lower() for word in SECRET_WORDS):
                read.fail(
                    f"{path}.{key}",
                    "secrets never go in the program file: set "
                    f"{ProviderDefinition(name, kind).env_name(key)} in the environment",
                )
            elif key not in PROVIDER_SETTINGS:
                read.fail(f"{path}.{key}", f"unknown setting; known: {sorted(PROVIDER_SETTINGS)}")
        if kind == "giftcard-api":
            for needed in ("base_url", "email"):
                read.text(table, needed, path)
            url = str(table.get("base_url", ""))
            if url and not url.startswith(("https://", "http://")):
                read.fail(f"{path}.base_url", "an http(s) URL is required")
        settings = {k: str(v) for k, v in table.items() if k in PROVIDER_SETTINGS and k != "kind"}
        found.append(ProviderDefinition(name, kind, settings))
    return tuple(found)


def parse_rewards(
    read: Reader,
    raw: object,
    tier_keys: set[str],
    providers: tuple[ProviderDefinition, ...],
    *,
    currency: str,
) -> tuple[RewardDefinition, ...]:
    """The [[rewards]] tables; `currency` is the program's (a FIXED_AMOUNT value's)."""
    by_name = {p.name: p for p in providers}
    rewards: list[RewardDefinition] = []
    for path, item in read.tables(raw, "rewards"):
        kind = str(item.get("kind", "DISCOUNT_CODE")).upper()
        if kind not in RewardKind.__members__:
            read.fail(f"{path}.kind", f"one of {sorted(RewardKind.__members__)} is required")
            kind = RewardKind.DISCOUNT_CODE.value
        min_tier = item.get("min_tier")
        if min_tier is not None and min_tier not in tier_keys:
            read.fail(f"{path}.min_tier", f"{min_tier!r} is not a tier key")
        provider = item.get("provider")
        if provider is not None:
            known = by_name.get(str(provider))
            if known is None:
                read.fail(f"{path}.provider", f"{provider!r} is not a [providers.NAME]")
            elif RewardKind(kind) not in FULFILS.get(known.kind, frozenset()):
                read.fail(f"{path}.provider", f"a {known.kind} provider cannot fulfil {kind}")
        visible = item.get("visible_tiers")
        if visible is not None and (
            not isinstance(visible, list)
            or not visible
            or not all(isinstance(t, str) and t in tier_keys for t in visible)
        ):
            read.fail(f"{path}.visible_tiers", "a non-empty list of tier keys is required")
            visible = None
        period = str(item.get("limit_period", "LIFETIME")).upper()
        if period not in LIMIT_PERIODS:
            read.fail(f"{path}.limit_period", f"one of {list(LIMIT_PERIODS)} is required")
            period = "LIFETIME"
        gift: dict[str, Any] = {}
        if kind == RewardKind.GIFT_CARD.value:
            gift = _gift_card(read, item, path, provider)
        else:
            for key in ("product_id", "face_value", "face_currency", "delivery"):
                if key in item:
                    read.fail(f"{path}.{key}", "only a GIFT_CARD reward has it")
        reward = RewardDefinition(
            key=read.text(item, "key", path),
            name=read.text(item, "name", path),
            description=str(item.get("description", "")),
            cost=read.integer(item, "cost", path, minimum=1, maximum=MAX_REWARD_COST) or 1,
            stock=read.integer(item, "stock", path, maximum=1_000_000_000, optional=True),
            min_tier=min_tier if isinstance(min_tier, str) else None,
            per_member_limit=read.integer(
                item, "per_member_limit", path, minimum=1, maximum=10_000, optional=True
            ),
            active_from=read.moment(item, "active_from", path),
            active_until=read.moment(item, "active_until", path),
            kind=kind,
            discount=str(item.get("discount", "")),
            provider=str(provider) if provider is not None else None,
            deadline_hours=read.integer(
                item, "deadline_hours", path, minimum=1, maximum=MAX_DEADLINE_HOURS, optional=True
            ),
            visible_tiers=tuple(visible) if visible else None,
            limit_period=period,
            value=parse_value(read, item, path, kind=kind, currency=currency),
            experience_at=_experience_at(read, item, path, kind),
            **gift,
        )
        if reward.active_from and reward.active_until and reward.active_until <= reward.active_from:
            read.fail(f"{path}.active_until", "must be after active_from")
        rewards.append(reward)
    read.no_duplicates("rewards", "reward key", [r.key for r in rewards])
    return tuple(rewards)


def _experience_at(read: Reader, item: dict[str, Any], path: str, kind: str) -> datetime | None:
    """EXPERIENCE: when it takes place (redeemable until then); only an experience has it.
    A stored version from before the date existed reads back without it (no limits)."""
    if kind != RewardKind.EXPERIENCE.value:
        if "experience_at" in item:
            read.fail(f"{path}.experience_at", "only an EXPERIENCE reward has it")
        return None
    if "experience_at" not in item:
        if read.limits:
            read.fail(f"{path}.experience_at", "an EXPERIENCE reward has its date and time")
        return None
    return read.moment(item, "experience_at", path)


def _gift_card(read: Reader, item: dict[str, Any], path: str, provider: object) -> dict[str, Any]:
    if provider is None:
        read.fail(f"{path}.provider", "a GIFT_CARD reward names its [providers.NAME]")
    currency = str(item.get("face_currency", ""))
    if len(currency) != 3 or not currency.isalpha() or not currency.isupper():
        read.fail(f"{path}.face_currency", "an ISO 4217 code such as EUR is required")
    delivery = str(item.get("delivery", "EMAIL")).upper()
    if delivery not in DELIVERIES:
        read.fail(f"{path}.delivery", f"one of {list(DELIVERIES)} is required")
    return {
        "product_id": read.text(item, "product_id", path),
        "face_value": read.decimal(item, "face_value", path, "1", maximum=MAX_FACE_VALUE),
        "face_currency": currency,
        "delivery": delivery,
    }


def providers_to_data(providers: tuple[ProviderDefinition, ...]) -> dict[str, Any]:
    return {p.name: {"kind": p.kind, **p.settings} for p in providers}


def rewards_to_data(rewards: tuple[RewardDefinition, ...]) -> list[dict[str, Any]]:
    found = []
    for r in rewards:
        item: dict[str, Any] = {
            "key": r.key,
            "name": r.name,
            "description": r.description,
            "cost": r.cost,
            "kind": r.kind,
            "discount": r.discount,
        }
        for key, value in (
            ("stock", r.stock),
            ("min_tier", r.min_tier),
            ("per_member_limit", r.per_member_limit),
            ("active_from", r.active_from.isoformat() if r.active_from else None),
            ("active_until", r.active_until.isoformat() if r.active_until else None),
            ("provider", r.provider),
            ("product_id", r.product_id),
            ("face_value", str(r.face_value) if r.face_value is not None else None),
            ("face_currency", r.face_currency),
            ("delivery", r.delivery),
            ("deadline_hours", r.deadline_hours),
            ("visible_tiers", list(r.visible_tiers) if r.visible_tiers else None),
            ("limit_period", r.limit_period if r.limit_period != "LIFETIME" else None),
            ("experience_at", r.experience_at.isoformat() if r.experience_at else None),
        ):
            if value is not None:
                item[key] = value
        item.update(value_to_data(r.value))
        found.append(item)
    return found
