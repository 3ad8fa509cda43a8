"""Rules about scanning an array inside a loop: membership tests and finding an item by key."""

from __future__ import annotations

from lessonlens.analyzers.javascript import facts
from lessonlens.analyzers.javascript.tree import STATEMENT_LOOPS as _STATEMENT_LOOPS
from lessonlens.analyzers.javascript.tree import (
    declared_inside,
    exits_loop,
    identifiers,
    pattern_names,
    walk,
)
from lessonlens.analyzers.javascript.tree import parameters as _parameters
from lessonlens.analyzers.javascript.tree import plain_name as _plain_name
from lessonlens.analyzers.javascript.tree import repeated_part as _repeated_part
from lessonlens.analyzers.javascript.tree import results as _results
from lessonlens.analyzers.javascript.tree import small_receiver as _small_receiver
from lessonlens.analyzers.javascript.tree import unwrapped as _value
from lessonlens.analyzers.match import Match, span_of
from lessonlens.analyzers.model import Applicability, Fix, Hit, Rule, Severity, TextEdit
from lessonlens.analyzers.parsing import Node

LONG_LITERAL = 32
_DERIVED_METHODS = frozenset({"map", "filter", "flatMap"})
_OBJECT_LISTS = frozenset({"keys", "values", "entries"})


def _derived_from_data(m: Match, value: Node) -> bool:
    """``xs.map(...)``, ``xs.filter(...)``, ``Object.keys(x)``, ``Array.from(x)``: as long as x."""
    if value.type != "call_expression":
        return False
    callee = value.child_by_field_name("function")
    if callee is None or callee.type != "member_expression":
        return False
    target = callee.child_by_field_name("object")
    method = callee.child_by_field_name("property")
    if target is None or method is None:
        return False
    name = m.text(method)
    if target.type == "identifier" and m.text(target) == "Object":
        return name in _OBJECT_LISTS
    if target.type == "identifier" and m.text(target) == "Array":
        return name == "from"
    if name in _DERIVED_METHODS:
        return (
            not _small_receiver(m, target)
            and _value(target) is not None
            and (
                _value(target).type != "array"  # type: ignore[union-attr]
            )
        )
    return False


def _membership(m: Match, call: Node) -> Node | None:
    """The expression a membership test is: ``a.includes(x)``, or ``a.indexOf(x) !== -1``.

    None when the call is ``indexOf`` used for the position.
    """
    callee = call.child_by_field_name("function")
    method = callee.child_by_field_name("property") if callee is not None else None
    if method is None:
        return None
    if m.text(method) == "includes":
        return call
    parent = call.parent
    if parent is None or parent.type != "binary_expression":
        return None
    other = parent.child_by_field_name(
        "right" if parent.child_by_field_name("left") == call else "left"
    )
    operator = parent.child_by_field_name("operator")
    if other is None or operator is None:
        return None
    if (m.text(operator), m.text(other)) in _INDEX_TESTS:
        return parent
    return None


# (operator, other side) of `a.indexOf(x) OP OTHER` -> whether it asks "is x in a".
_INDEX_TESTS = {
    ("!==", "-1"): True,
    ("!=", "-1"): True,
    (">", "-1"): True,
    (">=", "0"): True,
    ("===", "-1"): False,
    ("==", "-1"): False,
    ("<", "0"): False,
}


_REFERENCES = frozenset({"identifier", "shorthand_property_identifier"})


def _references(m: Match, scope: Node, name: str, declarator: Node) -> list[Node]:
    """Identifiers named ``name`` in ``scope``, except the declaration's own."""
    target = declarator.child_by_field_name("name")
    return [
        n
        for n in walk(scope, stop=frozenset())
        if n.type in _REFERENCES and m.text(n) == name and n != target
    ]


def _method_of(m: Match, reference: Node) -> tuple[str, Node] | None:
    """``("includes", call)`` when ``reference`` is the receiver of a method call."""
    parent = reference.parent
    if parent is None or parent.type != "member_expression":
        return None
    if parent.child_by_field_name("object") != reference:
        return None
    call = parent.parent
    method = parent.child_by_field_name("property")
    if call is None or call.type != "call_expression" or method is None:
        return None
    return m.text(method), call


