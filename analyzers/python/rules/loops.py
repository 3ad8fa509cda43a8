"""Rules about repeated work inside loops: lookups and copies that run on every iteration."""

from __future__ import annotations

from lessonlens.analyzers.match import Match, span_of
from lessonlens.analyzers.model import Fix, Hit, Rule, Severity, TextEdit
from lessonlens.analyzers.parsing import Node
from lessonlens.analyzers.python import facts

# Modules of small C functions, where the lookup is a visible share of the call's cost. For
# anything heavier (os.path.join, I/O, numpy on scalars) hoisting measured at 0.5-2.5% on
# CPython 3.11: right in letter, useless in practice.
_CHEAP_MODULES = frozenset(
    {
        "math",
        "cmath",
        "operator",
        "bisect",
        "heapq",
        "random",
        "struct",
        "binascii",
        "unicodedata",
        "itertools",
    }
)

# Functions of those modules written in Python, which cost far more than the lookup.
_SLOW_FUNCTIONS = frozenset(
    {
        f"random.{name}"
        for name in (
            "randint",
            "randrange",
            "choice",
            "choices",
            "sample",
            "shuffle",
            "uniform",
            "gauss",
            "normalvariate",
            "triangular",
        )
    }
)

# Other calls that may share a tight loop's statement without drowning the lookup's cost.
_CHEAP_METHODS = frozenset({"append", "appendleft", "add", "extend"})
_CHEAP_BUILTINS = frozenset(
    {"abs", "int", "float", "complex", "len", "min", "max", "round", "divmod", "pow", "ord", "chr"}
)


def _cheap_call(m: Match, function: Node) -> bool:
    if function.type == "attribute":
        method = function.child_by_field_name("attribute")
        return method is not None and m.text(method) in _CHEAP_METHODS
    return function.type == "identifier" and m.text(function) in _CHEAP_BUILTINS


def _qualified(m: Match, function: Node, root: Node, imports: dict[str, str]) -> str:
    """``r.randint`` after ``import random as r`` is ``random.randint``."""
    text = m.text(function)
    return imports[m.text(root)] + text[len(m.text(root)) :]


def _module_call(m: Match, statement: Node) -> Node | None:
    """The first ``module.attr(...)`` callee in ``statement`` (a small subtree)."""
    imports = facts.imports(m)
    stack = [statement]
    found: Node | None = None
    while stack:
        node = stack.pop()
        if node.type == "lambda":
            continue  # runs when called, not necessarily once per iteration
        if node.type == "call":
            function = node.child_by_field_name("function")
            root = function
            while root is not None and root.type == "attribute":
                root = root.child_by_field_name("object")
            # ``import math`` / ``import math as m`` map a name to the bare module name; a
            # from-import always maps to a dotted one (``from math import sqrt``), and
            # ``Cls.method`` on an imported class is not a module lookup.
            if (
                function is not None
                and function.type == "attribute"
                and root is not None
                and root.type == "identifier"
                and imports.get(m.text(root)) in _CHEAP_MODULES
                and _qualified(m, function, root, imports) not in _SLOW_FUNCTIONS
            ):
                found = found or function
            elif function is None or not _cheap_call(m, function):
                # Another call does real work (``self.assertEqual``, ``f.write``): next to it
                # the lookup is noise.
                return None
        stack.extend(reversed(node.named_children))
    return found


def _lookup_in_tight_loop(m: Match) -> Hit | None:
    loop = m.node("finding")
    if facts.enclosing_scope(loop).type != "function_definition":
        return None  # at module level names are globals either way: binding saves nothing
    function = _module_call(m, m.node("statement"))
    if function is None:
        return None
    dotted = m.text(function)
    root, _, rest = dotted.partition(".")
    local = rest.rpartition(".")[2]
    # ``random = random.random`` would make the module name local, and unbound on its first
    # use: pick a name that clashes with nothing the loop reads.
    if local == root or local in facts.names_read(loop, m.file.source):
        local = f"{root}_{local}"
    return Hit(
        span_of(function),
        message=f"`{dotted}` is looked up on every iteration; "
        f"bind `{local} = {dotted}` before the loop.",
    )


# Calls that only read a list they are given; anything else may keep a reference to it.
_READING_CALLS = frozenset(
    {"len", "sum", "min", "max", "sorted", "any", "all", "print", "str", "repr", "tuple", "set"}
)


def _shared_in_loop(m: Match, loop: Node, concat: Node, name: bytes) -> bool:
    """Whether the loop hands the list to someone else: ``paths.append(path)``, ``yield path``.

    Then ``path = path + [node]`` makes a new list on purpose, so each holder keeps its own
    snapshot; ``extend`` would make them all share one list.
    """
    source = m.file.source
    body = loop.child_by_field_name("body")
    stack = [body] if body is not None else []
    while stack:
        node = stack.pop()
        if node.id == concat.id:
            continue
        if node.type != "identifier":
            stack.extend(node.named_children)
            continue
        if source[node.start_byte : node.end_byte] != name:
            continue
        parent = node.parent
        if parent is None:
            continue
        first = parent.child(0)
        if parent.type in ("attribute", "subscript") and first is not None and first.id == node.id:
            continue  # path.count(x), path[-1]: reads it
        if parent.type in (
            "comparison_operator",
            "binary_operator",
            "boolean_operator",
            "not_operator",
            "if_statement",
            "while_statement",
            "elif_clause",
        ):
            continue
        if parent.type == "argument_list" and parent.parent is not None:
            function = parent.parent.child_by_field_name("function")
            if function is not None and m.text(function) in _READING_CALLS:
                continue
        return True
    return False


