"""Whether a loop is plausibly hot: where performance advice is worth a reader's time.

A performance hint on a loop over three literals, an ``input()``-driven menu, an error path or a
test is true and useless. These predicates keep performance rules to loops that iterate data
of unbounded size (a parameter, an attribute, a call's result, a growing collection), in code
whose speed someone cares about. They read only the enclosing definition and the file's
imports, as every predicate must (see ``engine.UnitCache``).
"""

from __future__ import annotations

from lessonlens.analyzers.match import Match
from lessonlens.analyzers.parsing import Node
from lessonlens.analyzers.python import bindings, facts

# A loop over a constant range shorter than this runs a handful of times, not a hot loop.
SMALL_RANGE = 1000
# Wrappers whose iteration is as long as their (first) argument's.
_SAME_LENGTH = frozenset(
    {"enumerate", "reversed", "sorted", "list", "tuple", "set", "frozenset", "iter", "dict"}
)
_VIEWS = frozenset({"items", "keys", "values"})
_LITERALS = frozenset(
    {"list", "tuple", "set", "dictionary", "string", "concatenated_string", "integer"}
)
# Modules whose presence says the file measures itself or is a test: speed advice there is about
# code written on purpose (a slow variant kept for comparison) or code nobody times.
_TIMING_MODULES = frozenset({"timeit"})
# Names that say a function is the slow variant on purpose.
_DELIBERATELY_SLOW = ("slow", "naive", "brute", "bruteforce", "brute_force", "unoptimized")


def _int(node: Node, source: bytes) -> int | None:
    if node.type == "integer":
        try:
            return int(bindings.text(node, source).replace("_", ""), 0)
        except ValueError:
            return None
    if node.type == "unary_operator":
        operand = node.child_by_field_name("argument")
        value = _int(operand, source) if operand is not None else None
        return -value if value is not None else None
    return None


def _is_dunder(name: str) -> bool:
    """``cls.__bases__``, ``obj.__dict__``, ``cls.__module__``: a class's own small tables."""
    last = name.rpartition(".")[2]
    return len(last) > 4 and last.startswith("__") and last.endswith("__")


def _is_constant_name(name: str) -> bool:
    """``SUPPORTED_FORMATS``: by convention a fixed table written in the code."""
    last = name.rpartition(".")[2]
    return len(last) > 1 and last.upper() == last and any(c.isalpha() for c in last)


def _small_range(m: Match, call: Node) -> bool:
    arguments = call.child_by_field_name("arguments")
    values = [a for a in arguments.named_children if a.type != "comment"] if arguments else []
    numbers = [_int(a, m.file.source) for a in values]
    if not values or any(n is None for n in numbers):
        return False
    known = [n for n in numbers if n is not None]
    start, stop = (0, known[0]) if len(known) == 1 else (known[0], known[1])
    return abs(stop - start) < SMALL_RANGE


def iterable_is_small(m: Match, iterable: Node, at: Node, depth: int = 0) -> bool:
    """Whether iterating ``iterable`` certainly takes a handful of turns.

    Literals, constant ranges, ALL_CAPS tables, ``sys.argv``, the constants of the ``string``
    module, and names bound only to such things. ``zip`` is as short as its shortest argument.
    """
    source = m.file.source
    if depth > 4:
        return False
    kind = iterable.type
    if kind in _LITERALS:
        return True
    if kind in ("list_comprehension", "generator_expression", "set_comprehension"):
        # [f"task {n}" for n in range(1, 11)] is as small as what it walks
        clauses = [c for c in iterable.named_children if c.type == "for_in_clause"]
        first = clauses[0].child_by_field_name("right") if clauses else None
        return first is not None and iterable_is_small(m, first, at, depth + 1)
    if kind == "parenthesized_expression" and iterable.named_child_count == 1:
        return iterable_is_small(m, iterable.named_children[0], at, depth + 1)
    name = bindings.text(iterable, source)
    if kind in ("identifier", "attribute"):
        if _is_constant_name(name) or name == "sys.argv" or _is_dunder(name):
            return True
        if kind == "attribute" and name.startswith("string.") and "string" in facts.imports(m):
            return True
        if kind == "identifier":
            reach = bindings.reaching(m, name, at)
            plain = [b for b in reach or () if not b.augmented]
            return bool(plain) and all(_binds_small(m, b.node, at, depth) for b in plain)
        return False
    if kind == "subscript":
        # sys.argv[1:] is as small as sys.argv
        value = iterable.child_by_field_name("value")
        index = iterable.child_by_field_name("subscript")
        return (
            value is not None
            and index is not None
            and index.type == "slice"
            and iterable_is_small(m, value, at, depth + 1)
        )
    if kind == "call":
        function = iterable.child_by_field_name("function")
        arguments = iterable.child_by_field_name("arguments")
        if function is None or arguments is None:
            return False
        callee = bindings.text(function, source)
        positional = [
            a for a in arguments.named_children if a.type not in ("comment", "keyword_argument")
        ]
        if callee == "range":
            return _small_range(m, iterable)
        if callee == "zip":
            return any(iterable_is_small(m, a, at, depth + 1) for a in positional)
        if callee in _SAME_LENGTH and positional:
            return iterable_is_small(m, positional[0], at, depth + 1)
        if function.type == "attribute":
            method = function.child_by_field_name("attribute")
            receiver = function.child_by_field_name("object")
            if method is not None and receiver is not None:
                if bindings.text(method, source) in _VIEWS or _is_dunder(
                    bindings.text(receiver, source)
                ):
                    # d.items() is as long as d; cls.__module__.split(".") is a few names.
                    return iterable_is_small(m, receiver, at, depth + 1)
                if _is_dunder(bindings.text(method, source)):
                    return True  # cls.__subclasses__()
                if bindings.text(method, source) == "split" and receiver.type == "string":
                    return True  # "a b c".split()
    return False


