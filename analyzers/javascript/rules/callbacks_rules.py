"""Rules about promises an iteration drops: `forEach(async ...)` and a statement `map(async ...)`.

JS002 and JS003: nothing waits for the promises the callbacks return, and their rejections go
unhandled.
"""

from __future__ import annotations

import re

from lessonlens.analyzers.javascript import facts
from lessonlens.analyzers.javascript.spec import is_async
from lessonlens.analyzers.javascript.tree import is_for_await, unparenthesized, walk
from lessonlens.analyzers.match import Match, span_of
from lessonlens.analyzers.model import Hit, Rule, Severity
from lessonlens.analyzers.parsing import Node


def _async_callback(m: Match) -> Node | None:
    callback = m.node("callback")
    return callback if is_async(callback) else None


def _callback_head(m: Match, callback: Node) -> Hit:
    """Report ``forEach(async (x) =>``: from the method name to the callback's parameters."""
    end = (
        callback.child_by_field_name("parameters")
        or callback.child_by_field_name("parameter")
        or callback
    )
    return Hit(span_of(m.node("method"), end))


_WRAPPERS = frozenset({"awu", "from", "asyncIterable", "aiter", "pMap"})
_ASYNC_RECEIVERS = re.compile(r"(cursor|stream|iterator|iterable)$", re.I)


def _fire_and_forget(callback: Node) -> bool:
    """Whether an async callback awaits nothing, or catches what every ``await`` may throw.

    With no ``await`` the callback finishes synchronously (but for a rejection); with every
    ``await`` inside a ``try`` that has a ``catch``, not waiting is a choice and nothing goes
    unhandled.
    """
    body = callback.child_by_field_name("body")
    if body is None:
        return True
    awaits = [n for n in walk(body) if n.type in ("await_expression", "for_in_statement")]
    awaits = [n for n in awaits if n.type == "await_expression" or is_for_await(n)]
    if not awaits:
        return True
    return all(_caught(node, body) for node in awaits)


def _caught(node: Node, stop: Node) -> bool:
    child, parent = node, node.parent
    while parent is not None and parent != stop:
        if (
            parent.type == "try_statement"
            and child == parent.child_by_field_name("body")
            and parent.child_by_field_name("handler") is not None
        ):
            return True
        child, parent = parent, parent.parent
    return False


def _async_foreach(m: Match) -> Hit | None:
    callback = _async_callback(m)
    if callback is None or m.file.test_code:
        return None
    receiver = m.node("receiver")
    inner = unparenthesized(receiver)
    if inner is not None and inner.type == "call_expression":
        callee = inner.child_by_field_name("function")
        if callee is not None and callee.type == "identifier" and m.text(callee) in _WRAPPERS:
            return None
    if _ASYNC_RECEIVERS.search(m.text(receiver).split(".")[-1]):
        return None
    if _fire_and_forget(callback) or _in_lifecycle_hook(m, callback):
        return None
    return _callback_head(m, callback)


# A custom element's lifecycle callbacks: the browser calls them and never awaits them, so
# work they start is fire-and-forget by design, and `for...of` + `await` would not change that.
_LIFECYCLE_HOOKS = frozenset(
    {"connectedCallback", "disconnectedCallback", "attributeChangedCallback", "adoptedCallback"}
)


def _in_lifecycle_hook(m: Match, callback: Node) -> bool:
    function = facts.enclosing_function(callback)
    return function is not None and facts.function_name(m, function) in _LIFECYCLE_HOOKS


def _dropped_async_map(m: Match) -> Hit | None:
    callback = _async_callback(m)
    if callback is None or m.file.test_code or _fire_and_forget(callback):
        return None
    return _callback_head(m, callback)


RULES = (
    Rule(
        id="JS002",
        name="async-foreach",
        language="javascript",
        query="JS002.scm",
        message="`forEach` ignores the promise an `async` callback returns: nothing waits for "
        "it, and its errors go unhandled. Use `for…of` with `await`, or "
        "`await Promise.all(xs.map(…))`.",
        skill_id="js.async",
        lesson_id="js-async-callbacks",
        severity=Severity.INFORMATION,
        check=_async_foreach,
        noqa_codes=("no-misused-promises", "noMisusedPromises"),
        # Performance advice: silent in test code by its predicate (cold code) already; marked so
        # that test files are walked without its patterns.
        quiet_in_tests=True,
        doc="""
## What it does
Flags `xs.forEach(async (x) => …)` used as a statement.

## Why is this bad?
`forEach` calls the callback and throws away what it returns. An `async` callback returns a
promise, so the code after the `forEach` runs before any of the callbacks has finished, and a
rejection in one of them is an unhandled rejection (which ends a Node process by default).

The rule is silent when the call is awaited or returned (an async-aware `forEach` of an
iteration library or a database cursor), on wrapper receivers (`awu(xs)`, `from(xs)`), on
cursors and streams, and when the callback is one `try`/`catch` (a deliberate fire-and-forget).

## Example
```javascript
files.forEach(async (file) => {
  await upload(file);
});
console.log("done"); // printed before any upload finished
```

## Use instead
```javascript
await Promise.all(files.map((file) => upload(file)));  // together
for (const file of files) await upload(file);           // or one at a time
```

## References
- https://developer.mozilla.org/en-US/docs/Web/JavaScript/Reference/Global_Objects/Array/forEach
- https://typescript-eslint.io/rules/no-misused-promises/
""",
    ),
    Rule(
        id="JS003",
        name="dropped-async-map",
        language="javascript",
        query="JS003.scm",
        message="This builds an array of promises and drops it: nothing waits for them, and "
        "their errors go unhandled. Wrap it in `await Promise.all(…)`.",
        skill_id="js.async",
        lesson_id="js-async-callbacks",
        severity=Severity.INFORMATION,
        check=_dropped_async_map,
        noqa_codes=("no-floating-promises", "noFloatingPromises"),
        # Performance advice: silent in test code by its predicate (cold code) already; marked so
        # that test files are walked without its patterns.
        quiet_in_tests=True,
        doc="""
## What it does
Flags `xs.map(async (x) => …)` (or `flatMap`) whose result is thrown away: the call is a
whole statement.

## Why is this bad?
Each call of the callback starts at once and returns a promise; the array of promises is
discarded. The function carries on, and may return, before the work is done, and a failure
becomes an unhandled rejection instead of an error the caller sees.

Prefix the call with `void` to say that not waiting is intended: the rule then stays silent.

## Example
```javascript
ids.map(async (id) => {
  await cache.refresh(id);
});
```

## Use instead
```javascript
await Promise.all(ids.map((id) => cache.refresh(id)));
```

## References
- https://developer.mozilla.org/en-US/docs/Web/JavaScript/Reference/Global_Objects/Promise/all
- https://typescript-eslint.io/rules/no-floating-promises/
""",
    ),
)
