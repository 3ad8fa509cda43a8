"""The JavaScript/TypeScript fingerprint: what a unit may read from outside itself.

``engine.UnitCache`` keeps a unit's findings while the fingerprint says nothing it may read has
changed (``fingerprint``). Imports, top-level declarators and units' headers count by the names
they bind; everything else at top level, and a few file-wide facts, count as a whole.
"""

from __future__ import annotations

import hashlib
import re

from lessonlens.analyzers.javascript.spec import (
    CHECKED_GLOBALS,
    _pieces_of,
    ambient_declaration,
    defines_reduce,
    imported_modules,
)
from lessonlens.analyzers.javascript.tree import occurrences, unwrapped, walk
from lessonlens.analyzers.languages import Piece, ScopedFingerprint
from lessonlens.analyzers.lastresult import BytesMemo
from lessonlens.analyzers.parsing import Node

_WRITES = frozenset(
    {"assignment_expression", "augmented_assignment_expression", "update_expression"}
)


def _only_calls(statement: Node) -> bool:
    """A top-level statement that only calls (``app.use(...)``): it binds and assigns nothing.

    No rule reads such a statement from another unit (its imports and its syntax's age are
    part of the fingerprint separately), so editing it re-walks the glue, not every unit.
    """
    if statement.type != "expression_statement":
        return False
    return not any(node.type in _WRITES for node in walk(statement))


def _holes(child: Node) -> list[tuple[int, int]]:
    """What the fingerprint leaves out of a top-level statement.

    The object literals in the values that declarations bind, the outermost of each: the
    value itself (``const config = {…}``) or within it (``Object.freeze({…})``,
    ``defineConfig({…})``, ``[{…}, {…}]``). Rules read a declared value's shape (an array and
    its length, a call and its callee, a constructor), never into an object literal, so each
    is written as ``{}``. (TypeScript's types are units, counted by name: see ``_layout``.)
    """
    inner = ambient_declaration(child)
    if inner.type not in ("lexical_declaration", "variable_declaration"):
        return []
    found = []
    for declarator in inner.named_children:
        value = (
            declarator.child_by_field_name("value")
            if declarator.type == ("variable_declarator")
            else None
        )
        stack = [value] if value is not None else []
        while stack:
            node = stack.pop()
            if node.type == "object":
                found.append((node.start_byte, node.end_byte))
            else:
                stack.extend(node.named_children)
    return sorted(found)


# After a name: what may make an occurrence an assignment to it (``=``, ``+=``, ``??=``, ``++``),
# or a comment that may stand between the two. Never ``==`` or ``=>``.
_MAY_ASSIGN_AFTER = re.compile(
    rb"\s*(?:(?:[-+*/%&|^]|\*\*|<<|>>>?|&&|\|\||\?\?)?=(?![=>])|\+\+|--|/)"
)
_MAY_ASSIGN_BEFORE = re.compile(rb"(?:\+\+|--|/)\s*$")
_ASSIGNMENTS = frozenset({"assignment_expression", "augmented_assignment_expression"})


def _assigned(root: Node, source: bytes, name: bytes) -> bool:
    """Whether an ``=``, ``+=`` or ``++`` anywhere in the file assigns the identifier ``name``.

    As ``facts.assigned_in`` over the whole file, from the name's occurrences: only those whose
    neighbouring bytes could make an assignment are looked up in the tree.
    """

    def may_assign(start: int, end: int) -> bool:
        return bool(
            _MAY_ASSIGN_AFTER.match(source, end)
            or _MAY_ASSIGN_BEFORE.search(source, max(0, start - 16), start)
        )

    for node in occurrences(root, source, name, may_assign):
        parent = node.parent
        if node.type == "identifier" and parent is not None:
            if parent.type in _ASSIGNMENTS and parent.child_by_field_name("left") == node:
                return True
            if (
                parent.type == "update_expression"
                and parent.child_by_field_name("argument") == node
            ):
                return True
    return False


def assigned_top_level(root: Node, source: bytes) -> tuple[str, ...]:
    """The top-level ``let`` and ``var`` names that code anywhere in the file assigns.

    ``facts.declared_value`` trusts a top-level ``let`` only while no code in the file assigns
    it, whichever unit that code is in: the fingerprint carries the answer, so that the unit
    cache stays exact.
    """
    names: set[bytes] = set()
    for child in root.named_children:
        inner = ambient_declaration(child)
        if inner.type not in ("lexical_declaration", "variable_declaration"):
            continue
        kind = inner.child(0)
        if kind is not None and kind.type == "const":
            continue
        for declarator in inner.named_children:
            if declarator.type != "variable_declarator":
                continue
            name = declarator.child_by_field_name("name")
            if name is not None and name.type == "identifier":
                names.add(source[name.start_byte : name.end_byte])
    return tuple(sorted(n.decode("utf-8", "replace") for n in names if _assigned(root, source, n)))


