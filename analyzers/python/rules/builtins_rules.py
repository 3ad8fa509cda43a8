"""Rules about builtins and standard-library calls: re in loops, sorted for one end, len tests."""

from __future__ import annotations

from lessonlens.analyzers.match import Match, span_of
from lessonlens.analyzers.model import Fix, Hit, Rule, Severity, TextEdit
from lessonlens.analyzers.parsing import Node
from lessonlens.analyzers.python import bindings, facts, hotness

# --- PY006 regex-in-loop ---------------------------------------------------------------------


def _is_literal_pattern(node: Node) -> bool:
    """A string literal with no f-string interpolation, concatenated or not."""
    parts = node.named_children if node.type == "concatenated_string" else [node]
    return all(
        part.type == "string"
        and not any(child.type == "interpolation" for child in part.named_children)
        for part in parts
    )


def _runs_per_iteration(node: Node) -> bool:
    """Whether ``node`` runs on every turn of a loop or comprehension in its own scope.

    Unlike ``facts.enclosing_loop(include_comprehensions=True)``, the first iterable of a
    comprehension does not count: ``[m for m in re.finditer("x", s)]`` calls finditer once.
    A ``while`` condition does count: it is evaluated before every turn.
    """
    child = node
    current = node.parent
    from_iterable = False
    while current is not None and current.type not in facts.SCOPE_TYPES:
        if current.type in facts.LOOP_TYPES:
            repeated = {
                n.id
                for n in (
                    current.child_by_field_name("body"),
                    current.child_by_field_name("condition"),
                )
                if n is not None
            }
            if child.id in repeated:
                return True
        elif current.type == "for_in_clause":
            from_iterable = any(r.id == child.id for r in current.children_by_field_name("right"))
        elif current.type in facts.COMPREHENSION_TYPES:
            clauses = [c for c in current.named_children if c.type == "for_in_clause"]
            if not (from_iterable and clauses and clauses[0].id == child.id):
                return True
        child = current
        current = current.parent
    return False


def _regex_in_loop(m: Match) -> Hit | None:
    call = m.node("finding")
    callee = m.node("callee")
    name = m.text(m.get("function") or callee)
    # Cheapest first: most matches are `text.split(",")` outside any loop.
    if not _is_literal_pattern(m.node("pattern")) or not _runs_per_iteration(call):
        return None
    # The saving is a few hundred nanoseconds a call: worth a hint only in a loop that may run
    # many times, in code whose speed matters.
    if not hotness.hot_loop_context(m, call, comprehensions=True):
        return None
    if not facts.resolves_to(m, callee, f"re.{name}"):
        return None
    # resolves_to reads the file's imports; a parameter or local named `re` (or `search`)
    # hides the module inside its function.
    if _bound_locally(m, m.text(callee).split(".")[0], call):
        return None
    return Hit(
        span_of(call),
        message=f"`{m.text(callee)}` with a constant pattern in a loop; "
        "compile it once with re.compile before the loop.",
    )


# --- PY007 sorted-for-min-max ----------------------------------------------------------------


def _binds_name(scope: Node, name: bytes, source: bytes) -> bool:
    """Whether the top-level statements (or parameters) of ``scope`` bind ``name``."""
    if scope.type in ("function_definition", "lambda"):
        parameters = scope.child_by_field_name("parameters")
        for parameter in parameters.named_children if parameters is not None else ():
            pname = parameter.child_by_field_name("name") or (
                parameter.named_children[0] if parameter.named_children else parameter
            )
            if source[pname.start_byte : pname.end_byte] == name:
                return True
    if scope.type == "lambda":
        # Its body is an expression: nothing else in it binds a name.
        return False
    if scope.type == "module":
        statements = scope.named_children
    else:
        body = scope.child_by_field_name("body")
        statements = body.named_children if body is not None else []
    for statement in statements:
        definition = statement
        if definition.type == "decorated_definition":
            definition = definition.child_by_field_name("definition") or definition
        if definition.type in ("function_definition", "class_definition"):
            defined = definition.child_by_field_name("name")
            if defined is not None and source[defined.start_byte : defined.end_byte] == name:
                return True
        elif statement.type == "expression_statement" and statement.named_children:
            assignment = statement.named_children[0]
            left = assignment.child_by_field_name("left")
            if (
                assignment.type in ("assignment", "augmented_assignment")
                and left is not None
                and source[left.start_byte : left.end_byte] == name
            ):
                return True
    return False


