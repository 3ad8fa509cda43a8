"""Rules about how a loop walks its data: enumerate and zip over indexes, dicts without .keys()."""

from __future__ import annotations

from lessonlens.analyzers.match import Match, span_of
from lessonlens.analyzers.model import Fix, Hit, Rule, Severity, TextEdit
from lessonlens.analyzers.parsing import Node
from lessonlens.analyzers.python import bindings, facts
from lessonlens.analyzers.python.spec import target_python

# Methods that change a list's length. `range(len(xs))` is computed once but a list iterator
# reads the live list, so after one of these `enumerate(xs)` no longer walks the same indexes.
_LENGTH_CHANGING = frozenset({"append", "extend", "insert", "pop", "remove", "clear"})
# Methods that add or remove dict keys: iterating the dict (or its keys view) would then raise.
_KEY_CHANGING = frozenset({"pop", "popitem", "clear", "update", "setdefault", "__setitem__"})
_TARGET_CONTAINERS = frozenset(
    {"pattern_list", "tuple_pattern", "list_pattern", "tuple", "list", "parenthesized_expression"}
)
_ARITHMETIC = frozenset({"binary_operator", "unary_operator", "augmented_assignment"})
# Kinds whose iteration yields exactly what `xs[i]` reads, in index order.
_SEQUENCE_KINDS = frozenset({"list", "tuple", "str"})


def _store_target(node: Node) -> Node | None:
    """The assignment, ``del`` or ``for`` that ``node`` is a target of, else ``None``.

    Walks up through tuple and list targets (``xs[i], ys[i] = ...``) only, so ``xs[i]`` read on
    the right-hand side is never mistaken for a write.
    """
    child = node
    parent = node.parent
    while parent is not None and parent.type in _TARGET_CONTAINERS:
        child = parent
        parent = parent.parent
    if parent is None:
        return None
    if parent.type in ("assignment", "augmented_assignment", "for_statement", "for_in_clause"):
        left = parent.child_by_field_name("left")
        return parent if left is not None and left.id == child.id else None
    if parent.type == "delete_statement":
        return parent
    return None


def _single_index(subscript: Node) -> Node | None:
    indexes = subscript.children_by_field_name("subscript")
    return indexes[0] if len(indexes) == 1 else None


def _changes_length(node: Node, sequence: str, m: Match) -> bool:
    """Whether ``node`` rebinds ``sequence`` or changes its length (not a plain ``xs[i] = v``)."""
    if node.type == "call":
        called = bindings.method_call(node, m.file.source)
        return called is not None and called[0] == sequence and called[1] in _LENGTH_CHANGING
    if node.type in ("identifier", "attribute") and m.text(node) == sequence:
        return _store_target(node) is not None
    if node.type == "subscript":
        value = node.child_by_field_name("value")
        if value is None or m.text(value) != sequence:
            return False
        target = _store_target(node)
        if target is None:
            return False
        # `del xs[i]` shrinks the list; `xs[a:b] = ...` may resize it.
        index = _single_index(node)
        return target.type == "delete_statement" or index is None or index.type == "slice"
    return False


