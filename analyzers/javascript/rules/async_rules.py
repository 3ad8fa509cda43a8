"""Rules about awaiting one item at a time in a loop (JS001)."""

from __future__ import annotations

import re
from collections.abc import Iterator

from lessonlens.analyzers.javascript import facts
from lessonlens.analyzers.javascript.spec import is_async
from lessonlens.analyzers.javascript.tree import FUNCTIONS as _FUNCTIONS
from lessonlens.analyzers.javascript.tree import LOOPS as _LOOPS
from lessonlens.analyzers.javascript.tree import callee_name as _callee_name
from lessonlens.analyzers.javascript.tree import (
    declared_inside,
    exits_loop,
    identifiers,
    is_for_await,
    pattern_names,
    unparenthesized,
    walk,
)
from lessonlens.analyzers.javascript.tree import root_object as _root_object
from lessonlens.analyzers.match import Match, span_of
from lessonlens.analyzers.model import Hit, Rule, Severity
from lessonlens.analyzers.parsing import Node

_ASSIGNMENTS = frozenset({"assignment_expression", "augmented_assignment_expression"})

# Awaited calls that pace the loop on purpose (polling, retries, rate limits, locks).
_PACING = re.compile(r"sleep|delay|wait|retry|backoff|throttle|limit|lock|pause|timeout", re.I)
# Receivers whose operations are ordered or serialised anyway: a transaction, one connection,
# a browser page, a stream, an interactive prompt.
_ORDERED_RECEIVERS = re.compile(
    r"^(tx|trx|transaction|session|page|writer|stream|socket|readline|rl|prompt|prompts|"
    r"inquirer|enquirer|conn|connection|client|db|queue|mutex|browser|manager|em|"
    r"entityManager|queryRunner|runner)$",
    re.I,
)
# Work done in order by design (writes to one sink, publishing, migrations, prompts), or
# CPU-bound work that one JavaScript thread cannot overlap (building, packing, rendering).
_ORDERED_CALLS = re.compile(
    r"^(append\w*|write|writeln|print\w*|log|send|emit|publish\w*|enqueue|exec\w*|spawn|"
    r"run\w*|install\w*|commit|deploy\w*|release|migrate\w*|seed\w*|prompt|ask|confirm|"
    r"question|select|input|lint)$",
    re.I,
)
_CPU_WORDS = re.compile(r"build|pack|bundle|compile|render|minify|transpile|digest|hash", re.I)
# What an awaited call must look like for the advice to pay: I/O with latency to overlap
# (reading files, network requests, lookups, loading). Anything else (hashing, parsing, a
# callback of unknown cost) may be CPU work that `Promise.all` cannot speed up: silence.
_IO_CALLS = re.compile(
    r"^(fetch|request|get|download|upload|read|stat|lstat|access|exists|realpath|readdir|load|"
    r"resolve|lookup|query|find|head|post|put|patch|delete|remove|unlink|rm|copy|normalize|"
    r"glob|scan|list|retrieve|open|probe|ping|http|axios|got)"
    r"(?![a-z])",
)
# What a plugin pipeline or middleware chain iterates: each step sees the previous one's effects.
_ORDERED_COLLECTIONS = re.compile(
    r"(plugin|hook|middleware|handler|listener|callback|step|stage|migration|seed|task|job|event|"
    r"chunk|batch|page|command|script|transform|interceptor|filter|rule|pass|phase)s?$",
    re.I,
)
_ORDERED_FUNCTIONS = re.compile(r"migrat|seed|serial|sequen|ordered|inorder|one_?by_?one", re.I)
# A comment that says the order is deliberate.
_DELIBERATE = re.compile(
    rb"sequen|serial|in order|in series|one at a time|one by one|order matters|"
    rb"concurren|parallel|no-await-in-loop|rate.?limit|must (?:wait|finish|complete)|memory|"
    rb"(?:before|until) (?:\w+ ){0,3}next",
    re.I,
)