def _bound_locally(m: Match, name: str, at: Node) -> bool:
    """Whether a function, lambda or class around ``at`` binds ``name`` at its top level."""
    encoded = name.encode()
    scope = facts.enclosing_scope(at)
    while scope.type != "module":
        if _binds_name(scope, encoded, m.file.source):
            return True
        outer = facts.enclosing_scope(scope)
        if outer.id == scope.id:  # a fragment whose root is not a module
            break
        scope = outer
    return False


def _is_builtin(m: Match, name: str, at: Node) -> bool:
    """Whether ``name`` at ``at`` is the builtin: not imported, defined or assigned around it."""
    if name not in facts.BUILTIN_NAMES or name in facts.imports(m):
        return False
    if _bound_locally(m, name, at):
        return False
    cache_key = f"python.module-binds.{name}"
    bound = m.file.facts.get(cache_key)
    if bound is None:
        bound = _binds_name(m.file.root, name.encode(), m.file.source)
        m.file.facts[cache_key] = bound
    return not bound


def _reverse_flag(arguments: Node, m: Match) -> bool | None:
    """``reverse=`` as a literal bool; ``None`` when the call has anything we cannot read."""
    positional = 0
    reverse = False
    for argument in arguments.named_children:
        if argument.type == "comment":
            continue
        if argument.type == "keyword_argument":
            key = argument.child_by_field_name("name")
            value = argument.child_by_field_name("value")
            if key is None or value is None:
                return None
            keyword = m.text(key)
            if keyword == "reverse":
                if value.type not in ("true", "false"):
                    return None
                reverse = value.type == "true"
            elif keyword != "key":
                return None
        elif argument.type in ("list_splat", "dictionary_splat"):
            return None
        else:
            positional += 1
    return reverse if positional == 1 else None


def _sorted_one_end(m: Match) -> Hit | None:
    subscript = m.node("finding")
    if len(subscript.children_by_field_name("subscript")) != 1:
        return None
    index = m.text(m.node("index")).replace(" ", "")
    if index not in ("0", "-1"):
        return None
    reverse = _reverse_flag(m.node("arguments"), m)
    if reverse is None or not _is_builtin(m, "sorted", subscript):
        return None
    smallest = (index == "0") != reverse
    name = "min" if smallest else "max"
    which = "smallest" if smallest else "largest"
    if index == "-1":
        # A stable sort puts the *last* of several tied items at the end, while min()/max()
        # return the *first*: with a key, ties between different items are common, and the
        # rewrite would pick another one.
        if _has_key(m.node("arguments"), m):
            return None
        return Hit(
            span_of(subscript),
            message=f"Use `{name}()` to get the {which} item instead of sorting everything "
            f"(of several equal {which} items it returns the first, where this returns the last).",
        )
    return Hit(
        span_of(subscript),
        message=f"Use `{name}()` to get the {which} item instead of sorting everything.",
    )


def _has_key(arguments: Node, m: Match) -> bool:
    return any(
        a.type == "keyword_argument"
        and (key := a.child_by_field_name("name")) is not None
        and m.text(key) == "key"
        for a in arguments.named_children
    )


# --- PY008 len-comparison --------------------------------------------------------------------

# (operator with len() on the left, number) -> does the test mean "is empty"?
_MEANS_EMPTY = {
    ("==", "0"): True,
    ("<=", "0"): True,
    ("<", "1"): True,
    ("!=", "0"): False,
    (">", "0"): False,
    (">=", "1"): False,
}
_FLIPPED = {"<": ">", ">": "<", "<=": ">=", ">=": "<=", "==": "==", "!=": "!="}
_CONDITION_PARTS = frozenset({"parenthesized_expression", "not_operator", "boolean_operator"})
_CONDITION_OWNERS = frozenset({"if_statement", "elif_clause", "while_statement"})
_BUILTIN_SIZED = frozenset({"list", "dict", "set", "str", "tuple", "bytes"})