def _leaves_loop_after(statement: Node) -> bool:
    """``lst = lst + rest`` followed by ``break``: it runs once, so nothing is quadratic."""
    sibling = statement.next_named_sibling
    while sibling is not None:
        if sibling.type in ("break_statement", "return_statement", "raise_statement"):
            return True
        sibling = sibling.next_named_sibling
    return False


def _list_concat_in_loop(m: Match) -> Hit | None:
    finding = m.node("finding")
    target = m.text(m.node("target"))
    loop = facts.enclosing_loop(finding)
    if loop is None or facts.known_kind(m, target, loop) != "list":
        return None
    if _leaves_loop_after(facts.statement_of(finding)):
        return None
    item = m.get("item")
    if item is None:
        if _shared_in_loop(m, loop, finding, target.encode()):
            return None
        return Hit(
            span_of(finding),
            message=f"`{target} = {target} + ...` copies the whole list on every iteration; "
            f"use `{target}.extend(...)`.",
        )
    if item.type in ("list_splat", "parenthesized_list_splat", "comment"):
        return None
    fix = Fix(
        f"Use {target}.append(...)",
        (TextEdit(span_of(finding), f"{target}.append({m.text(item)})"),),
    )
    return Hit(
        span_of(finding),
        message=f"`{target} += [...]` builds a one-item list each time; "
        f"use `{target}.append(...)`.",
        fix=fix,
    )


RULES = [
    Rule(
        id="PY020",
        name="lookup-in-tight-loop",
        language="python",
        query="PY020.scm",
        message="A module attribute is looked up on every iteration; bind it before the loop.",
        skill_id="python.loops",
        lesson_id="hoist-lookups",
        severity=Severity.HINT,
        check=_lookup_in_tight_loop,
        opt_in=True,
        doc="""
## What it does
Inside a function, flags a `for` loop whose body is one simple statement that calls a small C
function through an imported module: `math.sqrt(x)`, `operator.mul(a, b)`, `random.random()`
(modules `math`, `cmath`, `operator`, `bisect`, `heapq`, `random`, `struct`, `binascii`,
`unicodedata`, `itertools`). Method calls on local objects (`out.append`), comprehensions,
loops at module level and loops that `print` are left alone.

**Opt-in**: it runs only when selected by id or name (`--select PY020`, or `select` in the
configuration or the editor settings). Since Python 3.11 specialises both lookups, the gain
is 8-20% of a loop that does almost nothing else; judged on real code, no hint was worth a
reader's time. Select it for inner loops you have profiled. So are heavier functions
(`os.path.join`, anything doing I/O, NumPy on single values): there the call costs so much
more than the lookup that hoisting it changes nothing.

## Why is this bad?
`math.sqrt` is two lookups, a global name and a module attribute, repeated on every
iteration; a local variable is one indexed load. Be honest about the size of the gain: since
Python 3.11 the adaptive interpreter specialises both lookups, so they are cheap. Timed with
`timeit` on CPython 3.11 over 10,000 iterations, binding `sqrt = math.sqrt` first made the
loop about 8-20% faster, while hoisting `os.path.join` gained 0.5-2.5% (on 3.10: 25-35% and
about 8%). It pays only in hot loops around cheap functions; elsewhere, prefer readability.

## Example
```python
def roots(xs):
    out = []
    for x in xs:
        out.append(math.sqrt(x))
    return out
```

## Use instead
```python
def roots(xs):
    sqrt = math.sqrt
    out = []
    for x in xs:
        out.append(sqrt(x))
    return out
```
A comprehension (`[math.sqrt(x) for x in xs]`) or `list(map(math.sqrt, xs))` is often
clearer and faster still. Hoisting freezes the binding: a test that patches `math.sqrt` while
the loop runs no longer reaches it.

## References
- https://docs.python.org/3/whatsnew/3.11.html#pep-659-specializing-adaptive-interpreter
- https://docs.python.org/3/library/timeit.html
""",
    ),
    Rule(
        id="PY021",
        name="list-concat-in-loop",
        language="python",
        query="PY021.scm",
        message="Growing a list by concatenation in a loop; append or extend it in place.",
        skill_id="python.data-structures",
        lesson_id="list-extend",
        quiet_in_tests=True,
        severity=Severity.INFORMATION,
        fix_title="Use list.append",
        check=_list_concat_in_loop,
        doc="""
## What it does
Inside a loop, flags `lst = lst + other` and `lst += [x]` when `lst` is known to hold a list
(it was assigned a list in the same scope). NumPy arrays, strings and tuples behave
differently, so variables of unknown type are left alone.

## Why is this bad?
`lst = lst + other` builds a new list and copies every item into it on each iteration: the
loop is quadratic in the final length. `lst += [x]` extends in place, but builds a throwaway
one-item list each time; `append` does not.

## Example
```python
result = []
for batch in batches:
    result = result + batch
for x in extra:
    result += [x]
```

## Use instead
```python
result = []
for batch in batches:
    result.extend(batch)
for x in extra:
    result.append(x)
```
The quick fix rewrites `lst += [x]` as `lst.append(x)`, which is the same in-place mutation.
It is not offered for `lst = lst + other`: that *rebinds* `lst` to a new list, so any other
reference to the old list (an argument, an attribute) does not see the new items, while
`extend` would change it in place. Check that no one else holds the list first.

## References
- https://docs.python.org/3/tutorial/datastructures.html#more-on-lists
- https://docs.python.org/3/library/stdtypes.html#mutable-sequence-types
- https://wiki.python.org/moin/TimeComplexity
""",
    ),
]
