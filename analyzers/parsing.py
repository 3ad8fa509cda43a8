"""The one module that touches the tree-sitter binding.

The binding's query API has changed shape across releases (0.25 moved execution to
``QueryCursor``); keeping every call here means a binding upgrade touches one file.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache
from typing import Any

import tree_sitter as ts

Node = ts.Node
Parser = ts.Parser
Tree = ts.Tree
Point = ts.Point
Language = ts.Language
Query = ts.Query
QueryError = ts.QueryError

MatchCaptures = dict[str, list[ts.Node]]


@cache
def language(grammar_capsule_factory: Any) -> ts.Language:
    return ts.Language(grammar_capsule_factory())


def new_parser(lang: ts.Language) -> ts.Parser:
    return ts.Parser(lang)


def parse(parser: ts.Parser, source: bytes, old_tree: ts.Tree | None = None) -> ts.Tree:
    """``source`` parsed, reusing ``old_tree`` (already ``edit``-ed) where it can.

    Tree-sitter's error recovery can settle on a different tree for the same broken source
    when it starts from an old tree, so a tree with errors is parsed afresh: the findings on
    a document never depend on the edits that led to it.
    """
    if old_tree is None:
        return parser.parse(source)
    tree = parser.parse(source, old_tree)
    if tree.root_node.has_error:
        return parser.parse(source)
    return tree


def compile_query(lang: ts.Language, text: str) -> ts.Query:
    return ts.Query(lang, text)


def pattern_count(query: ts.Query) -> int:
    return query.pattern_count


def pattern_bytes(query: ts.Query, index: int) -> tuple[int, int]:
    """Where pattern ``index`` starts and ends in the query's source, in UTF-8 bytes.

    The end takes in the whitespace and comments that follow the pattern.
    """
    return query.start_byte_for_pattern(index), query.end_byte_for_pattern(index)


def matches(
    query: ts.Query, node: ts.Node, byte_range: tuple[int, int] | None = None
) -> Iterator[tuple[int, MatchCaptures]]:
    """Yield ``(pattern_index, captures)`` for one walk of the tree (or of a byte range)."""
    cursor = ts.QueryCursor(query)
    if byte_range is not None:
        cursor.set_byte_range(*byte_range)
    yield from cursor.matches(node)


def edit(
    tree: ts.Tree,
    start_byte: int,
    old_end_byte: int,
    new_end_byte: int,
    start_point: tuple[int, int],
    old_end_point: tuple[int, int],
    new_end_point: tuple[int, int],
) -> None:
    tree.edit(
        start_byte=start_byte,
        old_end_byte=old_end_byte,
        new_end_byte=new_end_byte,
        start_point=start_point,
        old_end_point=old_end_point,
        new_end_point=new_end_point,
    )


def error_ranges(root: ts.Node) -> list[tuple[int, int]]:
    """Byte ranges of ERROR and MISSING nodes, walking only subtrees that contain errors."""
    ranges: list[tuple[int, int]] = []
    if not root.has_error:
        return ranges
    stack = [root]
    while stack:
        node = stack.pop()
        if node.is_error or node.is_missing:
            ranges.append((node.start_byte, max(node.end_byte, node.start_byte + 1)))
            continue
        stack.extend(child for child in node.children if child.has_error)
    return ranges