def _is_condition(node: Node) -> bool:
    """Whether only the truth value of ``node`` matters: an if/elif/while test, or part of one."""
    child = node
    current = node.parent
    while current is not None and current.type in _CONDITION_PARTS:
        child = current
        current = current.parent
    if current is None or current.type not in _CONDITION_OWNERS:
        return False
    condition = current.child_by_field_name("condition")
    return condition is not None and condition.id == child.id


def _truthiness_unreliable(m: Match) -> bool:
    if facts.imports_array_library(m):
        return True
    return facts.imports_own_truthiness(m)


def _own_classes_likely(m: Match, subject: Node, at: Node) -> bool:
    """Whether ``subject`` may well be an object of the package's own classes.

    In a package's own modules (they import their siblings relatively), a sized object is
    often one of its classes, which may define truthiness apart from ``len`` (SQLAlchemy's
    clause lists raise on ``bool()``); a parameter annotated with a class that is not a
    builtin container is one for sure. Then only a value known to be a builtin is advised on.
    """
    if subject.type == "identifier":
        reach = bindings.reaching(m, m.text(subject), at) or []
        for binding in reach:
            annotation = binding.node.child_by_field_name("type")
            if (
                annotation is not None
                and bindings.annotation_kind(annotation, m.file.source) is None
            ):
                return True
    return "" in facts.imported_roots(m)


def _length_compared_nearby(m: Match, comparison: Node, subject: str) -> bool:
    owner = comparison.parent
    while owner is not None and owner.type not in _CONDITION_OWNERS:
        owner = owner.parent
    if owner is None:
        return False
    if owner.type == "elif_clause" and owner.parent is not None:
        owner = owner.parent
    statement = owner
    conditions: list[Node] = []
    for node in (statement.prev_named_sibling, statement, statement.next_named_sibling):
        if node is None or node.type not in _CONDITION_OWNERS:
            continue
        conditions.extend(
            c.child_by_field_name("condition") or c
            for c in (node, *(e for e in node.named_children if e.type == "elif_clause"))
        )
    needle = f"len({subject})".replace(" ", "")
    stack = list(conditions)
    while stack:
        node = stack.pop()
        stack.extend(node.named_children)
        if node.type != "comparison_operator" or node.id == comparison.id:
            continue
        operands = [c for c in node.named_children if c.type != "comment"]
        texts = [m.text(o).replace(" ", "") for o in operands]
        if needle not in texts or len(operands) != 2:
            continue
        operator = next((m.text(c) for c in node.children_by_field_name("operators")), "")
        number = texts[1 - texts.index(needle)]
        if texts.index(needle) == 1:
            operator = _FLIPPED.get(operator, "")
        if _MEANS_EMPTY.get((operator, number)) is None:
            return True  # also compared with another count: len() reads consistently
    return False


def _split_with_separator(m: Match, subject: Node) -> bool:
    reach = bindings.reaching(m, m.text(subject), subject) or []
    for binding in reach:
        right = (
            binding.node.child_by_field_name("right") if binding.node.type == "assignment" else None
        )
        if right is None or right.type != "call":
            return False
        function = right.child_by_field_name("function")
        arguments = right.child_by_field_name("arguments")
        method = function.child_by_field_name("attribute") if function is not None else None
        given = [a for a in arguments.named_children if a.type != "comment"] if arguments else []
        if method is None or m.text(method) not in ("split", "rsplit") or not given:
            return False
    return bool(reach)


