"""What a JavaScript/TypeScript expression certainly is: an array, a string, a ``Set``, a ``Map``.

"Certainly" in the plan's sense: a literal; a call whose result has one type whatever its
receiver (``Array.from``, ``Object.keys``, ``s.split``); a name bound, in scope, to one of those
and never reassigned (``const``, or a ``let`` nobody assigns); or, in TypeScript, a name declared
with a plain ``T[]``, ``Array<T>``, ``string``, ``Set<T>``, ``Map<K, V>`` (or ``Readonly*``)
type. Everything else is unknown, the common answer, on which rules stay silent or offer only an
unsafe fix. Like ``facts``, this reads only a unit and the file's top level.
"""

from __future__ import annotations

import re

from lessonlens.analyzers.javascript import facts
from lessonlens.analyzers.javascript.spec import CHECKED_GLOBALS, FUNCTION_NODES, pieces
from lessonlens.analyzers.lastresult import BytesMemo
from lessonlens.analyzers.match import Match
from lessonlens.analyzers.parsing import Node

ARRAY = "array"
STRING = "string"
SET = "set"
MAP = "map"

# TypeScript's wrappers that do not change a value: `x as T`, `x!`, `<T>x`, `x satisfies T`.
_TRANSPARENT = frozenset(
    {
        "parenthesized_expression",
        "as_expression",
        "satisfies_expression",
        "non_null_expression",
        "type_assertion",
    }
)
# Methods whose result is an array (the plan's "certainly an array": the receiver is not a
# jQuery collection); `slice` and `concat` give a string on a string, so they count only on a
# receiver whose kind is known.
_ARRAY_METHODS = frozenset({"map", "filter", "flat", "flatMap", "toSorted", "toReversed"})
_ARRAY_OR_STRING_METHODS = frozenset({"slice", "concat"})
# `s.split(...)` is an array for strings; a RegExp's `Symbol.split` also gives one.
_STRING_TO_ARRAY = frozenset({"split"})
# Methods only strings have (by these names): their result is a string whatever the receiver.
_STRING_METHODS = frozenset(
    {"toLowerCase", "toUpperCase", "toLocaleLowerCase", "toLocaleUpperCase", "trim"}
    | {"trimStart", "trimEnd", "padStart", "padEnd"}
)
_ARRAY_STATICS = frozenset({"from", "of"})
_OBJECT_STATICS = frozenset({"keys", "values", "entries", "getOwnPropertyNames"})
_TYPE_NAMES = {
    "Array": ARRAY,
    "ReadonlyArray": ARRAY,
    "Set": SET,
    "ReadonlySet": SET,
    "Map": MAP,
    "ReadonlyMap": MAP,
}
_CONSTRUCTORS = {"Array": ARRAY, "Set": SET, "Map": MAP, "String": STRING}
_PARAMETERS = frozenset({"required_parameter", "optional_parameter"})
_FUNCTIONS = FUNCTION_NODES
# How many `const b = a` hops to follow.
_DEPTH = 4


def unwrap(node: Node) -> Node:
    """``node`` without parentheses and TypeScript-only wrappers (``as``, ``!``, ``satisfies``)."""
    while node.type in _TRANSPARENT:
        inner = [c for c in node.named_children if c.type not in ("type_arguments", "comment")]
        if not inner:
            break
        node = inner[0] if node.type != "type_assertion" else inner[-1]
    return node


def _jquery(m: Match, node: Node) -> bool:
    """Whether a call chain starts at ``$(...)``/``jQuery(...)`` or a ``$name``."""
    while True:
        node = unwrap(node)
        if node.type == "call_expression":
            callee = node.child_by_field_name("function")
            if callee is not None and callee.type == "identifier":
                return m.text(callee) in ("$", "jQuery")
            node = callee if callee is not None else node
            if callee is None:
                return False
        elif node.type == "member_expression":
            prop = node.child_by_field_name("property")
            if prop is not None and m.text(prop).startswith("$"):
                return True
            inner = node.child_by_field_name("object")
            if inner is None:
                return False
            node = inner
        elif node.type == "identifier":
            return m.text(node).startswith("$")
        else:
            return False


