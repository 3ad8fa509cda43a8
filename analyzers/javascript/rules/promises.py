"""Rules about promises: executors and promises nobody awaits."""

from __future__ import annotations

import re

from lessonlens.analyzers.javascript.spec import is_async
from lessonlens.analyzers.javascript.tree import walk
from lessonlens.analyzers.match import Match, span_of
from lessonlens.analyzers.model import Hit, Rule, Severity
from lessonlens.analyzers.parsing import Node

_NAMES = re.compile(rb"[A-Za-z_$][A-Za-z0-9_$]*")


def _handled(executor: Node, body: Node) -> bool:
    """Whether every ``await`` of the executor sits in a ``try`` whose ``catch`` settles it.

    Then an error is caught and passed on (``reject(err)``, or a fallback ``resolve``): the
    promise does settle, and the hint's claim would be false.
    """
    parameters = executor.child_by_field_name("parameters")
    names = {m.decode() for m in _NAMES.findall(parameters.text or b"")} if parameters else set()
    if not names:
        return False
    awaits = [n for n in walk(body) if n.type == "await_expression"]
    if not awaits:
        return False
    for node in awaits:
        current, covered = node.parent, False
        while current is not None and current != executor:
            if current.type == "try_statement":
                handler = current.child_by_field_name("handler")
                # In the try block, or in its finally (which runs after the catch settled it).
                parts = [
                    current.child_by_field_name("body"),
                    current.child_by_field_name("finalizer"),
                ]
                if (
                    handler is not None
                    and any(
                        p is not None and p.start_byte <= node.start_byte < p.end_byte
                        for p in parts
                    )
                    and _settles(handler, names)
                ):
                    covered = True
                    break
            current = current.parent
        if not covered:
            return False
    return True


def _settles(handler: Node, names: set[str]) -> bool:
    """A ``catch`` that calls the executor's resolve or reject and does not throw again."""
    calls = False
    for node in walk(handler):
        if node.type == "throw_statement":
            return False
        if node.type == "call_expression":
            callee = node.child_by_field_name("function")
            if callee is not None and callee.type == "identifier" and callee.text is not None:
                calls = calls or callee.text.decode() in names
    return calls


def _async_executor(m: Match) -> Hit | None:
    executor = m.node("executor")
    if not is_async(executor):
        return None
    body = executor.child_by_field_name("body")
    if body is not None and _handled(executor, body):
        return None
    # Report the `new Promise(async` head only, not the whole executor.
    head_end = executor.child_by_field_name("parameters") or executor
    return Hit(span_of(m.node("finding"), head_end))


RULES = (
    Rule(
        id="JS015",
        name="async-promise-executor",
        language="javascript",
        query="JS015.scm",
        message="An error thrown in an `async` executor never rejects this promise: it hangs. "
        "Await the work directly, or keep the executor synchronous.",
        skill_id="js.async",
        lesson_id="js-async-promise-executor",
        severity=Severity.INFORMATION,
        check=_async_executor,
        noqa_codes=("no-async-promise-executor", "noAsyncPromiseExecutor"),
        doc="""
## What it does
Flags `new Promise(async (resolve, reject) => ...)`, unless every `await` in it sits in a `try`
whose `catch` calls `resolve` or `reject` (and does not throw again): then errors do settle the
promise.

## Why is this bad?
The `Promise` constructor ignores what its executor returns. An exception thrown after the
executor's first `await` rejects the executor's own promise, which nobody holds: the outer
promise never settles, and the error surfaces, if at all, as an unhandled rejection. And an
executor that can `await` rarely needs `new Promise` at all.

## Example
```javascript
const data = new Promise(async (resolve) => resolve(await read(path)));
```

## Use instead
```javascript
const data = read(path);
```

## References
- https://eslint.org/docs/latest/rules/no-async-promise-executor
- https://developer.mozilla.org/en-US/docs/Web/JavaScript/Reference/Global_Objects/Promise/Promise
""",
    ),
)