def _len_comparison(m: Match) -> Hit | None:
    comparison = m.node("finding")
    operands = [c for c in comparison.named_children if c.type != "comment"]
    if len(operands) != 2:
        return None
    operator = next(
        (m.text(c) for c in comparison.children_by_field_name("operators")),
        "",
    )
    if operands[0].type == "integer":
        operator = _FLIPPED.get(operator, "")
    means_empty = _MEANS_EMPTY.get((operator, m.text(m.node("number"))))
    if means_empty is None:
        return None
    subject = m.node("subject")
    if subject.type in ("list_splat", "dictionary_splat", "keyword_argument"):
        return None
    if not _is_condition(comparison):
        return None
    # `if len(x) == 0: ... elif len(x) == 1:` compares one length with several counts side by
    # side; `not x` would break that reading for no gain.
    if _length_compared_nearby(m, comparison, m.text(subject)):
        return None
    # `parts = text.split("\n\n")` always has an item: the test can never be false, and the
    # thing to do is drop it, not respell it.
    if subject.type == "identifier" and not means_empty and _split_with_separator(m, subject):
        return None
    kind = (
        facts.known_kind(m, m.text(subject), comparison)
        if subject.type in ("identifier", "attribute")
        else facts.value_kind(subject, m.file.source)
    )
    if kind not in _BUILTIN_SIZED and (
        _truthiness_unreliable(m) or _own_classes_likely(m, subject, comparison)
    ):
        return None
    name = m.text(subject)
    replacement = f"not {name}" if means_empty else name
    fix = None
    if kind in _BUILTIN_SIZED and subject.type == "identifier":
        fix = Fix(f"Use `{replacement}`", (TextEdit(span_of(comparison), replacement),))
    if subject.type in ("identifier", "attribute"):
        message = (
            f"Use `{replacement}`: an empty container is falsy."
            if means_empty
            else f"Test `{replacement}` itself: a non-empty container is truthy."
        )
    else:
        message = None
    return Hit(span_of(comparison), message=message, fix=fix)


