"""JavaScript and TypeScript code units for the model: functions, methods, classes, blocks.

A function is a top-level ``function`` declaration or a top-level ``const`` bound to an arrow
function or function expression (exported or not); a class is read as its outline (header,
fields, method signatures) and each method is a unit of its own; consecutive other top-level
statements, imports left out, form a block. Each unit's text starts with the imports it uses.
"""

from __future__ import annotations

from lessonlens.analyzers import parsing, windows
from lessonlens.analyzers.javascript.spec import FUNCTIONS, class_body, declaration, function_value
from lessonlens.analyzers.model import CodeUnit

COMMENTS = ("//", "/*", "*")
_IMPORTS = ("import_statement",)


def _text(node: parsing.Node, source: bytes) -> str:
    return source[node.start_byte : node.end_byte].decode("utf-8", "replace")


def _imports(root: parsing.Node, source: bytes) -> list[tuple[str, set[str]]]:
    found: list[tuple[str, set[str]]] = []
    for child in root.named_children:
        if child.type != "import_statement":
            continue
        names: set[str] = set()
        stack = [child]
        while stack:
            node = stack.pop()
            if node.type in ("identifier",):
                names.add(_text(node, source))
            stack.extend(node.named_children)
        found.append((_text(child, source), names))
    return found


def _outline(node: parsing.Node, body: parsing.Node, source: bytes) -> str:
    parts = [source[node.start_byte : body.start_byte].decode("utf-8", "replace").rstrip() + " {"]
    for member in body.named_children:
        if member.type == "method_definition":
            inner = member.child_by_field_name("body")
            end = inner.start_byte if inner is not None else member.end_byte
            parts.append("  " + source[member.start_byte : end].decode("utf-8", "replace").strip())
        elif member.type != "comment":
            parts.append("  " + _text(member, source))
    parts.append("}")
    return "\n".join(parts)


def code_units(root: parsing.Node, source: bytes) -> list[CodeUnit]:
    imports = _imports(root, source)
    units: list[CodeUnit] = []
    block: list[parsing.Node] = []

    def flush() -> None:
        windows.add_block(units, block, source, imports, COMMENTS)

    for child in root.named_children:
        inner = declaration(child)
        body = class_body(inner)
        value = function_value(inner)
        if inner.type in FUNCTIONS or value is not None:
            flush()
            if value is not None:
                declarator = next(
                    c for c in inner.named_children if c.type == "variable_declarator"
                )
                name_node = declarator.child_by_field_name("name")
            else:
                name_node = inner.child_by_field_name("name")
            name = _text(name_node, source) if name_node is not None else "?"
            units.append(
                windows.node_unit("function", child, name, source, imports, COMMENTS, name_node)
            )
        elif body is not None:
            flush()
            name_node = inner.child_by_field_name("name")
            name = _text(name_node, source) if name_node is not None else "?"
            outline = _outline(child, body, source)
            units.append(
                windows.node_unit(
                    "class", child, name, source, imports, COMMENTS, name_node, outline
                )
            )
            for member in body.named_children:
                if member.type != "method_definition":
                    continue
                method = member.child_by_field_name("name")
                qualified = f"{name}.{_text(method, source) if method is not None else '?'}"
                units.append(
                    windows.node_unit(
                        "method", member, qualified, source, imports, COMMENTS, method
                    )
                )
        elif child.type in (*_IMPORTS, "comment"):
            if child.type != "comment":
                flush()
        else:
            block.append(child)
    flush()
    return units
