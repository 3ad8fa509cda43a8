"""What a name certainly holds: every binding of a scope, collected once per scope.

A rule's advice often depends on a type it cannot see (``d.keys()`` is only redundant on a
mapping, ``s += x`` is only quadratic on some strings). This module answers "certainly a dict /
list / str / bytes here" from the scope's own bindings, and "unknown" whenever any binding that
can reach the use disagrees or cannot be read: unknown is the common and the safe answer.

Bindings are read within the enclosing function (or, for module-level code, the module's own
statements), never across definitions: a definition's findings must depend only on its own
bytes and on the file's fingerprint (see ``engine.UnitCache``).
"""

from __future__ import annotations

from dataclasses import dataclass

from lessonlens.analyzers.match import Match
from lessonlens.analyzers.parsing import Node

SCOPE_TYPES = frozenset({"function_definition", "class_definition", "lambda", "module"})
LOOP_TYPES = frozenset({"for_statement", "while_statement"})

# Kinds an expression certainly has, by node type.
_KIND_OF_VALUE = {
    "list": "list",
    "list_comprehension": "list",
    "dictionary": "dict",
    "dictionary_comprehension": "dict",
    "set": "set",
    "set_comprehension": "set",
    "tuple": "tuple",
    "integer": "int",
    "float": "float",
    "true": "bool",
    "false": "bool",
}
# Calls that certainly build a value of a kind. ``Counter``, ``defaultdict`` and
# ``OrderedDict`` are dict subclasses: ``in``, iteration and ``keys()`` behave as a dict's.
_KIND_OF_CONSTRUCTOR = {
    "list": "list",
    "dict": "dict",
    "set": "set",
    "frozenset": "set",
    "str": "str",
    "bytes": "bytes",
    "tuple": "tuple",
    "sorted": "list",
    "vars": "dict",
    "defaultdict": "dict",
    "OrderedDict": "dict",
    "Counter": "dict",
    "bytearray": "bytearray",
    "int": "int",
    "float": "float",
    "len": "int",
}
# Annotations, by their last dotted part before any ``[``. A ``Mapping`` answers ``in``,
# iteration and ``keys()`` consistently (``collections.abc`` builds them on ``__getitem__``).
_KIND_OF_ANNOTATION = {
    "list": "list",
    "List": "list",
    "dict": "dict",
    "Dict": "dict",
    "DefaultDict": "dict",
    "defaultdict": "dict",
    "OrderedDict": "dict",
    "Counter": "dict",
    "Mapping": "dict",
    "MutableMapping": "dict",
    "set": "set",
    "Set": "set",
    "frozenset": "set",
    "FrozenSet": "set",
    "str": "str",
    "bytes": "bytes",
    "tuple": "tuple",
    "Tuple": "tuple",
    "int": "int",
    "float": "float",
}
# String methods that return a string: ``s = s.strip()`` keeps ``s`` a string.
_STR_METHODS = frozenset(
    {
        "strip",
        "lstrip",
        "rstrip",
        "lower",
        "upper",
        "title",
        "capitalize",
        "casefold",
        "replace",
        "format",
        "join",
        "center",
        "ljust",
        "rjust",
        "zfill",
        "expandtabs",
        "swapcase",
        "removeprefix",
        "removesuffix",
    }
)


def text(node: Node, source: bytes) -> str:
    return source[node.start_byte : node.end_byte].decode("utf-8", "replace")


def _string_kind(node: Node, source: bytes) -> str:
    """``bytes`` for ``b"..."`` literals, else ``str`` (f-strings included)."""
    first = node
    if node.type == "concatenated_string" and node.named_children:
        first = node.named_children[0]
    start = first.child(0)
    prefix = text(start, source) if start is not None else ""
    return "bytes" if "b" in prefix.lower() else "str"


def annotation_kind(annotation: Node, source: bytes) -> str | None:
    head = text(annotation, source).split("[", 1)[0].strip()
    if "|" in head or head.startswith("Optional") or head.startswith("Union"):
        return None
    return _KIND_OF_ANNOTATION.get(head.rpartition(".")[2])