RULES = [
    Rule(
        id="PY006",
        name="regex-in-loop",
        language="python",
        query="PY006.scm",
        message="Regular expression used with a constant pattern in a loop; compile it once.",
        skill_id="python.regex",
        lesson_id="compile-regex",
        severity=Severity.INFORMATION,
        check=_regex_in_loop,
        opt_in=True,
        doc="""
## What it does
Flags `re.match`, `re.search`, `re.fullmatch`, `re.findall`, `re.finditer`, `re.sub`,
`re.subn` and `re.split` called with a string-literal pattern inside a loop or a
comprehension. `import re as r` and `from re import search` are followed; a variable that
happens to be called `re` is not the module.

It stays silent when the pattern is not a literal and outside loops (including the first
iterable of a comprehension, which runs once), in loops over a literal or a constant `range`,
in `input()` menus, in tests and in files that time their own variants.

**Opt-in**: it runs only when selected by id or name (`--select PY006`, or `select` in the
configuration or the editor settings). Judged on real code, its hints were true but rarely
worth acting on: `re` caches compiled patterns, so what a loop saves is a few hundred
nanoseconds a call (measured: `re.match` 440 ns against 161 ns compiled, on a short string).
Select it for code you know is hot: log parsers, tokenizers, per-row transforms.

## Why is this bad?
Less than it looks: `re` caches the patterns it compiles, so the loop does not recompile. What
each call still pays is the module-level function's argument handling and the cache lookup
(keyed on the pattern, its type and the flags). That is small, and matters in hot loops over
many short strings. A compiled pattern also gives the expression a name.

## Example
```python
for line in lines:
    if re.match(r"\\d{4}-\\d{2}-\\d{2}", line):
        dates.append(line)
```

## Use instead
```python
DATE = re.compile(r"\\d{4}-\\d{2}-\\d{2}")
for line in lines:
    if DATE.match(line):
        dates.append(line)
```

## References
- https://docs.python.org/3/library/re.html#re.compile
- https://docs.python.org/3/howto/regex.html#module-level-functions
""",
    ),
    Rule(
        id="PY007",
        name="sorted-for-min-max",
        language="python",
        query="PY007.scm",
        message="Sorting everything to take one end; use min() or max().",
        skill_id="python.builtins",
        lesson_id="min-max",
        quiet_in_tests=True,
        noqa_codes=("FURB192",),
        severity=Severity.INFORMATION,
        check=_sorted_one_end,
        doc="""
## What it does
Flags `sorted(x)[0]` and `sorted(x)[-1]`, also with `key=` and a literal `reverse=`, and
suggests `min(x)` or `max(x)` (with the same `key=`).

It stays silent for other indexes and slices (`sorted(x)[:3]`), for `reverse=` with a value
that is not a literal, where `sorted` is imported, defined or assigned in the file, and for
`sorted(x, key=f)[-1]`: a stable sort puts the *last* of several items with the same key at
the end, while `max(x, key=f)` returns the *first*, so the rewrite would pick another item
whenever keys tie. (`[0]`, and `[0]` with `reverse=True`, pick the same item as `min`/`max`.)

## Why is this bad?
`sorted` builds a new list and sorts it, O(n log n) time and O(n) memory, to read a single
item; `min` and `max` make one pass and keep nothing.

No quick fix is offered, because the two are not interchangeable in every case: on an empty
input `sorted(x)[0]` raises `IndexError` and `min(x)` raises `ValueError` (or returns its
`default=`); and when several items tie, `sorted(x)[-1]` is the *last* of them while `max(x)`
returns the *first* (`sorted(x)[0]` and `min(x)` agree: both give the first).

## Example
```python
cheapest = sorted(offers, key=lambda o: o.price)[0]
newest = sorted(dates)[-1]
```

## Use instead
```python
cheapest = min(offers, key=lambda o: o.price)
newest = max(dates)
```

## References
- https://docs.python.org/3/library/functions.html#min
- https://docs.python.org/3/library/functions.html#max
- https://docs.python.org/3/howto/sorting.html#sort-stability-and-complex-sorts
""",
    ),
    Rule(
        id="PY008",
        name="len-comparison",
        language="python",
        query="PY008.scm",
        message="Test the container itself: empty containers are falsy.",
        skill_id="python.idioms",
        lesson_id="truthiness",
        quiet_in_tests=True,
        noqa_codes=("PLC1802",),
        severity=Severity.HINT,
        check=_len_comparison,
        doc="""
## What it does
Flags `len(x) == 0`, `len(x) != 0`, `len(x) > 0`, `len(x) >= 1`, `len(x) < 1`,
`len(x) <= 0` and their mirrored forms (`0 == len(x)`) used as the condition of an `if`,
`elif` or `while`, alone or inside `not`, `and` and `or`.

In files that import NumPy, pandas, PyTorch and the like, ElementTree, lxml, docutils,
BeautifulSoup, h5py or xarray, it speaks only when `x` is known to be a builtin container:
those libraries' objects do not use `len` for their truth value (an array raises, an
ElementTree element warns, a docutils node or a BeautifulSoup tag is always true). The same
holds in a package's own modules (they import their siblings relatively), where a sized object
is often one of the package's classes (SQLAlchemy's clause lists raise on `bool()`), and for a
parameter annotated with a class that is not a builtin container. The quick fix is offered
only when `x` is a plain name known to be a list, dict, set, tuple, str or bytes.

It also stays silent where the same length is compared with another count beside it
(`if len(x) == 0: ... elif len(x) == 1:` reads consistently with `len`), where `x` came from
`str.split(sep)` (never empty: the test is the bug, not its spelling), and in tests.

## Why is this bad?
For builtin containers and strings, truthiness *is* the length test, and PEP 8 recommends
relying on it: `if not items:` reads as "if there are no items".

## Example
```python
if len(items) == 0:
    return None
while len(queue) > 0:
    handle(queue.pop())
```

## Use instead
```python
if not items:
    return None
while queue:
    handle(queue.pop())
```

## References
- https://peps.python.org/pep-0008/#programming-recommendations
- https://docs.python.org/3/library/stdtypes.html#truth-value-testing
""",
    ),
]
