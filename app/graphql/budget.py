"""What a GraphQL operation asks for, measured before it runs: its depth, aliases, root
fields, directives and cost.

The cost follows Shopify's model: a scalar or enum costs 0, an object 1, a connection
2 plus `first` (or `last`) times what one of its nodes costs, so a page of 100 rewards
with their names costs 102. Arguments given as variables are read from the variables;
an absent `first` counts at its schema default. Fragments are expanded where they are
spread, so a fragment (whatever its name) counts wherever it is used; only `__typename`
is free. Expansion is bounded: a document whose fragments spread each other into more
than `max_fields` field selections is refused without being expanded further (a chain
of fragments each spreading the next twice would otherwise double with every link).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLUnionType,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SchemaMetaFieldDef,
    SelectionSetNode,
    TypeMetaFieldDef,
    VariableNode,
    get_named_type,
)
from graphql.language import Visitor, visit

#: GraphQL's lexical tokens, as graphql-core's `max_tokens` counts them (comments included;
#: whitespace, commas and the BOM ignored). On a valid document the count is exact; on an
#: invalid one it may differ, and the parser, which enforces the same limit, decides.
_TOKEN = re.compile(
    r'"""(?:\\"""|(?!""")[\s\S])*"""'  # block string
    r'|"(?:\\.|[^"\\\n\r])*"'  # string
    r"|#[^\n\r]*"  # comment
    r"|\.\.\."  # spread
    r"|-?[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?"  # number
    r"|[_A-Za-z][_0-9A-Za-z]*"  # name
    r"|[^\s,\ufeff]"  # a punctuator, or a character the parser will refuse
)


def token_past(text: str, limit: int) -> int | None:
    """Where token number `limit + 1` starts in `text`, or None when it has no more than
    `limit` tokens: a regular expression's count, a fraction of what parsing costs."""
    for count, match in enumerate(_TOKEN.finditer(text), start=1):
        if count > limit:
            return match.start()
    return None


#: A connection without `first` and without a schema default counts as this many nodes.
DEFAULT_PAGE = 20


@dataclass(frozen=True, slots=True)
class Limits:
    """The bounds every operation must stay within (settings; see README "Limits")."""

    max_tokens: int = 2000  # graphql-armor ships 1000; GraphiQL's introspection uses ~500
    max_depth: int = 15
    max_aliases: int = 30
    max_root_fields: int = 20
    max_directives: int = 50
    max_cost: int = 1000
    max_fields: int = 2000  # field selections once fragments are expanded


class _TooManyFields(Exception):
    """Raised by the walk as soon as the expansion passes `max_fields`."""


@dataclass(frozen=True, slots=True)
class Measure:
    depth: int
    aliases: int
    root_fields: int
    directives: int
    cost: int
    introspection: bool = False  # asks for __schema or __type
    fields: int = 0  # field selections once fragments are expanded (stops past the limit)

    def problem(self, limits: Limits) -> tuple[str, str] | None:
        """The first limit this operation passes, as (what, message); None when within."""
        checks = (
            (
                "fields",
                self.fields,
                limits.max_fields,
                "field selections once fragments are expanded",
            ),
            ("depth", self.depth, limits.max_depth, "fields nested"),
            ("aliases", self.aliases, limits.max_aliases, "aliases"),
            ("rootFields", self.root_fields, limits.max_root_fields, "root fields"),
            ("directives", self.directives, limits.max_directives, "directives"),
            ("cost", self.cost, limits.max_cost, "points of query cost"),
        )
        for what, value, limit, unit in checks:
            if value > limit:
                return what, f"This operation has {value} {unit}; at most {limit} are allowed."
        return None