def value_kind(value: Node, source: bytes) -> str | None:
    """The builtin type an expression certainly has, or ``None`` when it cannot be known."""
    kind = _KIND_OF_VALUE.get(value.type)
    if kind is not None:
        return kind
    if value.type in ("string", "concatenated_string"):
        return _string_kind(value, source)
    if value.type == "parenthesized_expression" and value.named_child_count == 1:
        return value_kind(value.named_children[0], source)
    if value.type == "call":
        function = value.child_by_field_name("function")
        if function is None:
            return None
        if function.type == "identifier":
            return _KIND_OF_CONSTRUCTOR.get(text(function, source))
        if function.type == "attribute":
            method = function.child_by_field_name("attribute")
            receiver = function.child_by_field_name("object")
            name = text(method, source) if method is not None else ""
            last = text(function, source).rpartition(".")[2]
            if last in ("defaultdict", "OrderedDict", "Counter"):
                return "dict"  # collections.defaultdict(...)
            if name == "fromkeys" and receiver is not None and text(receiver, source) == "dict":
                return "dict"
            if name in ("split", "rsplit", "splitlines", "readlines"):
                return "list"
            if (
                name in _STR_METHODS
                and receiver is not None
                and receiver.type in ("string", "concatenated_string")
            ):
                return "str"  # "".join(parts), ", ".join(...), "{}".format(x)
    if value.type == "binary_operator":
        # "a" + x and x + "a" are strings (or raise); likewise "%s" % x.
        left = value.child_by_field_name("left")
        right = value.child_by_field_name("right")
        operator = value.child_by_field_name("operator")
        op = text(operator, source) if operator is not None else ""
        for side in (left, right) if op == "+" else (left,) if op == "%" else ():
            if side is not None and side.type in ("string", "concatenated_string"):
                return _string_kind(side, source)
    return None


@dataclass(frozen=True, slots=True)
class Binding:
    """One place that binds a name: an assignment, a parameter, a loop target, an import."""

    node: Node  # the binding statement or parameter
    kind: str | None  # what it certainly binds, None when unknown
    augmented: bool = False  # ``x += ...``: keeps the kind it had


def targets(node: Node) -> list[Node]:
    """Identifiers (and ``self.x`` attributes) that an assignment target binds."""
    found: list[Node] = []
    stack = [node]
    while stack:
        current = stack.pop()
        if current.type in ("identifier", "attribute"):
            found.append(current)
        elif current.type in (
            "pattern_list",
            "tuple_pattern",
            "list_pattern",
            "tuple",
            "list",
            "parenthesized_expression",
            "list_splat_pattern",
            "as_pattern_target",
        ):
            stack.extend(current.named_children)
    return found


def _first_named(node: Node) -> Node | None:
    return node.named_children[0] if node.named_children else None


