"""Rules about promises: executors and promises nobody awaits."""

from __future__ import annotations

from lessonlens.analyzers.javascript.spec import is_async
from lessonlens.analyzers.match import Match, span_of
from lessonlens.analyzers.model import Hit, Rule, Severity


def _async_executor(m: Match) -> Hit | None:
    executor = m.node("executor")
    if not is_async(executor):
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
Flags `new Promise(async (resolve, reject) => ...)`.

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