def _index_loop(m: Match) -> Hit | None:
    index = m.text(m.node("index"))
    sequence_node = m.node("sequence")
    sequence = m.text(sequence_node)
    loop = m.node("finding")
    if sequence_node.type == "identifier":
        kind = facts.known_kind(m, sequence, loop)
        if kind is not None and kind not in _SEQUENCE_KINDS:
            return None
        # A pandas Series indexes by label and a DataFrame iterates its columns: there
        # `enumerate` would not walk what `obj[i]` reads.
        if kind is None and facts.imports_array_library(m):
            return None
    elif facts.imports_array_library(m):
        return None

    reads_sequence = False
    index_needed = False
    # Other sequences read with [i]: zip can walk them only if they are plain names that the
    # body does not rebind (an inner `for monom in ...` changes `monom` under the index).
    others: dict[str, Node] = {}
    rebound: set[str] = set()
    stack = [m.node("body")]
    while stack:
        node = stack.pop()
        stack.extend(node.named_children)
        if _changes_length(node, sequence, m):
            return None
        if node.type in ("identifier", "attribute") and _store_target(node) is not None:
            rebound.add(m.text(node))
        if node.type != "identifier" or m.text(node) != index:
            continue
        parent = node.parent
        if parent is None:
            continue
        if parent.type in _ARITHMETIC:
            # i + 1, i - 1, -i: neighbours or offsets, which enumerate does not give.
            return None
        if _store_target(node) is not None:
            return None
        if parent.type == "subscript" and _single_index(parent) == node:
            value = parent.child_by_field_name("value")
            if value is None or _store_target(parent) is not None:
                index_needed = True
            else:
                reads_sequence = reads_sequence or m.text(value) == sequence
                seen = others.get(m.text(value))
                if seen is None or value.start_byte < seen.start_byte:
                    others[m.text(value)] = value
        else:
            index_needed = True
    if not reads_sequence:
        return None
    body = m.node("body")
    # A grid walk (`for r in range(len(g)): for c in range(len(g[0])): g[r][c]`) keeps both
    # coordinates on purpose, and `xs[i] = f(xs[i])` rewrites each item in place (a
    # comprehension says that better than enumerate): neither is worth this hint.
    if _walks_positions_inside(body):
        return None
    span = span_of(m.node("range"))
    if _rewrites_each(m, body, sequence, index):
        # `xs[i] = f(xs[i])` rewrites each item in place: a comprehension says it in one line.
        return Hit(
            span,
            message=f"Each turn rewrites `{sequence}[{index}]`: "
            f"`{sequence}[:] = [... for item in {sequence}]` says that in one line "
            f"(or `for {index}, item in enumerate({sequence})`).",
        )
    zippable = all(
        value.type in ("identifier", "attribute")
        and name not in rebound
        and (value.type != "identifier" or facts.known_kind(m, name, loop) != "dict")
        for name, value in others.items()
        if name != sequence
    )
    if len(others) > 1 and zippable and not index_needed:
        # In the order the body reads them, so that `for a, b in zip(a_list, b_list)` lines up.
        together = ", ".join(sorted(others, key=lambda name: others[name].start_byte))
        # Where the lengths differ, `xs[i]` raises IndexError and plain zip stops quietly;
        # strict=True (3.10+) still fails, with ValueError. Say so: a doctest may rely on it.
        target = target_python(m.options)
        if target is not None and target < (3, 10):
            return Hit(
                span,
                message=f"Use `zip({together})` instead of indexing with `{index}` (where the "
                "lengths differ it stops at the shortest, where the index raised IndexError).",
            )
        return Hit(
            span,
            message=f"Use `zip({together}, strict=True)` instead of indexing with `{index}` "
            "(like the index, it fails if the lengths differ, with ValueError instead of "
            "IndexError).",
        )
    # `for i in range(len(s)): if ...: break` and then `s.pop(i)`: the index outlives the loop.
    index_needed = index_needed or _read_after(m, loop, index)
    if not index_needed and len(others) == 1:
        return Hit(
            span,
            message=f"The index only reads `{sequence}[{index}]`: iterate `{sequence}` directly "
            f"(`for item in {sequence}:`).",
        )
    return Hit(span, message=f"Use `enumerate({sequence})` to get the index and the item together.")


def _walks_positions_inside(body: Node) -> bool:
    """Whether the body nests a ``for j in range(...)``: a 2-D index algorithm.

    A grid walk or a transposition (``m[i][j], m[j][i] = ...``), where both indexes are the point.
    """
    stack = list(body.named_children)
    while stack:
        node = stack.pop()
        if node.type == "for_statement":
            right = node.child_by_field_name("right")
            function = right.child_by_field_name("function") if right is not None else None
            if (
                function is not None
                and function.type == "identifier"
                and (function.text == b"range")
            ):
                return True
        if node.type not in ("function_definition", "class_definition", "lambda"):
            stack.extend(node.named_children)
    return False


def _rewrites_each(m: Match, body: Node, sequence: str, index: str) -> bool:
    statements = [s for s in body.named_children if s.type != "comment"]
    if len(statements) != 1 or statements[0].type != "expression_statement":
        return False
    assignment = statements[0].named_children[0] if statements[0].named_children else None
    if assignment is None or assignment.type != "assignment":
        return False
    left = assignment.child_by_field_name("left")
    return left is not None and m.text(left).replace(" ", "") == f"{sequence}[{index}]"


def _read_after(m: Match, loop: Node, name: str) -> bool:
    """Whether ``name`` is read after ``loop`` in the same function (it keeps the last index).

    Its first use after the loop decides: a new ``for i in ...`` or ``i = 0`` rebinds it.
    """
    scope = facts.enclosing_scope(loop)
    body = scope.child_by_field_name("body") if scope.type != "module" else scope
    stack = [body] if body is not None else []
    encoded = name.encode()
    source = m.file.source
    first: Node | None = None
    while stack:
        node = stack.pop()
        if node.end_byte <= loop.end_byte:
            continue
        if node.type == "identifier" and node.start_byte >= loop.end_byte:
            if source[node.start_byte : node.end_byte] == encoded and (
                first is None or node.start_byte < first.start_byte
            ):
                first = node
            continue
        if node.type not in ("function_definition", "class_definition", "lambda"):
            stack.extend(node.named_children)
    return first is not None and _store_target(first) is None