class _Collector:
    def __init__(self, source: bytes) -> None:
        self.source = source
        self.found: dict[str, list[Binding]] = {}
        self.declared: set[str] = set()  # global / nonlocal

    def add(
        self, name_node: Node, statement: Node, kind: str | None, augmented: bool = False
    ) -> None:
        name = text(name_node, self.source)
        self.found.setdefault(name, []).append(Binding(statement, kind, augmented))

    def parameters(self, function: Node) -> None:
        parameters = function.child_by_field_name("parameters")
        for parameter in parameters.named_children if parameters is not None else ():
            kind: str | None = None
            name: Node | None = None
            if parameter.type == "identifier":
                name = parameter
            elif parameter.type in ("typed_parameter", "typed_default_parameter"):
                annotation = parameter.child_by_field_name("type")
                kind = annotation_kind(annotation, self.source) if annotation else None
                name = parameter.child_by_field_name("name") or parameter.named_children[0]
                if name.type == "list_splat_pattern":
                    name, kind = _first_named(name), "tuple"
                elif name.type == "dictionary_splat_pattern":
                    name, kind = _first_named(name), "dict"
                if parameter.type == "typed_default_parameter":
                    default = parameter.child_by_field_name("value")
                    if default is not None and default.type == "none":
                        kind = None  # ``x: dict = None`` is None until set
            elif parameter.type == "default_parameter":
                name = parameter.child_by_field_name("name")
            elif parameter.type == "list_splat_pattern":
                name, kind = _first_named(parameter), "tuple"
            elif parameter.type == "dictionary_splat_pattern":
                name, kind = _first_named(parameter), "dict"
            if name is not None and name.type == "identifier":
                self.add(name, parameter, kind)

    def walk(self, body: Node) -> None:
        stack = [body]
        while stack:
            node = stack.pop()
            kind = node.type
            if kind in ("function_definition", "class_definition"):
                name = node.child_by_field_name("name")
                if name is not None:
                    self.add(name, node, None)
                continue
            if kind == "lambda":
                continue
            if kind == "assignment":
                self._assignment(node)
            elif kind == "augmented_assignment":
                left = node.child_by_field_name("left")
                if left is not None and left.type in ("identifier", "attribute"):
                    self.add(left, node, None, augmented=True)
            elif kind in ("for_statement", "for_in_clause"):
                left = node.child_by_field_name("left")
                for target in targets(left) if left is not None else ():
                    self.add(target, node, None)
            elif kind == "named_expression":
                name = node.child_by_field_name("name")
                value = node.child_by_field_name("value")
                if name is not None:
                    self.add(name, node, value_kind(value, self.source) if value else None)
            elif kind == "as_pattern":
                for child in node.named_children:
                    if child.type == "as_pattern_target":
                        for target in targets(child):
                            self.add(target, node, None)
            elif kind in ("import_statement", "import_from_statement"):
                for name in node.children_by_field_name("name"):
                    alias = (
                        name.child_by_field_name("alias") if name.type == "aliased_import" else None
                    )
                    bound = alias or (name.named_children[0] if name.named_children else name)
                    if bound.type == "identifier":
                        self.add(bound, node, None)
            elif kind in ("global_statement", "nonlocal_statement"):
                self.declared.update(
                    text(c, self.source) for c in node.named_children if c.type == "identifier"
                )
            stack.extend(reversed(node.named_children))

    def _assignment(self, node: Node) -> None:
        # ``a = b = []`` nests the second assignment as the right-hand side of the first.
        lefts: list[Node] = []
        current: Node | None = node
        value: Node | None = None
        annotation: Node | None = None
        while current is not None and current.type == "assignment":
            left = current.child_by_field_name("left")
            if left is not None:
                lefts.append(left)
            annotation = annotation or current.child_by_field_name("type")
            value = current.child_by_field_name("right")
            current = value
        kind = value_kind(value, self.source) if value is not None else None
        if value is not None and len(lefts) == 1 and grows_itself(lefts[0], value, self.source):
            # ``s = s + x`` and ``s = x + s`` keep whatever ``s`` was, like ``s += x``.
            self.add(lefts[0], node, None, augmented=True)
            return
        if value is not None and kind is None and value.type == "call" and len(lefts) == 1:
            kind = self._same_kind_call(lefts[0], value)
        if annotation is not None:
            kind = (
                annotation_kind(annotation, self.source)
                if value is None
                else kind or (annotation_kind(annotation, self.source))
            )
        for left in lefts:
            bound = targets(left)
            single = len(bound) == 1 and bound[0].id == left.id
            for target in bound:
                self.add(target, node, kind if single else None)

    def _same_kind_call(self, left: Node, value: Node) -> str | None:
        """``s = s.strip()`` keeps ``s`` a string: marked to inherit the kind it had."""
        called = method_call(value, self.source)
        if called is not None and called[0] == text(left, self.source):
            return "=str-method" if called[1] in _STR_METHODS else None
        return None


def method_call(node: Node, source: bytes) -> tuple[str, str] | None:
    """``(receiver text, method name)`` for a call like ``xs.append(x)``, else ``None``."""
    if node.type != "call":
        return None
    function = node.child_by_field_name("function")
    if function is None or function.type != "attribute":
        return None
    receiver = function.child_by_field_name("object")
    method = function.child_by_field_name("attribute")
    if receiver is None or method is None:
        return None
    return text(receiver, source), text(method, source)


def sum_operands(value: Node) -> list[Node]:
    """The operands of a chain of ``+`` (``a + b + c`` gives a, b, c), else ``[value]``."""
    if value.type == "parenthesized_expression" and value.named_child_count == 1:
        return sum_operands(value.named_children[0])
    if value.type != "binary_operator":
        return [value]
    operator = value.child_by_field_name("operator")
    left = value.child_by_field_name("left")
    right = value.child_by_field_name("right")
    if operator is None or operator.type != "+" or left is None or right is None:
        return [value]
    return [*sum_operands(left), *sum_operands(right)]