def _loop_names(loop: Node) -> set[str] | None:
    """The names one iteration binds: ``for (const x of xs)``'s ``x``, an index loop's ``i``.

    None for loops JS001 does not judge: ``for…in``, ``for await``, other ``for`` shapes.
    """
    if loop.type == "for_in_statement":
        operator = loop.child_by_field_name("operator")
        if operator is None or operator.type != "of" or is_for_await(loop):
            return None
        return pattern_names(loop.child_by_field_name("left")) or None
    # for (let i = 0; i < xs.length; i++)
    condition = loop.child_by_field_name("condition")
    if condition is not None and condition.type == "expression_statement":
        condition = condition.named_children[0] if condition.named_children else None
    if condition is None or condition.type != "binary_expression":
        return None
    left, right = condition.child_by_field_name("left"), condition.child_by_field_name("right")
    operator = condition.child_by_field_name("operator")
    if (
        left is None
        or left.type != "identifier"
        or operator is None
        or operator.type not in ("<", "<=")
        or right is None
        or right.type != "member_expression"
        or right.child_by_field_name("property") is None
        or right.child_by_field_name("property").text != b"length"  # type: ignore[union-attr]
    ):
        return None
    return {left.text.decode()} if left.text else None


def _carries_state(body: Node, inside: set[str]) -> bool:
    """Whether an iteration assigns a name declared outside the loop (cursor, counter, last)."""
    for node in walk(body):
        target = None
        if node.type in _ASSIGNMENTS:
            target = node.child_by_field_name("left")
        elif node.type == "update_expression":
            target = node.child_by_field_name("argument")
        target = unparenthesized(target)
        if (
            target is not None
            and target.type == "identifier"
            and target.text
            and target.text.decode() not in inside
        ):
            return True
    return False


def _deliberate_comment(m: Match, loop: Node) -> bool:
    """A comment that says the order is meant: in the loop, or above it or a statement holding it.

    Above means among the comments between the three statements before; the search goes up to
    the enclosing function.
    """
    source = m.file.source
    for node in walk(loop, stop=frozenset()):
        if node.type == "comment" and _DELIBERATE.search(source[node.start_byte : node.end_byte]):
            return True
    current: Node | None = loop
    while current is not None and current.type not in _FUNCTIONS:
        previous, statements = current.prev_named_sibling, 0
        while previous is not None and statements < 3:
            if previous.type != "comment":
                statements += 1
            elif _DELIBERATE.search(source[previous.start_byte : previous.end_byte]):
                return True
            previous = previous.prev_named_sibling
        current = current.parent
    return False


def _mutated_outer(m: Match, body: Node, inside: set[str]) -> set[str]:
    """Outer names an iteration changes in place (``xs.push(…)``, ``o.k = …``)."""
    changed: set[str] = set()
    for node in walk(body):
        target = None
        if node.type == "call_expression":
            callee = node.child_by_field_name("function")
            if callee is not None and callee.type == "member_expression":
                target = callee.child_by_field_name("object")
        elif node.type in _ASSIGNMENTS:
            left = node.child_by_field_name("left")
            if left is not None and left.type in ("member_expression", "subscript_expression"):
                target = left.child_by_field_name("object")
        while target is not None and target.type in ("member_expression", "subscript_expression"):
            target = target.child_by_field_name("object")
        if target is not None and target.type == "identifier" and m.text(target) not in inside:
            changed.add(m.text(target))
    return changed


def _ordered_function(m: Match, node: Node) -> bool:
    parent = node.parent
    while parent is not None:
        if parent.type in _FUNCTIONS and _ORDERED_FUNCTIONS.search(facts.function_name(m, parent)):
            return True
        parent = parent.parent
    return False


def _own_awaits(body: Node) -> Iterator[Node]:
    """The ``await``s an iteration runs itself: not in nested functions or nested loops."""
    return (n for n in walk(body, stop=_FUNCTIONS | _LOOPS) if n.type == "await_expression")


def _argument_names(call: Node) -> set[str]:
    names: set[str] = set()
    for node in [call, *walk(call, stop=frozenset())]:
        if node.type == "call_expression":
            arguments = node.child_by_field_name("arguments")
            if arguments is not None:
                names |= identifiers(arguments)
    return names


def _collection_name(m: Match, loop: Node) -> str:
    """The last name in what a loop walks: ``plugins`` in ``for (const p of this.plugins)``."""
    if loop.type == "for_in_statement":
        walked = loop.child_by_field_name("right")
    else:
        condition = loop.child_by_field_name("condition")
        walked = condition.child_by_field_name("right") if condition is not None else None
        walked = walked.child_by_field_name("object") if walked is not None else None
    if walked is None:
        return ""
    names = re.findall(r"[\w$]+", m.text(walked))
    while names and names[-1] in ("values", "keys", "entries", "length"):
        names.pop()
    return names[-1] if names else ""


