"""Go code units for the model: functions, methods (``Type.Method``), types and blocks.

Each unit's text starts with the imports it uses; consecutive ``var``/``const`` declarations
form a block; the package clause and imports are not units.
"""

from __future__ import annotations

from lessonlens.analyzers import parsing, windows
from lessonlens.analyzers.model import CodeUnit

COMMENTS = ("//",)


def _text(node: parsing.Node, source: bytes) -> str:
    return source[node.start_byte : node.end_byte].decode("utf-8", "replace")


def _imports(root: parsing.Node, source: bytes) -> list[tuple[str, set[str]]]:
    found: list[tuple[str, set[str]]] = []
    for child in root.named_children:
        if child.type != "import_declaration":
            continue
        stack = [child]
        while stack:
            node = stack.pop()
            if node.type == "import_spec":
                alias = node.child_by_field_name("name")
                path = node.child_by_field_name("path")
                if path is None:
                    continue
                bound = _text(alias, source) if alias is not None else ""
                if not bound:
                    bound = _text(path, source).strip('"`').rsplit("/", 1)[-1]
                found.append((f"import {_text(node, source)}", {bound}))
            else:
                stack.extend(node.named_children)
    return found


def _receiver_type(method: parsing.Node, source: bytes) -> str:
    receiver = method.child_by_field_name("receiver")
    if receiver is None:
        return "?"
    for parameter in receiver.named_children:
        kind = parameter.child_by_field_name("type")
        if kind is not None:
            text = _text(kind, source).lstrip("*")
            return text.split("[", 1)[0]
    return "?"


def code_units(root: parsing.Node, source: bytes) -> list[CodeUnit]:
    imports = _imports(root, source)
    units: list[CodeUnit] = []
    block: list[parsing.Node] = []

    def flush() -> None:
        windows.add_block(units, block, source, imports, COMMENTS)

    for child in root.named_children:
        if child.type in ("function_declaration", "method_declaration"):
            flush()
            name_node = child.child_by_field_name("name")
            name = _text(name_node, source) if name_node is not None else "?"
            if child.type == "method_declaration":
                units.append(
                    windows.node_unit(
                        "method",
                        child,
                        f"{_receiver_type(child, source)}.{name}",
                        source,
                        imports,
                        COMMENTS,
                        name_node,
                    )
                )
            else:
                units.append(
                    windows.node_unit("function", child, name, source, imports, COMMENTS, name_node)
                )
        elif child.type == "type_declaration":
            flush()
            spec = next((c for c in child.named_children if c.type == "type_spec"), None)
            name_node = spec.child_by_field_name("name") if spec is not None else None
            name = _text(name_node, source) if name_node is not None else "?"
            units.append(
                windows.node_unit("class", child, name, source, imports, COMMENTS, name_node)
            )
        elif child.type in ("var_declaration", "const_declaration"):
            block.append(child)
        else:
            flush()
    flush()
    return units
