"""activateProgram: staff change rules, tiers and rewards; problems come back one by one."""

from __future__ import annotations

from app.services.program import DEMO_PROGRAM
from tests.api.client import Api

ACTIVATE = """
mutation($key: String!, $definition: String!) {
  activateProgram(idempotencyKey: $key, definition: $definition) {
    program { name version tiers { key } } changed diff userErrors { field code message } } }"""


async def test_staff_activate_a_new_version_and_see_the_diff(api: Api) -> None:
    staff = api.token(scopes={"program:write"})
    text = DEMO_PROGRAM.read_text()
    first = await api.data(ACTIVATE, {"key": "a1", "definition": text}, token=staff)
    payload = first["activateProgram"]
    assert payload["userErrors"] == []
    assert payload["program"]["name"] == "Tally Coffee Club"
    assert payload["program"]["version"] == 2  # the test program was version 1
    assert "+ rules.double-tuesday" in payload["diff"]
    again = await api.data(ACTIVATE, {"key": "a2", "definition": text}, token=staff)
    assert again["activateProgram"]["changed"] is False
    rewards = await api.data("{ rewards(first: 50) { edges { node { key active } } } }")
    assert {e["node"]["key"] for e in rewards["rewards"]["edges"]} >= {"free-coffee", "tumbler"}
    assert "coffee" not in {e["node"]["key"] for e in rewards["rewards"]["edges"]}


async def test_an_invalid_definition_lists_every_problem_and_changes_nothing(api: Api) -> None:
    staff = api.token(scopes={"program:write"})
    bad = '[program]\nname = "X"\ncurrency = "euro"\n[[tiers]]\nkey = "a"\nname = "A"\nthreshold = 5\n'
    body = await api.data(ACTIVATE, {"key": "b1", "definition": bad}, token=staff)
    fields = {e["field"] for e in body["activateProgram"]["userErrors"]}
    assert {"program.currency", "tiers[0].threshold"} <= fields
    assert {e["code"] for e in body["activateProgram"]["userErrors"]} == {"INVALID_INPUT"}
    assert (await api.data("{ program { version } }"))["program"]["version"] == 1


async def test_activate_program_needs_program_write(api: Api) -> None:
    partner = api.token(scopes={"points:write", "members:read", "members:write"})
    body = await api.gql(ACTIVATE, {"key": "c", "definition": "x"}, token=partner)
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