# The header of a type unit (``spec.TYPE_UNITS``): its keyword and name.
_TYPE_HEADER = re.compile(
    rb"(?:export\s+(?:default\s+)?)?(?:declare\s+)?(?:const\s+)?"
    rb"(?P<keyword>interface|type|enum)\s+(?P<name>[A-Za-z_$][\w$]*)"
)
_TYPE_KEYWORDS = {
    b"interface": b"interface_declaration",
    b"type": b"type_alias_declaration",
    b"enum": b"enum_declaration",
}
_NAME_TYPES = frozenset({"identifier", "type_identifier", "shorthand_property_identifier_pattern"})
_TYPE_ENTRIES = frozenset(_TYPE_KEYWORDS.values())
# Words of a unit's header that name nothing of the file's.
_HEADER_WORDS = frozenset(
    {
        b"export",
        b"default",
        b"async",
        b"function",
        b"const",
        b"let",
        b"var",
        b"static",
        b"get",
        b"set",
        b"public",
        b"private",
        b"protected",
        b"readonly",
        b"override",
        b"abstract",
        b"declare",
        b"accessor",
    }
)
_WORD = re.compile(rb"[A-Za-z_$][\w$]*")


def _names_in(node: Node, source: bytes) -> set[str]:
    """Every identifier under ``node`` (the names a binding pattern binds)."""
    found: set[str] = set()
    stack = [node]
    while stack:
        current = stack.pop()
        if current.type in _NAME_TYPES:
            found.add(source[current.start_byte : current.end_byte].decode("utf-8", "replace"))
        elif current.type != "string":
            stack.extend(current.named_children)
    return found


def _elided(source: bytes, start: int, end: int, holes: list[tuple[int, int]]) -> bytes:
    """``source[start:end]`` with the ``holes`` inside it written as ``{}``."""
    parts = []
    position = start
    for hole_start, hole_end in holes:
        if start <= hole_start and hole_end <= end:
            parts.append(source[position:hole_start])
            parts.append(b"{}")
            position = hole_end
    parts.append(source[position:end])
    return b"".join(parts)


_Entry = tuple[bytes, bytes]


def _import_bindings(
    statement: Node, source: bytes
) -> list[tuple[str, tuple[bytes, bytes]]] | None:
    """Each name an ``import`` binds, with what it imports (the module and the imported name)."""
    module = statement.child_by_field_name("source")
    clause = next((c for c in statement.named_children if c.type == "import_clause"), None)
    if module is None or clause is None:
        return None
    origin = source[module.start_byte : module.end_byte]
    found: list[tuple[str, bytes]] = []
    for part in clause.named_children:
        if part.type == "identifier":
            found.append((part.text.decode("utf-8", "replace") if part.text else "", b"default"))
        elif part.type == "namespace_import":
            for name in part.named_children:
                found.append((name.text.decode("utf-8", "replace") if name.text else "", b"*"))
        elif part.type == "named_imports":
            for specifier in part.named_children:
                if specifier.type != "import_specifier":
                    continue
                local = specifier.child_by_field_name("alias") or specifier.child_by_field_name(
                    "name"
                )
                if local is None or not local.text:
                    return None
                text = source[specifier.start_byte : specifier.end_byte]
                found.append((local.text.decode("utf-8", "replace"), text))
        else:
            return None
    entries = [
        (name, (b"import " + what + b" from " + origin, b"")) for name, what in found if name
    ]
    return entries or None


def _bindings(
    statement: Node, source: bytes, holes: list[tuple[int, int]]
) -> list[tuple[str, _Entry]] | None:
    """Each name a top-level import or declaration binds, with its entry in the fingerprint.

    An entry is the text that binds the name, and the part of it that may lead a rule on to
    other names (``ScopedFingerprint.chained``). A declaration's text is its declarator's,
    after its keyword (``const``, ``let``), without the ``holes`` (object literals); what leads
    on is the same less its type annotation (named types are never resolved). None for any
    other statement.
    """
    if statement.type == "import_statement":
        return _import_bindings(statement, source)
    inner = ambient_declaration(statement)
    if inner.type not in ("lexical_declaration", "variable_declaration"):
        return None
    keyword = inner.child(0)
    kind = keyword.type.encode() if keyword is not None else b""
    found: list[tuple[str, _Entry]] = []
    for declarator in inner.named_children:
        if declarator.type != "variable_declarator":
            continue
        name = declarator.child_by_field_name("name")
        if name is None:
            return None
        text = kind + b" " + _elided(source, declarator.start_byte, declarator.end_byte, holes)
        annotation = declarator.child_by_field_name("type")
        leads = _elided(
            source,
            declarator.start_byte,
            declarator.end_byte,
            sorted([*holes, *([] if annotation is None else [annotation.byte_range])]),
        )
        found.extend((bound, (text, leads)) for bound in _names_in(name, source))
    return found or None


