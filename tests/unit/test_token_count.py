"""The guard's token count (a regular expression run before parsing) agrees exactly with
graphql-core's `max_tokens` on valid documents, so it never refuses one the parser would
take; on anything else the parser, which enforces the same limit, has the last word."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from graphql import GraphQLSyntaxError, get_introspection_query, parse
from hypothesis import given, settings
from hypothesis import strategies as st

from app.graphql.budget import token_past

ROOT = Path(__file__).resolve().parents[2]


def _parser_count(text: str) -> int:
    """The least `max_tokens` graphql-core parses `text` with."""
    low, high = 0, 100_000
    while low < high:
        middle = (low + high) // 2
        try:
            parse(text, max_tokens=middle)
        except GraphQLSyntaxError as error:
            if "tokens" not in error.message:
                raise
            low = middle + 1
        else:
            high = middle
    return low


def _count(text: str) -> int:
    for limit in range(100_000):
        if token_past(text, limit) is None:
            return limit
    raise AssertionError("unreachable")


def _documents() -> list[str]:
    """What clients really send: the introspection query, the README's and the client
    examples' operations, and awkward lexical corners."""
    found = [get_introspection_query(descriptions=True), get_introspection_query()]
    for path in [ROOT / "README.md", *sorted((ROOT / "client_examples").glob("*.py"))]:
        text = path.read_text()
        found += re.findall(r"```graphql\n(.*?)```", text, re.DOTALL)
        found += [
            q
            for q in re.findall(r'"""(.*?)"""', text, re.DOTALL)
            if q.lstrip().startswith(("query", "mutation", "subscription", "{"))
        ]
    found += [
        '{ a(s: "with \\"escapes\\" and , commas # not a comment", n: -1.5e+3) }',
        '{ a(s: """block "quoted" \\""" lines\n  more""") } # trailing comment',
        "\ufeff{ a, b,,, c ...F } fragment F on T { d @include(if: $v) }",
        "query Q($v: [Int!]! = [1, 2]) { a(x: $v, o: {k: null, e: ENUM}) }",
    ]
    return [d for d in found if _parses(d)]


def _parses(text: str) -> bool:
    try:
        parse(text)
    except GraphQLSyntaxError:
        return False
    return True


@pytest.mark.parametrize("document", _documents())
def test_the_count_is_the_parsers_on_real_documents(document: str) -> None:
    assert _count(document) == _parser_count(document)


names = st.from_regex(r"[_A-Za-z][_0-9A-Za-z]{0,6}", fullmatch=True)
strings = st.text(st.characters(blacklist_categories=("Cs",)), max_size=8).map(
    lambda s: (
        '"'
        + s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r")
        + '"'
    )
)
values = st.one_of(strings, st.integers().map(str), names.filter(lambda n: n not in ("on",)))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(names, st.lists(st.tuples(names, values), max_size=3)), min_size=1))
def test_the_count_is_the_parsers_on_generated_selections(
    fields: list[tuple[str, list[tuple[str, str]]]],
) -> None:
    parts = []
    for name, args in fields:
        given_args = ", ".join(f"{k}: {v}" for k, v in args)
        parts.append(f"{name}({given_args})" if args else name)
    document = "{ " + " , ".join(parts) + " }"
    if _parses(document):
        assert _count(document) == _parser_count(document)


def test_the_refusal_points_where_the_parser_would_stop() -> None:
    document = "{ " + "a " * 10 + "}"
    assert token_past(document, 12) is None
    at = token_past(document, 5)
    assert at is not None
    with pytest.raises(GraphQLSyntaxError) as raised:
        parse(document, max_tokens=5)
    assert raised.value.positions == [at]