_GROWING_METHODS = frozenset({"append", "extend", "insert", "appendleft", "extendleft"})


def grows_in(m: Match, loop: Node, name: str, *, unless_small: bool = False) -> bool:
    """Whether ``loop`` adds items to the list ``name`` (``name.append(x)``, ``name += [...]``).

    With ``unless_small``, extending it by small things (``stack.extend(c.__subclasses__())``,
    a walk of a class hierarchy) does not count.
    """
    stack = [loop]
    while stack:
        node = stack.pop()
        called = bindings.method_call(node, m.file.source)
        if called is not None and called[0] == name and called[1] in _GROWING_METHODS:
            arguments = node.child_by_field_name("arguments")
            values = arguments.named_children if arguments is not None else []
            small = (
                unless_small
                and called[1] in ("extend", "extendleft")
                and len(values) == 1
                and iterable_is_small(m, values[0], node)
            )
            # `queue.insert(0, arg); break` puts one item back as the loop ends.
            if not small and not ends_loop_after(node):
                return True
        elif node.type == "augmented_assignment":
            left = node.child_by_field_name("left")
            if left is not None and m.text(left) == name:
                return True
        if node.type not in ("function_definition", "lambda", "class_definition"):
            stack.extend(node.named_children)
    return False


def ends_loop_after(node: Node) -> bool:
    """Whether what follows ``node`` in its loop's turn surely leaves the loop.

    ``queue.insert(0, arg)`` then ``break`` (in its block, or after the ``if`` that holds it):
    the statement runs once, however long the loop.
    """
    statement = facts.statement_of(node)
    while statement.parent is not None:
        sibling = statement.next_named_sibling
        while sibling is not None:
            if sibling.type in ("break_statement", "return_statement", "raise_statement"):
                return True
            sibling = sibling.next_named_sibling
        block = statement.parent
        owner = block.parent if block.type == "block" else None
        if owner is None or owner.type in bindings.LOOP_TYPES or owner.type in bindings.SCOPE_TYPES:
            return False
        # Up from an if/elif/else/try block to the statement that holds it.
        while owner.parent is not None and owner.parent.type not in ("block", "module"):
            owner = owner.parent
        statement = owner
    return False


_STREAM_CALLS = frozenset(
    {"open", "readlines", "splitlines", "iterdir", "glob", "rglob", "walk", "listdir", "scandir"}
)


def iterable_is_a_stream(m: Match, iterable: Node, at: Node, depth: int = 0) -> bool:
    """Whether a loop walks data read from outside: a file, ``sys.stdin``, a folder's entries.

    Such data has no size the code controls: a loop over it is hot whatever the script.
    """
    source = m.file.source
    if depth > 3:
        return False
    text = bindings.text(iterable, source)
    if text in ("sys.stdin", "fileinput.input()"):
        return True
    if iterable.type == "call":
        function = iterable.child_by_field_name("function")
        name = bindings.text(function, source).rpartition(".")[2] if function else ""
        if name in _STREAM_CALLS:
            return True
        arguments = iterable.child_by_field_name("arguments")
        values = arguments.named_children if arguments is not None else []
        if name in _SAME_LENGTH and values:
            return iterable_is_a_stream(m, values[0], at, depth + 1)
        return False
    if iterable.type == "identifier":
        reach = bindings.reaching(m, text, at) or []
        for binding in reach:
            node = binding.node
            if node.type == "assignment":
                value = node.child_by_field_name("right")
                if value is not None and iterable_is_a_stream(m, value, at, depth + 1):
                    return True
            elif node.type == "as_pattern":
                inner = node.named_children[0] if node.named_children else None
                if inner is not None and iterable_is_a_stream(m, inner, at, depth + 1):
                    return True  # with open(...) as f: for line in f
    return False