def _is_self(node: Node, m: Match) -> bool:
    # Inside a mapping class, `self.keys()` may be what `__iter__` or `__contains__` is built
    # on: dropping `.keys()` there would recurse forever.
    return node.type == "identifier" and m.text(node) in ("self", "cls")


def _no_arguments(arguments: Node) -> bool:
    return not any(child.type != "comment" for child in arguments.named_children)


def _mutates_mapping(body: Node, mapping: str, m: Match) -> bool:
    """Whether a loop body adds or removes keys of ``mapping`` (``d[k] = ...``, ``del``, pop)."""
    stack = [body]
    while stack:
        node = stack.pop()
        stack.extend(node.named_children)
        if node.type == "subscript":
            value = node.child_by_field_name("value")
            if value is not None and m.text(value) == mapping and _store_target(node) is not None:
                return True
        elif node.type == "call":
            called = bindings.method_call(node, m.file.source)
            if called is not None and called[0] == mapping and called[1] in _KEY_CHANGING:
                return True
        elif node.type == "augmented_assignment":
            left = node.child_by_field_name("left")
            if left is not None and m.text(left) == mapping:
                return True
    return False


def _short_name(node: Node, m: Match) -> str:
    """The receiver as the message may quote it: a short name or attribute, else ``""``."""
    text = m.text(node)
    if node.type in ("identifier", "attribute") and len(text) <= 30 and "\n" not in text:
        return text
    return ""


def _drop_keys_fix(m: Match, mapping: Node, call: Node) -> Fix:
    return Fix("Drop `.keys()`", (TextEdit(span_of(call), m.text(mapping)),))


def _reads_values(m: Match, scope: Node, mapping: str, key: str) -> bool:
    """Whether ``scope`` reads ``mapping[key]``: then ``.items()`` is the advice, not ``in d``."""
    stack = [scope]
    while stack:
        node = stack.pop()
        stack.extend(node.named_children)
        if node.type != "subscript":
            continue
        value = node.child_by_field_name("value")
        index = node.child_by_field_name("subscript")
        if (
            value is not None
            and index is not None
            and m.text(value) == mapping
            and m.text(index) == key
        ):
            return True
    return False


def _keys_iteration(m: Match) -> Hit | None:
    call = m.node("finding")
    mapping = m.node("mapping")
    if not _no_arguments(m.node("arguments")) or _is_self(mapping, m):
        return None
    # Only on a certain dict or Mapping: a row, a cursor result or a column collection may have
    # a `keys()` whose iteration differs from its own.
    if not bindings.is_dict(m, mapping):
        return None
    loop = call.parent
    body = m.get("body")
    if body is not None and _mutates_mapping(body, m.text(mapping), m):
        return None
    shown = _short_name(mapping, m)
    name = f"`{shown}`" if shown else "the dict"
    target = loop.child_by_field_name("left") if loop is not None else None
    where = body if body is not None else loop.parent if loop is not None else None
    if (
        target is not None
        and target.type == "identifier"
        and where is not None
        and _reads_values(m, where, m.text(mapping), m.text(target))
    ):
        key = m.text(target)
        owner = shown or "d"
        return Hit(
            span_of(call),
            message=f"The loop reads `{owner}[{key}]` for each key: iterate "
            f"`{owner}.items()` to get the key and the value together.",
        )
    return Hit(
        span_of(call),
        message=f"Iterating {name} already yields its keys; drop `.keys()`.",
        fix=_drop_keys_fix(m, mapping, call),
    )


def _keys_membership(m: Match) -> Hit | None:
    comparison = m.node("finding")
    mapping = m.node("mapping")
    call = m.node("keys")
    if len(comparison.named_children) != 2 or not _no_arguments(m.node("arguments")):
        return None
    if _is_self(mapping, m) or not bindings.is_dict(m, mapping):
        return None
    shown = _short_name(mapping, m)
    where = f"`in {shown}`" if shown else "`in` on the dict"
    return Hit(
        span_of(comparison),
        message=f"{where} already tests the keys (a hash lookup); drop `.keys()`.",
        fix=_drop_keys_fix(m, mapping, call),
    )


