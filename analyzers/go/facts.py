"""Facts about a Go file that rules share, computed once per file: imports and their names."""

from __future__ import annotations

from lessonlens.analyzers.match import Match
from lessonlens.analyzers.parsing import Node


def imports(m: Match) -> dict[str, str]:
    """Each name an import binds -> the import path (``re "regexp"`` binds ``re``)."""
    found: dict[str, str] | None = m.file.facts.get("go.imports")
    if found is not None:
        return found
    found = {}
    for child in m.file.root.named_children:
        if child.type == "package_clause" or child.type == "comment":
            continue
        if child.type != "import_declaration":
            break
        stack: list[Node] = [child]
        while stack:
            node = stack.pop()
            if node.type != "import_spec":
                stack.extend(node.named_children)
                continue
            path_node = node.child_by_field_name("path")
            if path_node is None:
                continue
            path = m.text(path_node).strip('"`')
            alias = node.child_by_field_name("name")
            name = m.text(alias) if alias is not None else path.rsplit("/", 1)[-1]
            found[name] = path
    m.file.facts["go.imports"] = found
    return found


def imports_package(m: Match, name: str, path: str) -> bool:
    """Whether ``name`` in this file is the standard package ``path`` (not a local shadow)."""
    return imports(m).get(name) == path