def jquery(m: Match, node: Node) -> bool:
    """Whether ``node`` is (or is derived from) a jQuery collection: ``$(...)``, ``$items``."""
    return _jquery(m, node)


def type_kind(m: Match, annotation: Node | None) -> str | None:
    """The kind a TypeScript type names: ``string[]``, ``Array<T>``, ``Set<T>``, ``string``."""
    if annotation is None:
        return None
    node = annotation
    if node.type == "type_annotation":
        inner = node.named_children
        if len(inner) != 1:
            return None
        node = inner[0]
    if node.type == "readonly_type" and len(node.named_children) == 1:
        node = node.named_children[0]
    if node.type in ("array_type", "tuple_type"):
        return ARRAY
    if node.type == "predefined_type":
        return STRING if m.text(node) == "string" else None
    if node.type == "generic_type":
        name = node.child_by_field_name("name")
        if name is None:
            return None
        found = _TYPE_NAMES.get(m.text(name))
        if found is not None and not shadowed(m, m.text(name), node):
            return found
    return None


def _declared_type(m: Match, declaration: Node) -> str | None:
    """The kind of a declaration's own annotation (a declarator's or a parameter's)."""
    if declaration.type == "variable_declarator":
        return type_kind(m, declaration.child_by_field_name("type"))
    parent = declaration.parent
    if (
        declaration.type == "identifier"
        and parent is not None
        and parent.type in _PARAMETERS
        and parent.child_by_field_name("pattern") == declaration
    ):
        return type_kind(m, parent.child_by_field_name("type"))
    return None


def _global(m: Match, name: Node, expected: str) -> bool:
    return m.text(name) == expected and not shadowed(m, expected, name)


def kind(m: Match, node: Node | None, depth: int = 0) -> str | None:
    """What ``node`` certainly evaluates to (``ARRAY``, ``STRING``, ``SET``, ``MAP``), or None."""
    if node is None or depth > _DEPTH:
        return None
    node = unwrap(node)
    kind_of = node.type
    if kind_of == "array":
        return ARRAY
    if kind_of == "string":
        return STRING
    if kind_of == "template_string":
        return STRING
    if kind_of == "identifier":
        return _name_kind(m, node, depth)
    if kind_of == "new_expression":
        constructor = node.child_by_field_name("constructor")
        if constructor is not None and constructor.type == "identifier":
            found = _CONSTRUCTORS.get(m.text(constructor))
            if (
                found is not None
                and found != STRING
                and _global(m, constructor, m.text(constructor))
            ):
                return found
        return None
    if kind_of == "call_expression":
        return _call_kind(m, node, depth)
    return None


_Key = tuple[int, int, str]


def _key(node: Node) -> _Key:
    return (node.start_byte, node.end_byte, node.type)


def _scope_index(m: Match, scope: Node) -> dict[str, list[Node]]:
    """Every name declared directly in ``scope``, with its declarations; built once per scope.

    The declarations ``facts.declarations_of`` indexes, with ``for (const x of ...)`` and
    ``catch (e)`` variables, which shadow outer names in the block that holds them. The
    program's are found by ``_program_index``.
    """
    return facts.declarations_of(m, scope, loop_variables=True)


# What each top-level statement declares, by its type and bytes: (name, start and end of the
# declaring node from the statement's start, its type). Typing re-reads only the statement it
# changes.
_Declared = tuple[tuple[str, int, int, str], ...]
_STATEMENTS: BytesMemo[tuple[str, bytes], _Declared] = BytesMemo()


def _statement_declares(statement: Node, source: bytes) -> _Declared:
    """What one top-level statement declares, positions relative to its start."""
    start = statement.start_byte
    inner = (
        statement.child_by_field_name("declaration")
        if statement.type == "export_statement"
        else statement
    )
    # A unit declares only its name, read directly: its bytes change as one types in it.
    unit = inner is not None and (
        inner.type in _FUNCTIONS or inner.type in ("class_declaration", "class")
    )
    key = None if unit else (statement.type, source[start : statement.end_byte])
    found = None if key is None else _STATEMENTS.get(key)
    if found is None:
        found = tuple(
            (name, node.start_byte - start, node.end_byte - start, node.type)
            for name, node in facts.declared([statement], source, nested_blocks=True)
        )
        # A statement with a parse error may read otherwise elsewhere: not kept.
        if key is not None and not statement.has_error:
            _STATEMENTS.put(key, found, len(key[1]))
    return found