def _lists(statement: Node, source: bytes) -> frozenset[str]:
    """The names a top-level declaration binds to a list: what JS006 may ask a unit about.

    An array literal, or a call on something (``xs.map(...)``, ``Object.keys(x)``).
    """
    inner = ambient_declaration(statement)
    if inner.type not in ("lexical_declaration", "variable_declaration"):
        return frozenset()
    found: set[str] = set()
    for declarator in inner.named_children:
        name = declarator.child_by_field_name("name")
        value = unwrapped(declarator.child_by_field_name("value"))
        if name is None or value is None:
            continue
        callee = value.child_by_field_name("function") if value.type == "call_expression" else None
        if value.type == "array" or (callee is not None and callee.type == "member_expression"):
            found.update(_names_in(name, source))
    return frozenset(found)


# What a top-level piece puts in the fingerprint, by its bytes (whether it is a whole
# statement, and its text): typing re-reads only the pieces that changed. Bounded in entries
# and in the bytes of the pieces kept (what is kept for one is never larger): cleared when full.
_Contribution = tuple[bool, bytes | list[tuple[str, "_Entry"]] | None, frozenset[str]]
_CONTRIBUTIONS: BytesMemo[tuple[bool, bytes], _Contribution] = BytesMemo()


def _contribution(node: Node | None, source: bytes, start: int, end: int) -> _Contribution:
    """Whether a glue piece uses post-ES5 syntax, what it adds to the fingerprint, its lists.

    What it adds: None for a statement that only calls; its text for the file as a whole;
    or its names' entries. ``node`` is the top-level statement the piece is, if it is one.
    """
    from lessonlens.analyzers.javascript.kinds import modern

    text = source[start:end]
    key = (node is not None, text)
    found = _CONTRIBUTIONS.get(key)
    if found is not None:
        return found
    if node is not None and _only_calls(node):
        found = (modern(text), None, frozenset())
    else:
        # An object literal bound at top level counts by its place, not its contents: no rule
        # reads into one from another unit (a module's big config objects change as one types).
        holes = [] if node is None else _holes(node)
        bindings = None if node is None else _bindings(node, source, holes)
        found = (
            modern(text),
            _elided(source, start, end, holes) if bindings is None else bindings,
            frozenset() if node is None else _lists(node, source),
        )
    # A piece with a parse error may read otherwise elsewhere: not kept.
    if node is None or not node.has_error:
        _CONTRIBUTIONS.put(key, found, len(text))
    return found


def fingerprint(root: Node, source: bytes) -> ScopedFingerprint:
    """Everything outside the units that a rule in a unit may read.

    The file as a whole: every top-level statement that declares nothing (assignments,
    ``export { … }``, blocks), class headers, the modules the file imports (test
    support, benchmarks), whether its top level uses post-ES5 syntax, whether it defines its
    own ``reduce``, and which top-level ``let``s code assigns. By name: the text of each
    import and top-level declaration, and each top-level unit's header (``export async
    function f``), under every name it binds; a TypeScript type (a unit too) by its name
    alone. A unit reads
    a declaration only by a name it writes (or through declarations that mention one another:
    the fingerprint is ``chained``). A top-level statement that only calls is left out (see
    ``_only_calls``), and so are the contents of the object literals top-level declarations
    bind and a class's fields (their uses of top-level lists aside): typing in them re-walks
    the glue alone.
    """
    units, glue = _pieces_of(root)
    statements = {(child.start_byte, child.end_byte): child for child in root.named_children}
    starts = {start for start, _end in statements}
    # Each glue piece's text, and whether it is a whole top-level statement (2), a class's
    # header (1) or a member of a class (0).
    glue_texts = tuple(
        (
            2 if (start, end) in statements else int(start in starts),
            source[start:end],
        )
        for start, end, _r, _c in glue
    )
    # A top-level unit's header; a class member's (a method's) names nothing that code
    # elsewhere reads (``this.load`` is never resolved), so renaming a method walks no other.
    headers = tuple(
        source[start : min(start + 80, end)].split(b"(", 1)[0]
        for start, end, _r, _c in units
        if start in starts
    )
    if root.has_error and any(
        (node := statements.get((start, end))) is not None and node.has_error
        for start, end, _r, _c in glue
    ):
        # A statement with a parse error may read otherwise in another file: never reused.
        digest, named, modern_glue = _layout(glue_texts, glue, headers, statements, source)
    else:
        # Typing inside a unit's body changes neither: the answer is reused.
        key = (glue_texts, headers)
        found = _LAYOUTS.get(key)
        if found is None:
            found = _layout(glue_texts, glue, headers, statements, source)
            if len(_LAYOUTS) >= _LAYOUTS_MAX:
                _LAYOUTS.clear()
            _LAYOUTS[key] = found
        digest, named, modern_glue = found
    whole = (
        digest,
        tuple(sorted(imported_modules(root, source))),
        modern_glue,
        defines_reduce(source),
        assigned_top_level(root, source),
    )
    return ScopedFingerprint(whole, named, chained=True, whole_words=True)