def _set_membership(m: Match) -> Hit | None:
    call = m.node("finding")
    name = m.text(m.node("array"))
    test = _membership(m, call)
    if test is None:
        return None
    loop = facts.hot_loop(m, call)
    if loop is None:
        return None
    declarator = facts.binding(m, name, call)
    if declarator is None or declarator.type != "variable_declarator":
        return None
    typed = declarator.child_by_field_name("type") is not None
    if loop.start_byte <= declarator.start_byte < loop.end_byte:
        return None  # built in the loop: a Set would be rebuilt too
    scope = facts.enclosing_function(declarator) or m.file.root
    statement = declarator.parent
    if (
        statement is not None
        and statement.parent is not None
        and statement.parent.type == "export_statement"
    ):
        return None
    value = _value(facts.declared_value(m, name, call))
    if value is None:
        return None
    if scope.type == "program":
        # The top level outside the units, and the function that holds the call: another
        # unit's code is never read (the editor's cache keeps a unit's findings while only
        # other units change).
        unit = facts.enclosing_function(call)
        while unit is not None and facts.enclosing_function(unit) is not None:
            unit = facts.enclosing_function(unit)
        target = declarator.child_by_field_name("name")
        found = {
            (n.start_byte, n.end_byte): n
            for n in facts.occurrences_in(m, scope, name.encode())
            if n.type in _REFERENCES and n != target
        }
        for n in _references(m, unit, name, declarator) if unit is not None else ():
            found.setdefault((n.start_byte, n.end_byte), n)
        references = [found[key] for key in sorted(found)]
        local = False
    else:
        references = _references(m, scope, name, declarator)
        local = True
    seen_list = value.type == "array" and not value.named_children
    if value.type == "array" and len(value.named_children) >= LONG_LITERAL:
        kind = "long"
    elif _derived_from_data(m, value):
        kind = "derived"
    elif seen_list:
        kind = "seen"
    else:
        return None
    tests: list[Node] = []
    pushes: list[Node] = []
    returned = False
    for reference in references:
        used = _method_of(m, reference)
        if used is None and kind == "seen" and _returned(reference):
            returned = True  # the list is the result: a Set alongside it, no fix
            continue
        if used is None:
            return None
        method, use = used
        if method in ("includes", "indexOf"):
            membership = _membership(m, use)
            if membership is None:
                return None
            tests.append(use)
        elif method == "push" and kind == "seen":
            pushes.append(use)
        else:
            return None
    if kind == "seen" and not _seen_pattern(m, call, test, pushes):
        return None
    message = None
    if kind == "seen":
        message = (
            f"`{name}` grows with the input and is scanned at every test: quadratic. "
            "Keep the seen values in a `Set` (`has`/`add`)."
        )
    fix = None
    if local and not typed and not returned:
        fix = _set_fix(m, declarator, value, tests, pushes, kind)
    return Hit(span_of(test), message=message, fix=fix)


def _returned(reference: Node) -> bool:
    parent = reference.parent
    return parent is not None and parent.type == "return_statement"


def _contains(outer: Node, inner: Node) -> bool:
    return outer.start_byte <= inner.start_byte and inner.end_byte <= outer.end_byte


def _seen_pattern(m: Match, call: Node, test: Node, pushes: list[Node]) -> bool:
    """``if (!seen.includes(x)) seen.push(x)``: the test guards a push of the same value."""
    arguments = call.child_by_field_name("arguments")
    if arguments is None or not arguments.named_children:
        return False
    tested = m.text(arguments.named_children[0])
    negated = test.parent
    condition = test
    if test.type == "call_expression":
        if negated is None or negated.type != "unary_expression" or m.text(negated)[:1] != "!":
            return False
        condition = negated
    elif _asks_presence(m, test, call):
        return False
    holder = condition.parent
    while holder is not None and holder.type == "parenthesized_expression":
        holder = holder.parent
    if holder is None or holder.type != "if_statement":
        return False
    consequence = holder.child_by_field_name("consequence")
    if consequence is None:
        return False
    for push in pushes:
        push_arguments = push.child_by_field_name("arguments")
        if (
            _contains(consequence, push)
            and push_arguments is not None
            and len(push_arguments.named_children) == 1
            and m.text(push_arguments.named_children[0]) == tested
        ):
            return True
    return False


