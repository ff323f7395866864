"""The sandbox's options: set on the command line, changed at runtime by
`POST /_sandbox/config` (a JSON object with the same names in snake_case)."""

from __future__ import annotations

import argparse
import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation


class ConfigError(ValueError):
    """An option that does not exist or a value it cannot take."""


def _text(value: object) -> str:
    if not isinstance(value, str) or not value:
        raise ConfigError("a non-empty string")
    return value


def _money(value: object) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, str | int | float | Decimal):
        raise ConfigError("a number")
    try:
        amount = Decimal(str(value))
    except InvalidOperation as error:
        raise ConfigError("a number") from error
    if not amount.is_finite() or amount < 0:
        raise ConfigError("a number >= 0")
    return amount


def _seconds(value: object) -> float:
    return float(_money(value))


def _rate(value: object) -> float:
    rate = float(_money(value))
    if rate > 1:
        raise ConfigError("a fraction between 0 and 1")
    return rate


def _whole(value: object) -> int:
    amount = _money(value)
    if amount != amount.to_integral_value():
        raise ConfigError("a whole number")
    return int(amount)


def _positive_whole(value: object) -> int:
    number = _whole(value)
    if number < 1:
        raise ConfigError("a whole number >= 1")
    return number


@dataclass(slots=True)
class SandboxConfig:
    """Live options of one sandbox. `balance` is the deposit account itself: orders draw
    it down, and setting it tops the account up (or empties it)."""

    email: str = "sandbox@tally.test"
    access_token: str = "sandbox-token"
    balance: Decimal = Decimal("10000")
    latency_ms: float = 0.0
    failure_rate: float = 0.0
    timeout_rate: float = 0.0
    pending_over: Decimal | None = None
    complete_after: float | None = None
    webhook_url: str | None = None
    webhook_secret: str | None = None
    seed: int | None = None
    token_ttl: int = 3600

    def to_json(self) -> dict[str, object]:
        """Every option and its current value."""
        return dataclasses.asdict(self)

    def update(self, changes: Mapping[str, object]) -> None:
        """Apply `changes` all or nothing; ConfigError names the first bad option."""
        parsed: dict[str, object] = {}
        for name, value in changes.items():
            option = _OPTIONS.get(name)
            if option is None:
                raise ConfigError(f"unknown option {name!r}")
            convert, optional, _ = option
            if value is None and optional:
                parsed[name] = None
                continue
            try:
                parsed[name] = convert(value)
            except ConfigError as error:
                raise ConfigError(f"{name} must be {error}") from None
        for name, value in parsed.items():
            setattr(self, name, value)


# name -> (converter, may be null, help)
_OPTIONS: dict[str, tuple[Callable[[object], object], bool, str]] = {
    "email": (_text, False, "the Email header the token endpoint accepts"),
    "access_token": (_text, False, "the AccessToken header the token endpoint accepts"),
    "balance": (_money, False, "deposit balance in EUR; an order past it answers 422"),
    "latency_ms": (_seconds, False, "milliseconds added to every /v1 call"),
    "failure_rate": (_rate, False, "fraction of order calls answered 500, creating nothing"),
    "timeout_rate": (_rate, False, "fraction of order calls that create the order, then 504"),
    "pending_over": (_money, True, "orders whose face value exceeds this stay Pending"),
    "complete_after": (_seconds, True, "seconds until a Pending order completes by itself"),
    "webhook_url": (_text, True, "where FulfillmentComplete webhooks are POSTed"),
    "webhook_secret": (_text, True, "sent as the X-Webhook-Secret header of every webhook"),
    "seed": (_whole, True, "seed of the random generator behind the injected failures"),
    "token_ttl": (_positive_whole, False, "seconds a bearer token lives (ExpiresIn)"),
}


def add_options(parser: argparse.ArgumentParser) -> None:
    """One `--kebab-case` flag per option, with the dataclass defaults."""
    defaults = SandboxConfig()
    for name, (convert, _, help_text) in _OPTIONS.items():
        default = getattr(defaults, name)

        def parse(text: str, convert: Callable[[object], object] = convert) -> object:
            try:
                return convert(text)
            except ConfigError as error:
                raise argparse.ArgumentTypeError(f"must be {error}") from None

        parser.add_argument(
            "--" + name.replace("_", "-"),
            dest=name,
            type=parse,
            default=default,
            help=f"{help_text} (default: {default})",
        )


def config_from_args(args: argparse.Namespace) -> SandboxConfig:
    """The options `add_options` parsed."""
    return SandboxConfig(**{name: getattr(args, name) for name in _OPTIONS})