def _program_index(m: Match) -> dict[str, dict[_Key, None]]:
    """``_scope_index`` of the program, as keys: its nodes are found when asked for (``_node``)."""
    found: dict[str, dict[_Key, None]] | None = m.file.facts.get("js.program")
    if found is not None:
        return found
    found = {}
    source = m.file.source
    for statement in m.file.root.named_children:
        offset = statement.start_byte
        for name, start, end, type_ in _statement_declares(statement, source):
            found.setdefault(name, {})[(offset + start, offset + end, type_)] = None
    m.file.facts["js.program"] = found
    return found


def _node(m: Match, key: _Key) -> Node | None:
    """The node of the current tree that ``key`` names."""
    node: Node | None = m.file.root.descendant_for_byte_range(key[0], key[1])
    while node is not None and _key(node) != key:
        node = node.parent
    return node


def binding(m: Match, name: str, at: Node) -> Node | None:
    """The one declaration of ``name`` that ``at`` sees, as ``facts.binding`` finds it.

    Unlike ``facts.binding``, it sees loop and ``catch`` variables, and the program's
    declarations are kept per top-level statement across keystrokes. None when there are none
    or several.
    """
    for scope in facts._scope_nodes(at):
        if scope.type == "program":
            keys = _program_index(m).get(name)
            return _node(m, next(iter(keys))) if keys and len(keys) == 1 else None
        found = _scope_index(m, scope).get(name)
        if found:
            return found[0] if len(found) == 1 else None
    return None


def shadowed(m: Match, name: str, at: Node) -> bool:
    """Whether a global (``Set``, ``Array``, ``RegExp``) is rebound where ``at`` sees it.

    Only for ``spec.CHECKED_GLOBALS``: the unit cache counts the imports of those names alone.
    """
    if name not in CHECKED_GLOBALS:
        raise ValueError(f"{name!r} is not in spec.CHECKED_GLOBALS")
    if not _may_declare(m, name):
        return False
    return any(
        name in (_program_index(m) if scope.type == "program" else _scope_index(m, scope))
        for scope in facts._scope_nodes(at)
    )


_DECLARING = re.compile(rb"\b(?:const|let|var|function|class|import|catch)\b")


def _may_declare(m: Match, name: str) -> bool:
    """Whether the file could declare ``name`` at all: a cheap look before walking scopes.

    Globals are rarely rebound. Each occurrence of the name is looked at in its line: after a
    declaring keyword, or where a parameter list or a destructuring pattern could bind it
    (after `(`, `,`, `{`, `[`, `...`), it may be a declaration; otherwise it is only a use.
    """
    cache: dict[str, bool] = m.file.facts.setdefault("js.may-declare", {})
    found = cache.get(name)
    if found is None:
        source, word = m.file.source, name.encode()
        found = False
        position = source.find(word)
        while position != -1 and not found:
            line_start = source.rfind(b"\n", 0, position) + 1
            before = source[line_start:position]
            stripped = before.rstrip()
            found = bool(_DECLARING.search(before)) or stripped.endswith(
                (b"(", b",", b"{", b"[", b"...")
            )
            position = source.find(word, position + len(word))
        cache[name] = found
    return found


def declared_value(m: Match, name: str, at: Node) -> Node | None:
    """The value of a ``const`` (or never-assigned ``let``): ``facts.declared_value``, indexed."""
    declarator = binding(m, name, at)
    if declarator is None or declarator.type != "variable_declarator":
        return None
    statement = declarator.parent
    if statement is None or statement.type not in ("lexical_declaration", "variable_declaration"):
        return None
    kind_node = statement.child(0)
    if kind_node is None or kind_node.type != "const":
        scope = facts.enclosing_function(declarator) or m.file.root
        if facts.assigned_in(m, scope, name):
            return None
    return declarator.child_by_field_name("value")