_SET_REASON = (
    "`name` becomes a `Set`: every use was a membership test, rewritten to `has`, but code "
    "outside this function that expected an array would break; and `indexOf` never finds "
    "`NaN` where `has` does."
)


def _set_fix(
    m: Match,
    declarator: Node,
    value: Node,
    tests: list[Node],
    pushes: list[Node],
    kind: str,
) -> Fix | None:
    edits = [
        TextEdit(span_of(value), "new Set()" if kind == "seen" else f"new Set({m.text(value)})")
    ]
    for call in tests:
        callee = call.child_by_field_name("function")
        arguments = call.child_by_field_name("arguments")
        if callee is None or arguments is None:
            return None
        receiver = m.text(callee.child_by_field_name("object"))  # type: ignore[arg-type]
        has = f"{receiver}.has{m.text(arguments)}"
        membership = _membership(m, call)
        if membership is None:
            return None
        if membership != call and not _asks_presence(m, membership, call):
            has = f"!{has}"
        edits.append(TextEdit(span_of(membership), has))
    for push in pushes:
        parent = push.parent
        if parent is None or parent.type != "expression_statement":
            return None
        callee = push.child_by_field_name("function")
        method = callee.child_by_field_name("property") if callee is not None else None
        if method is None:
            return None
        edits.append(TextEdit(span_of(method), "add"))
    return Fix(
        title=f"Make `{m.text(declarator.child_by_field_name('name'))}` a Set",  # type: ignore[arg-type]
        edits=tuple(edits),
        applicability=Applicability.UNSAFE,
        reason=_SET_REASON.replace("name", m.text(declarator.child_by_field_name("name"))),  # type: ignore[arg-type]
    )


def _asks_presence(m: Match, test: Node, call: Node) -> bool:
    """Whether ``a.indexOf(x) OP k`` (a known membership test) is true when x is in a."""
    operator, other = test.child_by_field_name("operator"), _other_side(test, call)
    if operator is None or other is None:
        return False
    return _INDEX_TESTS.get((m.text(operator), m.text(other)), False)


def _other_side(binary: Node, call: Node) -> Node | None:
    left = binary.child_by_field_name("left")
    return binary.child_by_field_name("right") if left == call else left


# --- JS007 ---------------------------------------------------------------------------------

_MUTATORS = frozenset({"push", "pop", "shift", "unshift", "splice", "sort", "reverse", "fill"})
_EQUALITY = frozenset({"===", "=="})


def _key_side(m: Match, node: Node | None, parameter: str) -> bool:
    """``p.id``, ``p.meta.id``, ``p["id"]``: a key read from the callback's parameter."""
    node = _value(node)
    if node is None or node.type not in ("member_expression", "subscript_expression"):
        return False
    while node is not None and node.type in ("member_expression", "subscript_expression"):
        if node.type == "subscript_expression":
            index = node.child_by_field_name("index")
            if index is None or index.type not in ("string", "number"):
                return False
        node = node.child_by_field_name("object")
    return node is not None and node.type == "identifier" and m.text(node) == parameter


def _iteration_names(m: Match, loop: Node) -> set[str]:
    """The names that change from one iteration to the next: the loop's and its body's.

    Once per loop and walk: a loop that looks up several keys asks for each (a 39 KB method of
    typeorm walked its loop bodies once per lookup, most of a keystroke there).
    """
    cache: dict[tuple[int, int, str], set[str]] = m.file.facts.setdefault("js.iteration", {})
    key = (loop.start_byte, loop.end_byte, loop.type)
    found = cache.get(key)
    if found is None:
        found = cache[key] = _changing_names(loop)
    return found


def _changing_names(loop: Node) -> set[str]:
    if loop.type == "for_in_statement":
        names = pattern_names(loop.child_by_field_name("left"))
    elif loop.type == "for_statement":
        initializer = loop.child_by_field_name("initializer")
        names = declared_inside(initializer) if initializer is not None else set()
    elif loop.type == "call_expression":
        names = set()
        arguments = loop.child_by_field_name("arguments")
        for child in arguments.named_children if arguments is not None else []:
            if child.type in ("arrow_function", "function_expression"):
                for parameter in _parameters(child):
                    names |= pattern_names(parameter)
                break
    else:
        names = set()
    body = _repeated_part(loop)
    if body is not None:
        names |= declared_inside(body)
    return names


