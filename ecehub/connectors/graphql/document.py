"""The GraphQL documents a ``graphql`` source is sent, made from its settings.

The selection of a record is made from the dotted paths of its key, fields, identifiers and
parent (``address.city`` selects ``address { city }``; list positions such as ``phones.0``
select the list's items). Every value (keys, filter values, page cursors) is a variable; the
document holds only names checked by the settings.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ecehub.connectors.graphql.settings import (
    GraphqlEntityConfig,
    GraphqlFindQuery,
    GraphqlKeysQuery,
)

__all__ = [
    "Document",
    "Tree",
    "find_document",
    "keys_documents",
    "record_tree",
    "to_variable",
    "walk",
]

Tree = dict[str, "Tree"]
"""A selection: each field selected, with the fields selected inside it (empty: a leaf)."""


@dataclass(frozen=True)
class Document:
    text: str
    variables: dict[str, Any]
    aliases: list[tuple[str, list[str]]]
    """Each alias in the answer's ``data`` and the keys it was asked for."""


def _add(tree: Tree, path: str) -> Tree:
    node = tree
    for part in path.split(".") if path else []:
        if part.isdigit():  # a list position: GraphQL selects inside the items
            continue
        node = node.setdefault(part, {})
    return node


def record_tree(ent: GraphqlEntityConfig) -> Tree:
    tree: Tree = {}
    paths = [ent.key, *ent.fields.values(), *ent.identifiers.values()]
    for path in [*paths, *(ent.parent or {}).values()]:
        _add(tree, path)
    return tree


def _wrapped(path: str, inner: Tree, *, edge_cursor: bool = False) -> Tree:
    """``inner`` selected at ``path`` inside a field's value (``edges.node`` ...)."""
    tree: Tree = {}
    node = _add(tree, path)
    node.update(inner)
    if edge_cursor:
        parts = [p for p in path.split(".") if not p.isdigit()]
        if len(parts) >= 1 and parts[-1] == "node":
            _add(tree, ".".join([*parts[:-1], "cursor"]))
    return tree


def render(tree: Mapping[str, Any]) -> str:
    inner = " ".join(f"{name} {render(sub)}" if sub else name for name, sub in tree.items())
    return f"{{ {inner} }}"


def _base_type(type_: str) -> str:
    return type_.replace("[", "").replace("]", "").replace("!", "")


def to_variable(type_: str, value: Any) -> Any:
    """``value`` as a variable of GraphQL type ``type_``; ``ValueError`` when it cannot be."""
    if type_.startswith("["):
        inner = type_.rstrip("!")[1:-1]
        values = value if isinstance(value, list | tuple | set | frozenset) else [value]
        return [to_variable(inner, v) for v in values]
    base = _base_type(type_)
    if base == "Int":
        if isinstance(value, bool):
            raise ValueError("not an Int")
        number = int(str(value).strip())
        if not -(2**31) <= number < 2**31:
            raise ValueError("out of the Int range")
        return number
    if base == "Float":
        return float(str(value).strip())
    if base == "Boolean":
        text = str(value).strip().casefold()
        if text not in ("true", "false"):
            raise ValueError("not a Boolean")
        return text == "true"
    return str(value)


def keys_documents(
    operation: str, query: GraphqlKeysQuery, inner: Tree, keys: Sequence[str], max_aliases: int
) -> list[Document]:
    """Documents asking ``query``'s field for every key: one aliased call per ``max`` keys
    of a list argument, or per key of a single one; at most ``max_aliases`` calls per
    document (so 100 keys are one document by default). Keys the argument's type cannot
    hold are left out (no record has them)."""
    usable: list[tuple[str, Any]] = []
    element = query.type.rstrip("!")[1:-1] if query.takes_list else query.type
    for key in keys:
        try:
            usable.append((key, to_variable(element, key)))
        except ValueError:
            continue
    if query.takes_list:
        groups = [usable[i : i + query.max] for i in range(0, len(usable), query.max)]
    else:
        groups = [[pair] for pair in usable]
    return [
        _keys_document(operation, query, inner, groups[i : i + max_aliases])
        for i in range(0, len(groups), max_aliases)
    ]


def _keys_document(
    operation: str, query: GraphqlKeysQuery, inner: Tree, groups: list[list[tuple[str, Any]]]
) -> Document:
    tree = _wrapped(query.records_path, inner)
    if query.parent_key_path is not None:  # the parent's key, next to its children
        holder = [p for p in query.records_path.split(".") if p and not p.isdigit()][:-1]
        _add(tree, ".".join([*holder, query.parent_key_path]))
    selection = render(tree)
    declared: list[str] = []
    calls: list[str] = []
    variables: dict[str, Any] = {}
    aliases: list[tuple[str, list[str]]] = []
    for i, group in enumerate(groups):
        alias, variable = f"r{i}", f"k{i}"
        declared.append(f"${variable}: {query.type}")
        calls.append(f"{alias}: {query.field}({query.argument}: ${variable}) {selection}")
        values = [value for _, value in group]
        variables[variable] = values if query.takes_list else values[0]
        aliases.append((alias, [key for key, _ in group]))
    text = f"query {operation}({', '.join(declared)}) {{ {' '.join(calls)} }}"
    return Document(text, variables, aliases)


def find_document(
    query: GraphqlFindQuery,
    inner: Tree,
    arguments: Iterable[tuple[str, str, Any]],
    page: Mapping[str, Any],
) -> Document:
    """One page of ``query``'s listing: ``arguments`` are pushed-down filters as
    ``(argument, type, value)``, ``page`` the paging variables (``first``/``after`` or
    ``offset``/``limit``, by their roles)."""
    declared: list[str] = []
    passed: list[str] = []
    variables: dict[str, Any] = {}
    paging_types = {"first": "Int", "after": "String", "offset": "Int", "limit": "Int"}
    paging_names = {
        "first": query.first_argument,
        "after": query.after_argument,
        "offset": query.offset_argument,
        "limit": query.limit_argument,
    }
    for role, value in page.items():
        declared.append(f"${role}: {paging_types[role]}")
        passed.append(f"{paging_names[role]}: ${role}")
        variables[role] = value
    for i, (argument, type_, value) in enumerate(arguments):
        declared.append(f"$f{i}: {type_}")
        passed.append(f"{argument}: $f{i}")
        variables[f"f{i}"] = value
    tree = _wrapped(query.path, inner, edge_cursor=query.paging == "connection")
    if query.paging == "connection":
        _add(tree, query.page_info_path).update({"hasNextPage": {}, "endCursor": {}})
    args = f"({', '.join(passed)})" if passed else ""
    signature = f"({', '.join(declared)})" if declared else ""
    text = f"query EcehubFind{signature} {{ r: {query.field}{args} {render(tree)} }}"
    return Document(text, variables, [("r", [])])


def walk(value: Any, path: str) -> list[tuple[Any, Any]]:
    """The records at ``path`` inside a field's value, each with the object one step above
    it (an edge, for ``edges.node``): lists on the way are walked item by item, nulls give
    nothing."""
    parts = [p for p in path.split(".") if p and not p.isdigit()] if path else []
    found: list[tuple[Any, Any]] = []

    def step(obj: Any, rest: list[str], above: Any) -> None:
        if obj is None:
            return
        if isinstance(obj, list):
            for item in obj:
                step(item, rest, above)
            return
        if not rest:
            found.append((obj, above))
            return
        if isinstance(obj, Mapping):
            step(obj.get(rest[0]), rest[1:], obj)

    step(value, parts, None)
    return found