def grows_itself(left: Node, value: Node, source: bytes) -> bool:
    """``s = s + x``, ``s = x + s`` or ``s = f"{s}..."``: rebound to a longer self."""
    name = source[left.start_byte : left.end_byte]
    if value.type == "string":
        parts = [c for c in value.named_children if c.type not in ("string_start", "string_end")]
        expression = parts[0].child_by_field_name("expression") if parts else None
        return expression is not None and (
            source[expression.start_byte : expression.end_byte] == name
        )
    if value.type != "binary_operator":
        return False
    operands = sum_operands(value)
    return len(operands) > 1 and any(
        source[o.start_byte : o.end_byte] == name for o in (operands[0], operands[-1])
    )


def enclosing_scope(node: Node) -> Node:
    """The nearest function, class, lambda or module around ``node``.

    Where no such ancestor exists (a fragment whose root is an ERROR node), the outermost
    ancestor is returned, never ``node`` itself, so that callers walking outwards terminate.
    """
    outermost = node
    current = node.parent
    while current is not None:
        if current.type in SCOPE_TYPES:
            return current
        outermost = current
        current = current.parent
    return outermost


def scope_bindings(m: Match, scope: Node) -> tuple[dict[str, list[Binding]], set[str]]:
    """Every binding in ``scope`` by name (nested definitions excluded), and its globals."""
    cache: dict[int, tuple[dict[str, list[Binding]], set[str]]] = m.file.facts.setdefault(
        "python.bindings", {}
    )
    found = cache.get(scope.id)
    if found is None:
        collector = _Collector(m.file.source)
        if scope.type == "function_definition":
            collector.parameters(scope)
        body = scope.child_by_field_name("body") if scope.type != "module" else scope
        if body is not None:
            collector.walk(body)
        found = (collector.found, collector.declared)
        cache[scope.id] = found
    return found


def _loops_around(node: Node, scope: Node) -> list[Node]:
    loops = []
    current = node.parent
    while current is not None and current.id != scope.id:
        if current.type in LOOP_TYPES:
            loops.append(current)
        current = current.parent
    return loops


def reaching(m: Match, name: str, at: Node) -> list[Binding] | None:
    """The bindings of ``name`` that may be in effect at ``at``; None if it is not local.

    A binding reaches ``at`` if it comes earlier in the text, or later but inside a loop that
    also holds ``at`` (it runs before ``at`` on the next turn). ``None`` means the scope never
    binds the name (or declares it global): a global, a builtin or a closure variable.
    """
    scope = enclosing_scope(at)
    found, declared = scope_bindings(m, scope)
    if name in declared:
        return None
    bindings = found.get(name)
    if not bindings:
        return None
    loops = _loops_around(at, scope)
    reach = [
        b
        for b in bindings
        if b.node.start_byte < at.start_byte
        or any(loop.start_byte <= b.node.start_byte < loop.end_byte for loop in loops)
    ]
    return reach


def known_kind(m: Match, name: str, at: Node) -> str | None:
    """The builtin type that ``name`` certainly holds at ``at``, or ``None`` if unknown.

    Every binding that may reach ``at`` must agree. ``x += ...`` keeps the kind, and so does
    ``s = s.strip()`` for a string; any other binding of unknown kind makes the name unknown.
    """
    reach = reaching(m, name, at)
    if not reach:
        return None
    kinds = {b.kind for b in reach if not b.augmented}
    if "=str-method" in kinds:
        kinds.discard("=str-method")
        kinds.add("str")
    if len(kinds) != 1:
        return None
    return next(iter(kinds))


def first_binding(m: Match, name: str, at: Node) -> Binding | None:
    """The earliest non-augmented binding of ``name`` that reaches ``at``."""
    reach = reaching(m, name, at)
    plain = [b for b in reach or () if not b.augmented]
    return min(plain, key=lambda b: b.node.start_byte) if plain else None


def is_dict(m: Match, node: Node) -> bool:
    """Whether an expression certainly holds a dict (or a ``Mapping``): never a guess."""
    if node.type in ("identifier", "attribute"):
        return known_kind(m, text(node, m.file.source), node) == "dict"
    return value_kind(node, m.file.source) == "dict"