RULES = [
    Rule(
        id="PY003",
        name="range-len-index",
        language="python",
        query="PY003.scm",
        message="Use enumerate or zip instead of indexing with range(len(...)).",
        skill_id="python.iteration",
        lesson_id="enumerate-zip",
        quiet_in_tests=True,
        severity=Severity.HINT,
        check=_index_loop,
        doc="""
## What it does
Flags `for i in range(len(xs)):` loops whose body reads `xs[i]`. When the body only uses `i`
to index `xs` and other sequences, it suggests `zip`; otherwise `enumerate`.

Where the index only reads `xs[i]`, it says to iterate `xs` directly; where the one statement
rewrites each item (`xs[i] = f(xs[i])`), it suggests `xs[:] = [f(x) for x in xs]`; `zip` comes
with `strict=True` (3.10+), which fails on a length mismatch as the index did.

It stays silent when `i` takes part in arithmetic (`xs[i + 1]`), when the body nests another
`range` loop (a grid walk or a transposition needs both indexes), when the body changes the
length of `xs` (`append`, `pop`, `del`), in tests, when `range`
has a start or a step, and when `xs` is known to be a dict. In files that use pandas, NumPy and
the like it speaks only when `xs` is known to be a list, tuple or str: a pandas `Series`
indexes by label and a `DataFrame` iterates its column names.

## Why is this bad?
Index bookkeeping hides what the loop is about and invites off-by-one mistakes; `enumerate`
and `zip` say it directly and hand over each item without a separate `xs[i]` lookup.

## Example
```python
for i in range(len(names)):
    print(i, names[i])

for i in range(len(names)):
    print(names[i], ages[i])
```

## Use instead
```python
for i, name in enumerate(names):
    print(i, name)

for name, age in zip(names, ages):
    print(name, age)
```
If `ages` is shorter than `names`, the indexed loop raises `IndexError` where `zip` stops
quietly at the shorter one; pass `strict=True` (Python 3.10+) to get an error instead.

## References
- https://docs.python.org/3/library/functions.html#enumerate
- https://docs.python.org/3/library/functions.html#zip
""",
    ),
    Rule(
        id="PY010",
        name="dict-keys-iteration",
        language="python",
        query="PY010.scm",
        message="Iterating a dict already yields its keys; drop `.keys()`.",
        skill_id="python.iteration",
        lesson_id="dict-iteration",
        quiet_in_tests=True,
        noqa_codes=("SIM118",),
        severity=Severity.HINT,
        fix_title="Drop `.keys()`",
        check=_keys_iteration,
        fix_safety="Safe: offered only where the value is certainly a dict or a Mapping, whose "
        "iteration yields exactly what keys() yields.",
        doc="""
## What it does
Flags `.keys()` with no arguments as the iterable of a `for` loop or a comprehension, on a
value that is certainly a dict: a literal, `dict()`, a comprehension, `vars()`,
`defaultdict`/`Counter`/`OrderedDict`, `**kwargs`, or a name annotated `dict`/`Mapping` (every
binding that reaches the loop must agree). When the loop reads `d[k]` for each key, it
suggests `.items()` instead.

It stays silent on anything else: database rows, cursor results and a library's column
collections have a `keys()` whose iteration differs from their own (a row iterates its
values). Also when the loop body adds or removes keys (iterate over `list(d)` then), and on
`self.keys()` (a mapping class may build `__iter__` on it).

## Why is this bad?
Iterating a dict yields its keys, so `.keys()` adds a method call and a view object and says
nothing more.

## Example
```python
for name in scores.keys():
    print(name)
```

## Use instead
```python
for name in scores:
    print(name)
```

## References
- https://docs.python.org/3/library/stdtypes.html#mapping-types-dict
- https://docs.python.org/3/library/stdtypes.html#dict-views
""",
    ),
    Rule(
        id="PY011",
        name="dict-keys-membership",
        language="python",
        query="PY011.scm",
        message="`in` on a dict already tests its keys; drop `.keys()`.",
        skill_id="python.data-structures",
        lesson_id="key-in-dict",
        quiet_in_tests=True,
        noqa_codes=("SIM118",),
        severity=Severity.HINT,
        fix_title="Drop `.keys()`",
        check=_keys_membership,
        fix_safety="Safe: offered only where the value is certainly a dict or a Mapping, whose "
        "`in` tests exactly the keys.",
        doc="""
## What it does
Flags `key in d.keys()` and `key not in d.keys()` where `d` is certainly a dict (a literal,
`dict()`, a comprehension, `vars()`, `defaultdict`/`Counter`/`OrderedDict`, `**kwargs`, or
annotated `dict`/`Mapping`).

It stays silent on anything else: for a database row `in` tests the values, and a library's
column collection or a cursor result may answer `in` differently from its `keys()`. Also on
`self.keys()`, which a mapping class may use to implement `__contains__` itself.

## Why is this bad?
For a dict both forms are hash lookups, but `.keys()` builds a view object first and reads as
if a list were being searched.

## Example
```python
if name in scores.keys():
    ...
```

## Use instead
```python
if name in scores:
    ...
```

## References
- https://docs.python.org/3/library/stdtypes.html#mapping-types-dict
- https://docs.python.org/3/reference/expressions.html#membership-test-operations
""",
    ),
]