_Named = tuple[tuple[str, tuple[_Entry, ...]], ...]
# The words of each glue piece, by its bytes.
_WORDS: BytesMemo[bytes, frozenset[str]] = BytesMemo()


def _words(text: bytes) -> frozenset[str]:
    found = _WORDS.get(text)
    if found is None:
        found = frozenset(w.decode("utf-8", "replace") for w in _WORD.findall(text))
        _WORDS.put(text, found, len(text))
    return found


_Layout = tuple[tuple[tuple[int, bytes], ...], tuple[bytes, ...]]
# The layouts last seen, shared by the threads (the editor's analyses take turns on two).
_LAYOUTS: dict[_Layout, tuple[bytes, _Named, bool]] = {}
_LAYOUTS_MAX = 8


def _layout(
    glue_texts: tuple[tuple[int, bytes], ...],
    glue: list[Piece],
    headers: tuple[bytes, ...],
    statements: dict[tuple[int, int], Node],
    source: bytes,
) -> tuple[bytes, _Named, bool]:
    """What the glue and the units' headers put in the fingerprint.

    The digest of what counts as a whole, the entries by name (sorted), and whether the glue
    uses post-ES5 syntax.
    """
    digest = hashlib.blake2b(digest_size=16)
    named: dict[str, list[_Entry]] = {}
    modern_glue = False
    variables: set[str] = set()
    texts: list[tuple[bytes, set[str]]] = []
    for (place, text), (start, end, _row, _column) in zip(glue_texts, glue, strict=True):
        is_modern, added, lists = _contribution(statements.get((start, end)), source, start, end)
        modern_glue = modern_glue or is_modern
        variables |= lists
        bound: set[str] = set()
        if place == 0:
            # A class's field or static block: no rule reads one from a unit (a method's
            # `this.x` is never resolved), so it counts only by the top-level lists it uses.
            added = None
        if isinstance(added, bytes):
            digest.update(added)
            digest.update(b"\0")
        elif added is not None:
            for name, binding in added:
                named.setdefault(name, []).append(binding)
                bound.add(name)
        texts.append((text, bound))
    # How the top level uses a top-level list, whole (in a call, in an object literal): a
    # unit's rule may read that (JS006 asks whether the list is only ever searched).
    uses: dict[str, list[bytes]] = {}
    for text, bound in texts:
        for name in _words(text) & variables:
            if name not in bound:
                uses.setdefault(name, []).append(text)
    for name, used in uses.items():
        named[name].append((hashlib.blake2b(b"\0".join(used), digest_size=16).digest(), b""))
    # A unit's own name is module-level too (a rule may ask whether a name is a local
    # function, or an async one). A type counts by its name alone, as a type in the glue does.
    for header in headers:
        typed = _TYPE_HEADER.match(header)
        if typed is not None:
            declared = _TYPE_KEYWORDS[typed["keyword"]]
            named.setdefault(typed["name"].decode("utf-8", "replace"), []).append((declared, b""))
            continue
        words = {w for w in _WORD.findall(header) if w not in _HEADER_WORDS}
        if not words:
            digest.update(header)
            digest.update(b"\0")
        for word in words:
            named.setdefault(word.decode("utf-8", "replace"), []).append((header, b""))
    # A rule asks whether a global it relies on is rebound (`kinds.shadowed`) wherever it
    # would use it, whether or not the unit writes the name: those count for the whole file.
    for name in sorted(CHECKED_GLOBALS & named.keys()):
        for text, leads in named.pop(name):
            digest.update(name.encode() + b"\0" + text + b"\0" + leads + b"\0")
    return (
        digest.digest(),
        tuple(
            sorted(
                (name, tuple(entries))
                for name, entries in named.items()
                if not _read_as_unbound(name, entries)
            )
        ),
        modern_glue,
    )


def _read_as_unbound(name: str, entries: list[_Entry]) -> bool:
    """Whether one import, or one TypeScript type, alone binds ``name``: read as unbound.

    Rules never resolve a type's name, and tell a name bound by one import from an unbound
    one only for the globals they check (``CHECKED_GLOBALS``): whether an import rebinds
    ``Set``. Two declarations of one name read otherwise (neither is the binding), so those
    count.
    """
    if len(entries) != 1 or entries[0][1] or name in CHECKED_GLOBALS:
        return False
    text = entries[0][0]
    return text.startswith(b"import ") or text in _TYPE_ENTRIES
