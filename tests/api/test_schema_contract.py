"""schema.graphql is the published contract: it must be exactly what the code builds."""

from __future__ import annotations

from pathlib import Path

from app.graphql.export import sdl

SCHEMA_FILE = Path(__file__).resolve().parents[2] / "schema.graphql"


def test_schema_graphql_matches_the_code() -> None:
    committed = SCHEMA_FILE.read_text(encoding="utf-8")
    assert committed == sdl(), "schema.graphql is stale: run `make schema` and review the diff"
