"""Every type, field, argument and enum value of the published schema has a description.

A client developer reads schema.graphql (or GraphiQL's docs pane) and nothing else, so a
name without a description is a question they cannot answer. That schema.graphql is the
schema the code builds is tested in test_schema_contract.py.
"""

from __future__ import annotations

from enum import StrEnum

import pytest
from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
)
from strawberry.permission import PermissionExtension
from strawberry.types.base import StrawberryObjectDefinition
from strawberry.types.enum import has_enum_definition

from app.graphql.permissions import HasAnyScope
from app.graphql.schema import schema
from app.graphql.types.common import publish_enum

BUILT_IN_SCALARS = frozenset({"String", "Int", "Float", "Boolean", "ID"})


def _blank(description: str | None) -> bool:
    return description is None or not description.strip()


def published_types(graphql_schema: GraphQLSchema) -> list[GraphQLNamedType]:
    """The schema's own named types: not introspection types, not the built-in scalars."""
    return [
        t
        for name, t in sorted(graphql_schema.type_map.items())
        if not name.startswith("__") and name not in BUILT_IN_SCALARS
    ]


def undescribed(graphql_schema: GraphQLSchema) -> list[str]:
    """Every element without a description, as `Type`, `Type.field`, `Type.field(arg)`,
    `InputType.field` or `Enum.VALUE`."""
    missing: list[str] = []
    for t in published_types(graphql_schema):
        if _blank(t.description):
            missing.append(t.name)
        if isinstance(t, GraphQLObjectType | GraphQLInterfaceType):
            for field_name, field in t.fields.items():
                if _blank(field.description):
                    missing.append(f"{t.name}.{field_name}")
                for arg_name, arg in field.args.items():
                    if _blank(arg.description):
                        missing.append(f"{t.name}.{field_name}({arg_name})")
        elif isinstance(t, GraphQLInputObjectType):
            for field_name, input_field in t.fields.items():
                if _blank(input_field.description):
                    missing.append(f"{t.name}.{field_name}")
        elif isinstance(t, GraphQLEnumType):
            for value_name, value in t.values.items():
                if _blank(value.description):
                    missing.append(f"{t.name}.{value_name}")
    return missing


def test_every_schema_element_has_a_description() -> None:
    missing = undescribed(schema._schema)
    assert not missing, f"{len(missing)} schema elements have no description:\n" + "\n".join(
        missing
    )


def test_the_walk_sees_every_kind_of_element() -> None:
    """The check above is only as good as its walk: it must reach each kind of element."""
    types = {t.name: t for t in published_types(schema._schema)}
    assert "__Schema" not in types
    assert "String" not in types
    assert {"Query", "Mutation", "Subscription", "Node", "Decimal", "DateTime"} <= set(types)
    member = types["Member"]
    assert isinstance(member, GraphQLObjectType)
    assert "first" in member.fields["activity"].args
    assert isinstance(types["RecordPurchaseInput"], GraphQLInputObjectType)
    assert isinstance(types["UserErrorCode"], GraphQLEnumType)


@pytest.mark.parametrize("root", ["Query", "Mutation", "Subscription"])
def test_root_fields_name_the_scopes_they_accept(root: str) -> None:
    """A client learns from the description which scope to ask for: every scope a root
    field's permission accepts is written in its description, so the two cannot drift."""
    definition = schema.get_type_by_name(root)
    assert isinstance(definition, StrawberryObjectDefinition)
    unnamed: list[str] = []
    for field in definition.fields:
        scopes = [
            scope.value
            for extension in field.extensions
            if isinstance(extension, PermissionExtension)
            for permission in extension.permissions
            if isinstance(permission, HasAnyScope)
            for scope in permission.scopes
        ]
        assert scopes, f"{root}.{field.python_name} checks no scope"
        description = field.description or ""
        unnamed += [f"{root}.{field.python_name}: {s}" for s in scopes if s not in description]
    assert not unnamed, "descriptions that do not name a scope they accept:\n" + "\n".join(unnamed)


class _Light(StrEnum):
    RED = "RED"
    GREEN = "GREEN"


class _Other(StrEnum):
    BLUE = "BLUE"


def test_publish_enum_refuses_a_value_without_a_description() -> None:
    """A value added to a domain enum fails at import until the graphql layer describes it."""
    with pytest.raises(TypeError, match="no description for GREEN"):
        publish_enum(_Light, "Light", "A light.", {_Light.RED: "Stop.", _Light.GREEN: " "})
    with pytest.raises(TypeError, match="not members"):
        publish_enum(
            _Light,
            "Light",
            "A light.",
            {_Light.RED: "Stop.", _Light.GREEN: "Go.", _Other.BLUE: "?"},
        )


def test_publish_enum_describes_each_value() -> None:
    published = publish_enum(
        _Light, "Light", "A light.", {_Light.RED: "Stop.", _Light.GREEN: "Go."}
    )
    assert has_enum_definition(published)
    values = {v.name: v.description for v in published.__strawberry_definition__.values}
    assert values == {"RED": "Stop.", "GREEN": "Go."}