class _Directives(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    def enter_directive(self, *_: object) -> None:
        self.count += 1


class _Walk:
    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: dict[str, FragmentDefinitionNode],
        variables: dict[str, Any],
        limits: Limits,
    ) -> None:
        self.schema = schema
        self.max_fields = limits.max_fields
        self.max_depth = limits.max_depth
        self.expanded = 0
        self.expanded_fragments: dict[tuple[str, str | None], list[tuple[FieldNode, Any]]] = {}
        self.fragments = fragments
        self.variables = variables
        self.aliases = 0
        self.depth = 0

    def page_size(self, node: FieldNode, field: GraphQLField) -> int:
        for arg in node.arguments or ():
            if arg.name.value in ("first", "last"):
                value = arg.value
                if isinstance(value, IntValueNode):
                    return max(int(value.value), 0)
                if isinstance(value, VariableNode):
                    given = self.variables.get(value.name.value)
                    if isinstance(given, int) and not isinstance(given, bool):
                        return max(given, 0)
        for name in ("first", "last"):
            arg_def = field.args.get(name)
            if arg_def is not None and isinstance(arg_def.default_value, int):
                return arg_def.default_value
        return DEFAULT_PAGE

    def fields(
        self, selections: SelectionSetNode, parent: Any, seen: frozenset[str]
    ) -> list[tuple[FieldNode, Any]]:
        """The fields a selection set asks of `parent`, fragments expanded (each fragment
        once per type it is spread on; every field it yields counts where it is spread)."""
        found: list[tuple[FieldNode, Any]] = []
        for selection in selections.selections:
            if isinstance(selection, FieldNode):
                self._count(1)
                found.append((selection, parent))
            elif isinstance(selection, InlineFragmentNode):
                on = parent
                if selection.type_condition is not None:
                    on = self.schema.get_type(selection.type_condition.name.value) or parent
                found += self.fields(selection.selection_set, on, seen)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = self.fragments.get(name)
                if fragment is None or name in seen:
                    continue  # validation reports unknown and cyclic fragments
                on = self.schema.get_type(fragment.type_condition.name.value) or parent
                key = (name, getattr(on, "name", None))
                expanded = self.expanded_fragments.get(key)
                if expanded is None:
                    expanded = self.fields(fragment.selection_set, on, seen | {name})
                    self.expanded_fragments[key] = expanded
                else:
                    self._count(len(expanded))
                found += expanded
        return found

    def _count(self, fields: int) -> None:
        self.expanded += fields
        if self.expanded > self.max_fields:
            raise _TooManyFields

    def cost(self, selections: SelectionSetNode, parent: Any, depth: int) -> int:
        self.depth = max(self.depth, depth)
        if depth > self.max_depth:
            return 0  # already refused for its depth: no need to recurse any further
        total = 0
        for node, on in self.fields(selections, parent, frozenset()):
            if node.alias is not None and node.name.value != "__typename":
                self.aliases += 1
            total += self.field_cost(node, on, depth)
        return total

    def field_cost(self, node: FieldNode, parent: Any, depth: int) -> int:
        name = node.name.value
        if name == "__typename":
            return 0
        field = _field_of(self.schema, parent, name)
        if field is None:
            inner = node.selection_set
            return 1 + self.cost(inner, None, depth + 1) if inner is not None else 0
        named = get_named_type(field.type)
        if node.selection_set is None:
            return 0
        children = self.cost(node.selection_set, named, depth + 1)
        if named.name.endswith("Connection"):
            return 2 + self.page_size(node, field) * children
        if named.name.endswith("Edge") and _is_list(field.type):
            return children  # the edge wrapper: its node is the object
        return 1 + children


def _is_list(kind: Any) -> bool:
    while isinstance(kind, GraphQLNonNull):
        kind = kind.of_type
    return isinstance(kind, GraphQLList)


def _field_of(schema: GraphQLSchema, parent: Any, name: str) -> GraphQLField | None:
    meta: dict[str, GraphQLField] = {"__schema": SchemaMetaFieldDef, "__type": TypeMetaFieldDef}
    if name in meta:
        return meta[name]
    candidates: list[GraphQLObjectType | GraphQLInterfaceType] = []
    if isinstance(parent, GraphQLObjectType | GraphQLInterfaceType):
        candidates.append(parent)
    if isinstance(parent, GraphQLUnionType):
        candidates += parent.types
    for candidate in candidates:
        found: GraphQLField | None = candidate.fields.get(name)
        if found is not None:
            return found
    return None


def measure(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation_name: str | None,
    variables: dict[str, Any] | None,
    limits: Limits | None = None,
) -> Measure:
    """Measure the operation that would run (`operation_name`, or the only one). The
    document need not be valid yet: unknown fields and fragments, and fragment cycles,
    are passed over (validation reports them), so this can run before validation."""
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    chosen = next(
        (o for o in operations if operation_name and o.name and o.name.value == operation_name),
        operations[0] if operations else None,
    )
    directives = _Directives()
    visit(document, directives)
    if chosen is None:
        return Measure(0, 0, 0, directives.count, 0)
    root = schema.get_root_type(chosen.operation)
    walk = _Walk(schema, fragments, variables or {}, limits or Limits())
    try:
        top = walk.fields(chosen.selection_set, root, frozenset())
        walk.expanded = 0
        cost = walk.cost(chosen.selection_set, root, 1)
    except _TooManyFields:
        return Measure(walk.depth, walk.aliases, 0, directives.count, 0, fields=walk.expanded)
    introspection = any(node.name.value in ("__schema", "__type") for node, _ in top)
    roots = sum(1 for node, _ in top if node.name.value != "__typename")
    return Measure(
        walk.depth, walk.aliases, roots, directives.count, cost, introspection, walk.expanded
    )


def actual_cost(data: object) -> int:
    """What a response actually held, counted the same way: 1 per object, 2 per
    connection, edge wrappers free."""
    if isinstance(data, list):
        return sum(actual_cost(item) for item in data)
    if not isinstance(data, dict):
        return 0
    if "edges" in data or "pageInfo" in data:
        return 2 + sum(actual_cost(v) for k, v in data.items() if k != "pageInfo")
    if "node" in data and "cursor" in data:
        return sum(actual_cost(v) for v in data.values())
    return 1 + sum(actual_cost(v) for v in data.values())