def _binds_small(m: Match, statement: Node, at: Node, depth: int) -> bool:
    # ``*args`` and ``**kwargs``: the arguments of one call, a handful.
    if statement.type in ("list_splat_pattern", "dictionary_splat_pattern"):
        return True
    if statement.type in ("typed_parameter",) and statement.named_children:
        first = statement.named_children[0]
        return first.type in ("list_splat_pattern", "dictionary_splat_pattern")
    if statement.type != "assignment":
        return False
    value = statement.child_by_field_name("right")
    return value is not None and iterable_is_small(m, value, at, depth + 1)


def loop_iterable(loop: Node) -> Node | None:
    if loop.type in ("for_statement", "for_in_clause"):
        return loop.child_by_field_name("right")
    return None


def loop_is_small(m: Match, loop: Node) -> bool:
    if loop.type == "while_statement":
        return _shrinks_geometrically(m, loop)
    iterable = loop_iterable(loop)
    return iterable is not None and iterable_is_small(m, iterable, loop)


_DIVIDING = frozenset({"//=", ">>=", "/="})


def _shrinks_geometrically(m: Match, loop: Node) -> bool:
    """``while n > 0: n //= 10``: a loop over the digits (or bits) of a number.

    It turns as many times as the number has digits, a few dozen at most, whatever ``n`` is.
    """
    condition = loop.child_by_field_name("condition")
    body = loop.child_by_field_name("body")
    if condition is None or body is None:
        return False
    source = m.file.source
    tested = facts.names_in(condition, source)
    stack = [body]
    while stack:
        node = stack.pop()
        if node.type in ("function_definition", "lambda", "class_definition"):
            continue
        stack.extend(node.named_children)
        if node.type == "augmented_assignment":
            left = node.child_by_field_name("left")
            operator = node.child_by_field_name("operator")
            if (
                left is not None
                and operator is not None
                and bindings.text(left, source) in tested
                and operator.type in _DIVIDING
            ):
                return True
        elif node.type == "assignment":
            left = node.child_by_field_name("left")
            right = node.child_by_field_name("right")
            if left is None or right is None:
                continue
            targets = {bindings.text(t, source) for t in bindings.targets(left)} & tested
            if not targets:
                continue
            value = bindings.text(right, source).replace(" ", "")
            if value.startswith("divmod(") and value[7:].split(",")[0] in targets:
                return True  # n, digit = divmod(n, base)
            if any(value.startswith((f"{t}//", f"{t}>>", f"int({t}/")) for t in targets):
                return True  # n = n // base, n = int(n / 2)
    return False


def _calls(node: Node, source: bytes, names: frozenset[str]) -> bool:
    stack = [node]
    while stack:
        current = stack.pop()
        if current.type == "call":
            function = current.child_by_field_name("function")
            if function is not None and bindings.text(function, source) in names:
                return True
        if current.type not in ("function_definition", "lambda", "class_definition"):
            stack.extend(current.named_children)
    return False


# Calls that cost about as little as the test beside them: a membership test or an attribute
# lookup is a visible share of a loop body made only of these.
_CHEAP_METHODS = frozenset(
    {
        "append",
        "add",
        "extend",
        "appendleft",
        "get",
        "keys",
        "values",
        "items",
        "isdigit",
        "isalpha",
        "isalnum",
        "isspace",
        "isupper",
        "islower",
        "lower",
        "upper",
        "strip",
        "startswith",
        "endswith",
    }
)
_CHEAP_BUILTINS = frozenset(
    {"abs", "int", "float", "len", "min", "max", "ord", "chr", "str", "bool", "isinstance"}
)


def cheap_body(m: Match, loop: Node) -> bool:
    """Whether every call a turn of ``loop`` makes is cheap (``append``, ``len``, ``isdigit``).

    Beside a call that does real work (I/O, parsing, rendering), saving a few nanoseconds on
    a lookup is noise. For a comprehension's ``for`` clause, the whole comprehension counts.
    """
    owner = loop.parent if loop.type == "for_in_clause" and loop.parent is not None else loop
    body = owner if loop.type == "for_in_clause" else loop.child_by_field_name("body")
    return body is not None and only_cheap_calls(m, body)


