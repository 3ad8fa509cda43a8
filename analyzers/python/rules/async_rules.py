"""Rules about keeping the event loop free inside coroutines."""

from __future__ import annotations

from lessonlens.analyzers.match import Match, span_of
from lessonlens.analyzers.model import Hit, Rule, Severity
from lessonlens.analyzers.parsing import Node
from lessonlens.analyzers.python import facts, hotness

_HTTP = "an async HTTP client (httpx.AsyncClient, aiohttp)"
# Qualified name -> what to use instead, inside a coroutine.
_BLOCKING = {
    "time.sleep": "`await asyncio.sleep()`",
    **{
        f"requests.{verb}": _HTTP
        for verb in ("get", "post", "put", "patch", "delete", "head", "request")
    },
    "urllib.request.urlopen": _HTTP,
    **{
        f"subprocess.{name}": "`await asyncio.create_subprocess_exec()`"
        for name in ("run", "call", "check_call", "check_output")
    },
    "socket.create_connection": "`await asyncio.open_connection()`",
}


def _blocking_name(m: Match, function: Node) -> str | None:
    text = m.text(function)
    head = text.partition(".")[0]
    if function.type == "identifier" and text == "open":
        if facts.refers_to_builtin(m, function) or facts.resolves_to(m, function, "io.open"):
            return "open"
        return None
    # The same resolution as facts.resolves_to, done once instead of once per candidate.
    target = facts.imports(m).get(head)
    if target is None:
        return None
    qualified = target + text[len(head) :]
    return qualified if qualified in _BLOCKING else None


def _called_as_offload_argument(call: Node, m: Match) -> bool:
    parent = call.parent
    if parent is None or parent.type != "argument_list" or parent.parent is None:
        return False
    function = parent.parent.child_by_field_name("function")
    return function is not None and m.text(function).rpartition(".")[2] in (
        "to_thread",
        "run_in_executor",
    )


def _blocking_in_async(m: Match) -> Hit | None:
    call = m.node("finding")
    name = _blocking_name(m, m.node("function"))
    if name is None or not facts.in_async_function(call):
        return None
    # A test blocks on purpose ("time.sleep is a more challenging scenario than asyncio.sleep").
    if hotness.cold_code(m, call) == "test code":
        return None
    parent = call.parent
    if parent is not None and parent.type == "await":
        # Whatever an awaited call is, it returned an awaitable: not the blocking function.
        return None
    if _called_as_offload_argument(call, m):
        # ``asyncio.to_thread(requests.get(url))`` runs the call on the loop first and hands
        # its *result* to the thread: the bug this rule exists for, in disguise.
        message = (
            f"`{name}()` runs here, on the event loop, before `to_thread` sees it; "
            "pass the function and its arguments: `asyncio.to_thread(f, arg)`."
        )
        return Hit(span_of(call), message=message)
    if name == "open":
        message = (
            "`open()` does blocking file I/O in a coroutine; "
            "for large files use `await asyncio.to_thread(...)`."
        )
    else:
        message = f"`{name}()` blocks the event loop; use {_BLOCKING[name]} instead."
    return Hit(span_of(call), message=message)


RULES = [
    Rule(
        id="PY016",
        name="blocking-in-async",
        language="python",
        query="PY016.scm",
        message="A blocking call inside a coroutine stalls the event loop.",
        skill_id="python.async",
        lesson_id="async-blocking",
        noqa_codes=("ASYNC230", "ASYNC251"),
        severity=Severity.INFORMATION,
        check=_blocking_in_async,
        doc="""
## What it does
Flags well-known blocking calls directly inside an `async def`: `time.sleep()`,
`requests.get()`/`post()`/... , `urllib.request.urlopen()`, `subprocess.run()`/`call()`/
`check_call()`/`check_output()`, `socket.create_connection()` and the builtin `open()`.
Names are resolved through the file's imports, so `from time import sleep` is caught while
`asyncio.sleep` or a local function called `sleep` is not.

It stays silent inside a nested plain `def` or `lambda` (which may well run in a worker
thread), for awaited calls, and in tests (which block on purpose, to exercise a timeout). A
blocking *call* written as the argument of `asyncio.to_thread()` or `loop.run_in_executor()`
is flagged with its own message: it runs on the event loop before the worker thread sees it.

## Why is this bad?
An event loop runs one callback at a time. While a coroutine sits in a blocking call, no other
task makes progress: one `time.sleep(1)` in a request handler stalls every connection the
server holds. Opening and reading a small local file is usually quick enough to leave alone;
large files, or files on network storage, are worth moving to a thread.

## Example
```python
async def poll(url):
    while True:
        body = requests.get(url).text
        time.sleep(5)
```

## Use instead
```python
async def poll(client: httpx.AsyncClient, url):
    while True:
        body = (await client.get(url)).text
        await asyncio.sleep(5)
```
When no async library fits, run the blocking call in a thread:
`await asyncio.to_thread(blocking_function, arg)`.

## References
- https://docs.python.org/3/library/asyncio-dev.html#running-blocking-code
- https://docs.python.org/3/library/asyncio-task.html#asyncio.to_thread
- https://docs.python.org/3/library/asyncio-subprocess.html
- https://docs.python.org/3/library/asyncio-stream.html#asyncio.open_connection
""",
    ),
]