def _await_in_loop(m: Match) -> Hit | None:
    loop = m.node("finding")
    names = _loop_names(loop)
    body = loop.child_by_field_name("body")
    function = facts.enclosing_function(loop)
    if names is None or body is None or function is None or not is_async(function):
        return None
    awaits = list(_own_awaits(body))
    if not awaits:
        return None
    if _ORDERED_COLLECTIONS.search(_collection_name(m, loop)):
        return None
    if facts.trivial_loop(m, loop) or facts.cold(m, loop) or _ordered_function(m, loop):
        return None
    if exits_loop(body):
        return None
    inside = declared_inside(body) | names
    if _carries_state(body, inside):
        return None
    calls = []
    for node in awaits:
        argument = unparenthesized(node.named_children[0] if node.named_children else None)
        if argument is None or argument.type != "call_expression":
            continue
        callee = argument.child_by_field_name("function")
        if callee is None or callee.type not in ("identifier", "member_expression"):
            continue
        name, root = _callee_name(argument), _root_object(argument)
        if (
            _PACING.search(name)
            or _ORDERED_CALLS.match(name)
            or _CPU_WORDS.search(name)
            or _ORDERED_RECEIVERS.match(root)
            or root in ("Promise", "this", "super")
            or _PACING.search(m.text(callee))
        ):
            return None
        if _IO_CALLS.match(name):
            calls.append((node, argument))
    if not calls or _deliberate_comment(m, loop):
        return None
    if not _collects(m, body, inside):
        return None
    changed = _mutated_outer(m, body, inside)
    # Names that vary with the iteration: the loop's own, and locals computed from them.
    varying = set(names)
    for node in walk(body):
        if node.type == "variable_declarator":
            value = node.child_by_field_name("value")
            if value is not None and identifiers(value) & varying:
                varying |= pattern_names(node.child_by_field_name("name"))
    for node, argument in calls:
        taken = _argument_names(argument)
        if taken & changed:
            return None  # the call reads what earlier iterations changed
        if taken & varying and not _conditional(node, body):
            return Hit(span_of(node))
    return None


_BRANCHES = frozenset({"if_statement", "switch_statement", "ternary_expression"})


def _conditional(node: Node, body: Node) -> bool:
    """Whether ``node`` runs only in some iterations (under an ``if``, a ``switch`` or ``?:``).

    How many iterations wait, and so what running them together would save, is then unknown:
    often the branch is the rare case (a symlink, a missing file).
    """
    child, current = node, node.parent
    while current is not None and current != body:
        tested = current.child_by_field_name("condition") or current.child_by_field_name("value")
        if current.type in _BRANCHES and child != tested:
            return True
        child, current = current, current.parent
    return False


_SINKS = frozenset({"push", "unshift", "set", "add"})


def _collects(m: Match, body: Node, inside: set[str]) -> bool:
    """Whether the loop gathers what it awaits into a collection declared outside it.

    ``out.push(await f(x))``, ``const y = await f(x); out[x] = y``, ``m.set(k, y)``, or a sink
    guarded by an awaited test (``if (await ok(x)) out.push(x)``). An ``await`` whose value is
    thrown away (``await save(x);``) is an effect whose order may matter: then False.
    """
    awaited: set[str] = set()
    for node in walk(body):
        if node.type == "await_expression":
            parent = node.parent
            while parent is not None and parent.type == "parenthesized_expression":
                parent = parent.parent
            if parent is not None and parent.type == "expression_statement":
                return False
        elif node.type == "variable_declarator":
            value = node.child_by_field_name("value")
            if value is not None and (_has_await(value) or identifiers(value) & awaited):
                awaited |= pattern_names(node.child_by_field_name("name"))
        elif node.type == "assignment_expression":
            left, value = node.child_by_field_name("left"), node.child_by_field_name("right")
            if (
                left is not None
                and left.type == "identifier"
                and value is not None
                and (_has_await(value) or identifiers(value) & awaited)
            ):
                awaited.add(m.text(left))

    def carries(node: Node | None) -> bool:
        return node is not None and (_has_await(node) or bool(identifiers(node) & awaited))

    for node in walk(body):
        target = value = None
        if node.type == "call_expression":
            callee = node.child_by_field_name("function")
            if callee is None or callee.type != "member_expression":
                continue
            prop = callee.child_by_field_name("property")
            if prop is None or prop.text is None or prop.text.decode() not in _SINKS:
                continue
            target, value = callee.child_by_field_name("object"), node
        elif node.type == "assignment_expression":
            target = node.child_by_field_name("left")
            if target is None or target.type not in ("subscript_expression", "member_expression"):
                continue
            target, value = target.child_by_field_name("object"), node
        else:
            continue
        root = target
        while root is not None and root.type in ("member_expression", "subscript_expression"):
            root = root.child_by_field_name("object")
        if root is None or root.type != "identifier" or m.text(root) in inside:
            continue
        if not _fresh_collection(m, root):
            continue
        if carries(value) or _guarded_by_await(node, body, carries):
            return True
    return False