def _name_kind(m: Match, name: Node, depth: int) -> str | None:
    declaration = binding(m, m.text(name), name)
    if declaration is None:
        return None
    annotated = _declared_type(m, declaration)
    if annotated is not None:
        return annotated
    value = declared_value(m, m.text(name), name)
    if value is None:
        return None
    return kind(m, value, depth + 1)


def _literal_separator(call: Node) -> bool:
    """``x.split(",")`` / ``x.split(/,/)``: a string's split, whatever ``x`` is called."""
    arguments = call.child_by_field_name("arguments")
    first = (
        arguments.named_children[0] if arguments is not None and arguments.named_children else None
    )
    return first is not None and first.type in ("string", "regex")


def _call_kind(m: Match, call: Node, depth: int) -> str | None:
    callee = call.child_by_field_name("function")
    if callee is None:
        return None
    if callee.type == "identifier":
        return STRING if _global(m, callee, "String") else None
    if callee.type != "member_expression":
        return None
    receiver = callee.child_by_field_name("object")
    method = callee.child_by_field_name("property")
    if receiver is None or method is None:
        return None
    name = m.text(method)
    receiver = unwrap(receiver)
    if receiver.type == "identifier" and m.text(receiver) in ("Array", "Object", "JSON"):
        owner = m.text(receiver)
        if shadowed(m, owner, receiver):
            return None
        if owner == "Array" and name in _ARRAY_STATICS:
            return ARRAY
        if owner == "Object" and name in _OBJECT_STATICS:
            return ARRAY
        return None
    if jquery(m, receiver):
        return None
    if name in _ARRAY_METHODS:
        return ARRAY
    if name in _ARRAY_OR_STRING_METHODS:
        inner = kind(m, receiver, depth + 1)
        return inner if inner in (ARRAY, STRING) else None
    if name in _STRING_TO_ARRAY:
        return ARRAY if _literal_separator(call) or kind(m, receiver, depth + 1) == STRING else None
    if name in _STRING_METHODS:
        return STRING
    if name == "join":
        return STRING if kind(m, receiver, depth + 1) == ARRAY else None
    return None


# Syntax that ES5 lacks: `let`/`const`, arrows, template literals, classes, `async`, spread.
_MODERN = re.compile(
    rb"=>|`|\b(?:const|let)\s+[\w$\[{]|\bclass\s+[\w$]|\basync\s+(?:function|\(|[\w$]+\s*=>)"
    rb"|\.\.\.[\w$\[{(]"
)
# Comments, roughly (a `//` inside a string cuts its line short: the file then looks older, and
# the check only ever adds silence).
_COMMENTS = re.compile(rb"//[^\n]*|/\*.*?\*/", re.DOTALL)


def modern(code: bytes) -> bool:
    """Whether ``code`` uses post-ES5 syntax (``let``, ``const``, arrows, classes, templates)."""
    return _MODERN.search(_COMMENTS.sub(b" ", code)) is not None


def es5_only(m: Match, node: Node) -> bool:
    """Whether ``node``'s code is written in ES5 syntax only: it may run where ES2015+ is missing.

    jQuery-style libraries keep `var` and `function` (no `let`, arrows, classes or template
    literals) to run on old engines, where `includes`, `find`, `for...of` and `Set` are missing.
    What is read is the file's top level outside its units (the spec's fingerprint) and the unit
    that holds ``node``, so that the editor's unit cache stays exact. Comments are left out
    (jQuery's mention `select` in backticks).
    """
    facts_of_file = m.file.facts
    layout = facts_of_file.get("js.es5-layout")
    if layout is None:
        units, glue = pieces(m.file.root)
        source = m.file.source
        modern_glue = any(modern(source[start:end]) for start, end, _row, _col in glue)
        layout = facts_of_file["js.es5-layout"] = (modern_glue, [(a, b) for a, b, _r, _c in units])
    modern_glue, unit_ranges = layout
    if modern_glue:
        return False
    at = node.start_byte
    for start, end in unit_ranges:
        if start <= at < end:
            cache: dict[int, bool] = facts_of_file.setdefault("js.es5-units", {})
            if start not in cache:
                cache[start] = modern(m.file.source[start:end])
            return not cache[start]
    return True
