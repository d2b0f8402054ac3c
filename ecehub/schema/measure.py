"""Measuring a GraphQL document once: selections, depth, aliases and cost with every fragment
spread counted and each fragment measured once, bottom-up (:func:`measure`), and the cost of
an operation (:func:`estimate_cost`)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    ASTValidationRule,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    NamedTypeNode,
    NoFragmentCyclesRule,
    OperationDefinitionNode,
    SelectionSetNode,
    get_named_type,
    validate,
)

from ecehub.config.model import Config
from ecehub.schema.cost import PAGED_FIELDS, SOURCE_FIELDS, calls_of

__all__ = [
    "DocumentFigures",
    "Figures",
    "OperationFigures",
    "estimate_cost",
    "measure",
]


# -- measuring a document ------------------------------------------------------------------------


@dataclass
class Figures:
    """What a selection set asks for, every fragment spread counted in full."""

    selections: int = 0
    """Fields, fragment spreads and inline fragments."""
    depth: int = 0
    """As strawberry's QueryDepthLimiter counts it (introspection fields add nothing)."""
    aliases: int = 0
    cost: int = 0
    """Estimated source calls."""
    paged: dict[int, FieldNode] = field(default_factory=dict)
    """The distinct paged fields (``Query.programs``) it holds, by ``id()``."""

    def add(self, other: Figures) -> None:
        self.selections += other.selections
        self.depth = max(self.depth, other.depth)
        self.aliases += other.aliases
        self.cost += other.cost
        self.paged.update(other.paged)


@dataclass
class OperationFigures:
    name: str | None
    figures: Figures


@dataclass
class DocumentFigures:
    """One document's measures: computed once per document text (see :class:`Measures`)."""

    cyclic: bool = False
    too_nested: bool = False
    operations: list[OperationFigures] = field(default_factory=list)
    repeats: int = 0
    """Pairs of fields with the same response path (what validation's field-merging check
    compares); only counted when the selections are within the limit."""
    valid_under: set[tuple[type[ASTValidationRule], ...]] = field(default_factory=set)
    """The sets of validation rules this document passed (see :class:`DocumentLimits`)."""

    @property
    def selections(self) -> int:
        return sum(o.figures.selections for o in self.operations)

    @property
    def aliases(self) -> int:
        return sum(o.figures.aliases for o in self.operations)

    def operation(self, name: str | None) -> OperationFigures | None:
        if name is not None:
            found = [o for o in self.operations if o.name == name]
        else:
            found = self.operations
        return found[0] if len(found) == 1 else None


def _fragments(document: DocumentNode) -> dict[str, FragmentDefinitionNode]:
    return {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}