_ASSIGNMENTS = frozenset({"assignment_expression", "augmented_assignment_expression"})


def _mutated(m: Match, scope: Node, receiver: str) -> bool:
    """Whether ``scope`` calls a mutating method on ``receiver`` or assigns to it or into it."""
    for node in facts.occurrences_in(m, scope, receiver.encode()):
        parent = node.parent
        if parent is None:
            continue
        if parent.type == "member_expression" and parent.child_by_field_name("object") == node:
            call = parent.parent
            method = parent.child_by_field_name("property")
            if (
                call is not None
                and call.type == "call_expression"
                and call.child_by_field_name("function") == parent
                and method is not None
                and m.text(method) in _MUTATORS
            ):
                return True
        # ``receiver = …``, ``receiver[i] = …``, ``receiver.x.y += …``.
        current = node
        while parent is not None:
            if parent.type in _ASSIGNMENTS and parent.child_by_field_name("left") == current:
                return True
            if parent.type not in ("subscript_expression", "member_expression") or (
                parent.child_by_field_name("object") != current
            ):
                break
            current, parent = parent, parent.parent
    return False


_FIND_ADVICE = {
    "find": "index it once in a `Map` (key → item) and `get` it in the loop",
    "findIndex": "index it once in a `Map` (key → position) and `get` it in the loop",
    "filter": "group it once in a `Map` (key → items) and `get` it in the loop",
    "some": "collect its keys once in a `Set` and ask `has` in the loop",
}


def _find_by_key(m: Match) -> Hit | None:
    call, callback = m.node("finding"), m.node("callback")
    # The shape first (cheap); whether a hot loop repeats it after.
    parameters = _parameters(callback)
    if len(parameters) != 1:
        return None
    parameter = _plain_name(m, parameters[0])
    if parameter is None:
        return None
    results = _results(callback)
    body = callback.child_by_field_name("body")
    if len(results) != 1 or body is None:
        return None
    if body.type == "statement_block":
        statements = [c for c in body.named_children if c.type != "comment"]
        if len(statements) != 1 or statements[0].type != "return_statement":
            return None
    test = results[0]
    if test.type != "binary_expression":
        return None
    operator = test.child_by_field_name("operator")
    if operator is None or m.text(operator) not in _EQUALITY:
        return None
    left, right = test.child_by_field_name("left"), test.child_by_field_name("right")
    if _key_side(m, left, parameter):
        other = right
    elif _key_side(m, right, parameter):
        other = left
    else:
        return None
    if other is None or parameter in identifiers(other):
        return None
    loop = facts.hot_loop(m, call)
    if loop is None or not identifiers(other) & _iteration_names(m, loop):
        return None
    receiver = m.node("array")
    receiver_text = m.text(receiver)
    walked = facts.iterated(loop)
    if walked is not None and m.text(walked) == receiver_text:
        return None  # a self-join: the plan leaves it alone
    if receiver.type == "identifier":
        value = _value(facts.declared_value(m, receiver_text, receiver))
        if value is not None and value.type == "array":
            return None
        if value is not None and loop.start_byte <= value.start_byte < loop.end_byte:
            return None
        declarator = facts.binding(m, receiver_text, receiver)
        if declarator is not None and _contains(loop, declarator):
            return None
    if loop.type in _STATEMENT_LOOPS:
        loop_body = loop.child_by_field_name("body")
        if loop_body is None or exits_loop(loop_body):
            return None
    function = facts.enclosing_function(loop) or m.file.root
    if _mutated(m, function, receiver_text):
        return None
    method = m.text(m.node("method"))
    message = (
        f"`{method}` scans `{receiver_text}` for every item of the loop (n·m); "
        f"{_FIND_ADVICE[method]}."
    )
    return Hit(span_of(call), message=message)


