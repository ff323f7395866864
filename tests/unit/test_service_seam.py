"""The seam between services and GraphQL is typed: no loose dicts cross it.

Every write use case answers `Outcome[Result]` with a frozen dataclass result, and nothing a
service returns carries `dict[str, Any]` (what a typo in `.get("points")` would silently
read as None).
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import pkgutil
import typing
from types import ModuleType
from typing import Any

import app.services
from app.services.codec import AnswerCodec
from app.services.outcome import Outcome


def _service_modules() -> list[ModuleType]:
    return [
        importlib.import_module(f"app.services.{info.name}")
        for info in pkgutil.iter_modules(app.services.__path__)
    ]


def _loose(hint: Any) -> bool:
    """Does this type carry a dict[str, Any] (or a bare dict / Any) anywhere inside?"""
    if hint is Any or hint is dict:
        return True
    args = typing.get_args(hint)
    if typing.get_origin(hint) is dict and len(args) == 2 and args[1] is Any:
        return True
    return any(_loose(arg) for arg in args)


def _returns(fn: Any) -> Any:
    return typing.get_type_hints(fn).get("return")


def _public_functions() -> list[tuple[str, Any]]:
    found = []
    for module in _service_modules():
        for name, obj in vars(module).items():
            if name.startswith("_") or getattr(obj, "__module__", None) != module.__name__:
                continue
            if inspect.isfunction(obj):
                found.append((f"{module.__name__}.{name}", obj))
            elif inspect.isclass(obj):
                for method_name, method in vars(obj).items():
                    if inspect.isfunction(method) and not method_name.startswith("_"):
                        found.append((f"{module.__name__}.{name}.{method_name}", method))
    return found


def test_write_use_cases_answer_frozen_dataclasses_with_a_codec() -> None:
    writes = [
        (name, _returns(fn))
        for name, fn in _public_functions()
        if typing.get_origin(_returns(fn)) is Outcome
        and not isinstance(typing.get_args(_returns(fn))[0], typing.TypeVar)  # run_once itself
    ]
    assert len(writes) >= 10, writes  # every mutation's use case
    for name, answer in writes:
        (result,) = typing.get_args(answer)
        assert dataclasses.is_dataclass(result), name
        assert result.__dataclass_params__.frozen, name  # type: ignore[attr-defined]
        AnswerCodec(result)  # every field has a codec


def test_nothing_a_service_returns_is_a_loose_dict() -> None:
    loose = [name for name, fn in _public_functions() if _loose(_returns(fn))]
    allowed = {
        # Program definitions are TOML documents, read and diffed as data by design.
        "app.services.program.load_program_file",
        "app.services.program.parse_program_text",
        # What the idempotency store keeps: JSON by definition, never read by GraphQL.
        "app.services.codec.AnswerCodec.encode",
        "app.services.outcome.Outcome.stored",
        # The stored form of an earn's explanation (a JSON column); GraphQL reads RuleAwards.
        "app.services.earning.explanation_data",
    }
    assert sorted(set(loose) - allowed) == []


def test_results_hold_no_loose_dicts() -> None:
    for name, fn in _public_functions():
        answer = _returns(fn)
        if typing.get_origin(answer) is Outcome:
            (result,) = typing.get_args(answer)
            if isinstance(result, typing.TypeVar):
                continue
            hints = typing.get_type_hints(result)
            assert not any(_loose(h) for h in hints.values()), (name, hints)