class _Measure:
    """Figures of selection sets; each (fragment, parent type) is measured once and reused
    for every spread of it, so a fragment spread twice per level costs no more to measure
    than one spread once. The document must have no fragment cycle."""

    def __init__(
        self,
        schema: GraphQLSchema,
        config: Config,
        fragments: Mapping[str, FragmentDefinitionNode],
    ) -> None:
        self.schema = schema
        self.config = config
        self.fragments = fragments
        self.memo: dict[tuple[str, str | None], Figures] = {}
        self.field_cost: dict[tuple[str, str], int] = {}

    def selection_set(
        self, parent: GraphQLObjectType | None, node: SelectionSetNode | None
    ) -> Figures:
        out = Figures()
        for selection in node.selections if node else ():
            if isinstance(selection, FieldNode):
                out.add(self.field(parent, selection))
            elif isinstance(selection, InlineFragmentNode):
                out.add(
                    self.selection_set(
                        self._type(selection.type_condition, parent), selection.selection_set
                    )
                )
                out.selections += 1
            elif isinstance(selection, FragmentSpreadNode):
                out.add(self.fragment(selection.name.value, parent))
                out.selections += 1
        return out

    def fragment(self, name: str, parent: GraphQLObjectType | None) -> Figures:
        definition = self.fragments.get(name)
        if definition is None:  # validation refuses unknown fragments
            return Figures()
        kind = self._type(definition.type_condition, parent)
        key = (name, kind.name if kind else None)
        found = self.memo.get(key)
        if found is None:
            found = self.memo[key] = self.selection_set(kind, definition.selection_set)
        return found

    def _type(
        self, condition: NamedTypeNode | None, parent: GraphQLObjectType | None
    ) -> GraphQLObjectType | None:
        named = self.schema.get_type(condition.name.value) if condition else None
        return named if isinstance(named, GraphQLObjectType) else parent

    def _cost(self, parent: str, name: str) -> int:
        key = (parent, name)
        cost = self.field_cost.get(key)
        if cost is None:
            cost = self.field_cost[key] = sum(
                calls_of(self.config, c) for c in SOURCE_FIELDS.get(key, ())
            )
        return cost

    def field(self, parent: GraphQLObjectType | None, node: FieldNode) -> Figures:
        name = node.name.value
        definition = parent.fields.get(name) if parent is not None else None
        child: GraphQLObjectType | None = None
        if definition is not None:
            named = get_named_type(definition.type)
            child = named if isinstance(named, GraphQLObjectType) else None
        inner = self.selection_set(child, node.selection_set)
        out = Figures(
            selections=1 + inner.selections,
            depth=0 if name.startswith("__") or node.selection_set is None else 1 + inner.depth,
            aliases=(1 if node.alias else 0) + inner.aliases,
            cost=inner.cost,
            paged=inner.paged,
        )
        if parent is not None and definition is not None:
            out.cost += self._cost(parent.name, name)
            if (parent.name, name) in PAGED_FIELDS:
                out.paged = {**out.paged, id(node): node}
        return out


def _repeats(document: DocumentNode, fragments: Mapping[str, FragmentDefinitionNode]) -> int:
    """Pairs of fields sharing a response path, over the expanded document (call only when
    its selections are bounded: this walk expands every spread)."""
    paths: Counter[tuple[str, ...]] = Counter()

    def walk(node: SelectionSetNode | None, path: tuple[str, ...]) -> None:
        for selection in node.selections if node else ():
            if isinstance(selection, FieldNode):
                key = (*path, (selection.alias or selection.name).value)
                paths[key] += 1
                walk(selection.selection_set, key)
            elif isinstance(selection, InlineFragmentNode):
                walk(selection.selection_set, path)
            elif isinstance(selection, FragmentSpreadNode):
                definition = fragments.get(selection.name.value)
                if definition is not None:
                    walk(definition.selection_set, path)

    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode):
            walk(definition.selection_set, ())
    return sum(n * (n - 1) // 2 for n in paths.values())


def _cyclic(schema: GraphQLSchema, document: DocumentNode) -> bool:
    return bool(validate(schema, document, [NoFragmentCyclesRule]))


def measure(schema: GraphQLSchema, config: Config, document: DocumentNode) -> DocumentFigures:
    """The figures of every operation of ``document``; fragments measured once each."""
    if _cyclic(schema, document):
        return DocumentFigures(cyclic=True)
    fragments = _fragments(document)
    walk = _Measure(schema, config, fragments)
    out = DocumentFigures()
    try:
        for definition in document.definitions:
            if isinstance(definition, OperationDefinitionNode):
                root = schema.get_root_type(definition.operation)
                out.operations.append(
                    OperationFigures(
                        definition.name.value if definition.name else None,
                        walk.selection_set(root, definition.selection_set),
                    )
                )
        if out.selections <= config.server.max_selections:
            out.repeats = _repeats(document, fragments)
    except RecursionError:  # a chain of hundreds of nested fragments (max_tokens raised)
        return DocumentFigures(too_nested=True)
    return out


def estimate_cost(
    schema: GraphQLSchema,
    config: Config,
    operation: OperationDefinitionNode,
    fragments: Mapping[str, FragmentDefinitionNode],
    variables: Mapping[str, Any] | None = None,
) -> int:
    """The estimated number of source calls of ``operation``."""
    root = schema.get_root_type(operation.operation)
    return _Measure(schema, config, fragments).selection_set(root, operation.selection_set).cost