RULES = (
    Rule(
        id="JS006",
        name="array-membership-in-loop",
        language="javascript",
        query="JS006.scm",
        message="`includes`/`indexOf` scans the whole array at every test of the loop; a `Set` "
        "built once answers `has` in constant time.",
        skill_id="js.data-structures",
        lesson_id="js-set-membership",
        severity=Severity.INFORMATION,
        check=_set_membership,
        opt_in=True,
        noqa_codes=("prefer-set-has", "unicorn/prefer-set-has"),
        fix_title="Make the array a Set",
        fix_safety="The fix is unsafe: the binding becomes a `Set` and its membership tests use "
        "`has`. It is offered only when every use in the function is such a test (or a `push` "
        'into a "seen" list, which becomes `add`); `indexOf` never finds `NaN`, `has` does.',
        # Performance advice: silent in test code by its predicate (cold code) already; marked so
        # that test files are walked without its patterns.
        quiet_in_tests=True,
        doc="""
## What it does
Flags `names.includes(x)` (or `names.indexOf(x) !== -1`) in a loop or iteration callback when
`names` is certainly an array that is long or grows with the input: a literal of at least 32
elements, a `map`/`filter`/`Object.keys(…)` result built before the loop, or a "seen" list
(`if (!seen.includes(x)) seen.push(x)`).

## Why is this bad?
`includes` compares `x` with the elements one by one, at every test. A `Set` hashes `x` and
looks in one place: on Node 20 a lookup in 1,000 strings costs about 1.7 µs as a scan and
10 ns as `has`. Below ~32 elements the scan is fast enough, so the rule stays silent there,
on names it cannot prove to be arrays (strings have `includes` too), and on arrays that are
also indexed, sorted, measured, exported or built inside the loop.

**Opt-in**: it runs only when selected by id or name (`--select JS006`). A `Set` pays only
when both the array and the loop are long, and the rule cannot see lengths: on real code the
arrays were locales, dependencies, selected ids or aria attributes, and one finding in
sixteen was worth changing. Select it for code you know handles large inputs.

## Example
```javascript
const banned = blocked.map((u) => u.id);
const visible = posts.filter((p) => !banned.includes(p.authorId));
```

## Use instead
```javascript
const banned = new Set(blocked.map((u) => u.id));
const visible = posts.filter((p) => !banned.has(p.authorId));
```

## References
- https://developer.mozilla.org/en-US/docs/Web/JavaScript/Reference/Global_Objects/Set/has
- https://github.com/sindresorhus/eslint-plugin-unicorn/blob/main/docs/rules/prefer-set-has.md
""",
    ),
    Rule(
        id="JS007",
        name="find-by-key-in-loop",
        language="javascript",
        query="JS007.scm",
        message="`find` by key inside a loop scans the array for every item (n·m); index it "
        "once in a `Map` and `get` it in the loop.",
        skill_id="js.data-structures",
        lesson_id="js-map-index",
        severity=Severity.INFORMATION,
        check=_find_by_key,
        opt_in=True,
        # Performance advice: silent in test code by its predicate (cold code) already; marked so
        # that test files are walked without its patterns.
        quiet_in_tests=True,
        doc="""
## What it does
Flags `items.find((item) => item.key === value)` (and `findIndex`, `filter`, `some` with the
same one-equality callback) inside a loop or iteration callback, where `value` changes with
the iteration and `items` is neither the collection being walked nor changed in the function.

## Why is this bad?
Each lookup scans `items` from the start, so a loop of n lookups into m items does n·m
comparisons. A `Map` built once from `items` answers each lookup in constant time: on Node 20,
1,000 orders matched against 1,000 users ran 45 times faster, building the `Map` included.

The rule is silent when `items` is a literal, when the loop stops after the lookup, and when
the callback tests more than one equality.

**Opt-in**: it runs only when selected by id or name (`--select JS007`). A `Map` pays only
when both collections are long, and the rule cannot see lengths: on real code most lookups
searched a few columns, collations, pins or bound elements, and 2 findings in 103 were worth
changing. Select it for code that joins large collections (API responses, query results).

## Example
```javascript
for (const order of orders) {
  const user = users.find((u) => u.id === order.userId);
  order.userName = user?.name;
}
```

## Use instead
```javascript
const usersById = new Map();
for (const u of users) if (!usersById.has(u.id)) usersById.set(u.id, u);
for (const order of orders) {
  order.userName = usersById.get(order.userId)?.name;
}
```

`find` returns the first match; `if (!has) set` keeps the first duplicate as well (a plain
`new Map(users.map((u) => [u.id, u]))` keeps the last).

## References
- https://developer.mozilla.org/en-US/docs/Web/JavaScript/Reference/Global_Objects/Map
- https://developer.mozilla.org/en-US/docs/Web/JavaScript/Reference/Global_Objects/Array/find
""",
    ),
)