def _fresh_collection(m: Match, name: Node) -> bool:
    """Whether ``name`` is a local of the same function bound to a new collection.

    ``const out = []``, ``{}``, ``new Map()``, ``new Set()``: the function's own result, not
    a parameter's or a shared store's state.
    """
    declarator = facts.binding(m, m.text(name), name)
    if declarator is None or declarator.type != "variable_declarator":
        return False
    if facts.enclosing_function(declarator) != facts.enclosing_function(name):
        return False
    value = unparenthesized(declarator.child_by_field_name("value"))
    while value is not None and value.type in ("as_expression", "satisfies_expression"):
        value = value.named_children[0] if value.named_children else None
    if value is None:
        return False
    if value.type in ("array", "object"):
        return True
    if value.type == "new_expression":
        constructor = value.child_by_field_name("constructor")
        return constructor is not None and m.text(constructor) in ("Map", "Set", "Array")
    return False


def _has_await(node: Node) -> bool:
    return node.type == "await_expression" or any(n.type == "await_expression" for n in walk(node))


def _guarded_by_await(node: Node, body: Node, carries: object) -> bool:
    parent = node.parent
    while parent is not None and parent != body:
        if parent.type == "if_statement":
            condition = parent.child_by_field_name("condition")
            if callable(carries) and carries(condition):
                return True
        parent = parent.parent
    return False


RULES = (
    Rule(
        id="JS001",
        name="await-in-loop",
        language="javascript",
        query="JS001.scm",
        message="Each iteration waits for the previous one, though the items look independent. "
        "Start them together with `Promise.all` (or a small pool for long lists).",
        skill_id="js.async",
        lesson_id="js-await-in-loop",
        severity=Severity.INFORMATION,
        check=_await_in_loop,
        noqa_codes=("no-await-in-loop", "noAwaitInLoops", "noAwaitInLoop"),
        # Performance advice: silent in test code by its predicate (cold code) already; marked so
        # that test files are walked without its patterns.
        quiet_in_tests=True,
        doc="""
## What it does
Flags an `await` inside a `for…of` loop (or an index loop over `xs.length`) when the awaited
call takes the loop variable and nothing ties one iteration to the next.

## Why is this bad?
The loop starts the second operation only after the first has finished: twenty 5 ms timers
awaited in turn took 105 ms on Node 20, against 6 ms with `Promise.all`. When the items are
independent, starting them together and awaiting them once is as correct and much faster.

The rule fires only on the clearest case: the loop collects what it awaits into a new local
array, object, `Map` or `Set`, and the awaited call looks like I/O (`fetch…`, `get…`,
`read…`, `load…`, `stat`, `query…`, `find…`). It stays silent where the order may be the
point: `while` loops (polling, pagination), loops that carry a value from one iteration to the
next, that stop at the first success, that await an effect without using its value, that
sleep, retry or take a lock, that work on `this`, one transaction, page, stream or connection,
plugin or middleware chains, CPU work (hashing, building, rendering), functions named for
migrations or seeds, and loops whose comments speak of order or memory.

## Example
```javascript
for (const id of ids) {
  users.push(await fetchUser(id));
}
```

## Use instead
```javascript
const users = await Promise.all(ids.map((id) => fetchUser(id)));
```

For long lists, start a few at a time (a pool of workers pulling from a shared index).
`Promise.all` rejects on the first failure while the others keep running; use
`Promise.allSettled` when every outcome matters.

## References
- https://developer.mozilla.org/en-US/docs/Web/JavaScript/Reference/Global_Objects/Promise/all
- https://eslint.org/docs/latest/rules/no-await-in-loop
""",
    ),
)
