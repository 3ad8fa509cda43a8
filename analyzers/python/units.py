"""Python code units for the model: functions, methods, classes and top-level blocks.

Each unit is rendered as the text the sentence encoder reads: the imports the unit uses, its
signature and docstring, then its body, cut at whole lines near `windows.MAX_CHARS` (the
encoder reads 256 word pieces, about 900 characters of code; more would only be truncated
mid-statement).
Comments are kept: they often say what the code is for, which is what the lessons are about.
"""

from __future__ import annotations

from lessonlens.analyzers import parsing, windows
from lessonlens.analyzers.model import CodeUnit

COMMENTS = ("#",)
_DEFINITIONS = ("function_definition", "class_definition")


def _text(node: parsing.Node, source: bytes) -> str:
    return source[node.start_byte : node.end_byte].decode("utf-8", "replace")


def _imports(root: parsing.Node, source: bytes) -> list[tuple[str, set[str]]]:
    """Each top-level import statement with the names it binds."""
    found: list[tuple[str, set[str]]] = []
    for child in root.named_children:
        if child.type not in ("import_statement", "import_from_statement"):
            continue
        names: set[str] = set()
        for item in child.children_by_field_name("name"):
            alias = item.child_by_field_name("alias") if item.type == "aliased_import" else None
            target = alias or (item.child_by_field_name("name") if alias is None else None) or item
            text = _text(target, source)
            # `import a.b` binds `a`.
            names.add(text.split(".")[0])
        if child.type == "import_from_statement" and not names:
            continue  # `from x import *`: nothing to attribute
        found.append((_text(child, source), names))
    return found


def _class_outline(node: parsing.Node, source: bytes) -> str:
    """A class as the encoder sees it: header, docstring, attributes, method signatures."""
    body = node.child_by_field_name("body")
    if body is None:
        return _text(node, source)
    parts = [source[node.start_byte : body.start_byte].decode("utf-8", "replace").rstrip()]
    for member in body.named_children:
        definition = member
        if member.type == "decorated_definition":
            definition = member.child_by_field_name("definition") or member
        if definition.type == "function_definition":
            member_body = definition.child_by_field_name("body")
            end = member_body.start_byte if member_body is not None else definition.end_byte
            parts.append("    " + source[member.start_byte : end].decode("utf-8", "replace"))
        elif definition.type == "class_definition":
            parts.append("    " + _text(definition, source).splitlines()[0])
        else:
            parts.append("    " + _text(member, source))
    return "\n".join(parts)


def code_units(root: parsing.Node, source: bytes) -> list[CodeUnit]:
    """Units in source order: top-level functions, classes, their methods, top-level blocks.

    Consecutive module-level statements other than imports and definitions form one block.
    """
    imports = _imports(root, source)
    units: list[CodeUnit] = []
    block: list[parsing.Node] = []

    def flush() -> None:
        windows.add_block(units, block, source, imports, COMMENTS)

    for child in root.named_children:
        definition = child
        if child.type == "decorated_definition":
            definition = child.child_by_field_name("definition") or child
        if definition.type not in _DEFINITIONS:
            if child.type not in ("import_statement", "import_from_statement", "comment"):
                block.append(child)
            elif child.type != "comment":
                flush()
            continue
        flush()
        name_node = definition.child_by_field_name("name")
        name = _text(name_node, source) if name_node is not None else "?"
        if definition.type == "function_definition":
            units.append(
                windows.node_unit(
                    "function", child, name, source, imports, COMMENTS, name_node=name_node
                )
            )
            continue
        units.append(
            windows.node_unit(
                "class",
                child,
                name,
                source,
                imports,
                COMMENTS,
                outline=_class_outline(definition, source),
                name_node=name_node,
            )
        )
        body = definition.child_by_field_name("body")
        for member in body.named_children if body is not None else ():
            method = member
            if member.type == "decorated_definition":
                method = member.child_by_field_name("definition") or member
            if method.type != "function_definition":
                continue
            method_name = method.child_by_field_name("name")
            qualified = f"{name}.{_text(method_name, source) if method_name else '?'}"
            units.append(
                windows.node_unit(
                    "method", member, qualified, source, imports, COMMENTS, name_node=method_name
                )
            )
    flush()
    return units