def only_cheap_calls(m: Match, node: Node) -> bool:
    """Whether every call in ``node`` (nested definitions aside) is a cheap builtin or method."""
    source = m.file.source
    stack = [node]
    while stack:
        current = stack.pop()
        if current.type in ("function_definition", "class_definition", "lambda"):
            continue
        if current.type in ("await", "yield"):
            return False
        if current.type == "call":
            function = current.child_by_field_name("function")
            if function is None:
                return False
            if function.type == "attribute":
                method = function.child_by_field_name("attribute")
                if method is None or bindings.text(method, source) not in _CHEAP_METHODS:
                    return False
            elif bindings.text(function, source) not in _CHEAP_BUILTINS:
                return False
        stack.extend(current.named_children)
    return True


_PACED = frozenset({"input", "getpass", "getpass.getpass", "sleep", "time.sleep"})


def loop_is_interactive(m: Match, loop: Node) -> bool:
    """A loop paced by a person or a clock (``input()``, ``time.sleep``): it never runs hot."""
    return _calls(loop, m.file.source, _PACED)


def _in_except_handler(node: Node) -> bool:
    current = node.parent
    while current is not None and current.type not in bindings.SCOPE_TYPES:
        if current.type in ("except_clause", "except_group_clause"):
            return True
        current = current.parent
    return False


def _function_names(node: Node, source: bytes) -> list[str]:
    names = []
    current = node.parent
    while current is not None:
        if current.type == "function_definition":
            name = current.child_by_field_name("name")
            if name is not None:
                names.append(bindings.text(name, source))
        current = current.parent
    return names


def cold_code(m: Match, node: Node) -> str | None:
    """Why the code around ``node`` is not where speed matters, or ``None``.

    Tests (a ``test_*`` function, or a file that imports a test framework), files that time
    their own variants (``timeit``), functions named as the slow variant on purpose, and error
    handlers.
    """
    if m.file.test_code:
        return "test code"
    if not facts.imported_roots(m).isdisjoint(_TIMING_MODULES):
        return "a file that times its own variants"
    names = _function_names(node, m.file.source)
    if any(name.startswith("test") for name in names):
        return "test code"
    lowered = [name.lower() for name in names]
    if any(part in name for name in lowered for part in _DELIBERATELY_SLOW):
        return "a deliberately slow variant"
    if _in_except_handler(node):
        return "an error path"
    return None


def loops_around(node: Node, comprehensions: bool = False) -> list[Node]:
    """The loops (innermost first) that repeat ``node``, within its scope.

    A statement repeats in a loop's body (a ``while`` condition too); with ``comprehensions``,
    an expression also repeats in a comprehension, except in its first iterable (evaluated
    once): a comprehension counts through its ``for`` clauses.
    """
    loops = []
    child = node
    current = node.parent
    while current is not None and current.type not in bindings.SCOPE_TYPES:
        if current.type in bindings.LOOP_TYPES:
            repeated = [current.child_by_field_name("body")]
            if current.type == "while_statement":
                repeated.append(current.child_by_field_name("condition"))
            if any(r is not None and r.id == child.id for r in repeated):
                loops.append(current)
        elif comprehensions and current.type in facts.COMPREHENSION_TYPES:
            clauses = [c for c in current.named_children if c.type == "for_in_clause"]
            first = clauses[0] if clauses else None
            iterable = first.child_by_field_name("right") if first is not None else None
            in_first_iterable = (
                first is not None
                and child.id == first.id
                and iterable is not None
                and iterable.start_byte <= node.start_byte < iterable.end_byte
            )
            if not in_first_iterable:
                loops.extend(clauses)
        child = current
        current = current.parent
    return loops


def growing_loops(m: Match, node: Node, name: str) -> list[Node]:
    """The loops around ``node`` across whose turns ``name`` keeps its value and can grow.

    Innermost first, stopping at the first loop that binds ``name`` afresh (its ``for``
    target, or a plain assignment anywhere inside): each turn of that loop starts over.
    """
    found, _ = bindings.scope_bindings(m, bindings.enclosing_scope(node))
    plain = [b.node for b in found.get(name, ()) if not b.augmented]
    loops = []
    for loop in loops_around(node):
        if any(loop.start_byte <= b.start_byte < loop.end_byte for b in plain):
            break
        loops.append(loop)
    return loops


def plausibly_hot(m: Match, loops: list[Node]) -> bool:
    """Whether any of ``loops`` may run many times: not small, not waiting on a person."""
    return any(not loop_is_small(m, loop) and not loop_is_interactive(m, loop) for loop in loops)


def hot_loop_context(
    m: Match, node: Node, grown: str | None = None, comprehensions: bool = False
) -> bool:
    """``node`` repeats in a plausibly hot loop of code that runs hot.

    With ``grown``, only the loops across which that name keeps growing count.
    """
    loops = growing_loops(m, node, grown) if grown else loops_around(node, comprehensions)
    return bool(loops) and plausibly_hot(m, loops) and cold_code(m, node) is None
