"""The ``javascript`` lesson language: JavaScript examples, run by Node.

Blocks are ```` ```javascript setup ````, ```` ```javascript before ```` and ```` ```javascript
after ````. ``setup`` runs once at module level (an ES module: ``import`` and top-level
``await`` work); ``before`` and ``after`` are each the body of an async function that sees the
setup's names and must assign ``result`` (``const result = ...``); a promise is awaited. The
runner prints both results as JSON (a ``Set`` as its sorted-as-inserted elements, a ``Map`` as
its entries) and the tests compare them. TypeScript code reads the same lessons.
"""

from __future__ import annotations

from lessonlens.lessons.languages import LessonLanguage, register_lesson_language
from lessonlens.server.languages.runner import pair, run_program

# This module loads with the language registry (an entry point), in every process: the parser
# and the engine are imported only when a lesson's code is checked.


def _syntax_error(code: str) -> tuple[int, str] | None:
    from lessonlens.analyzers.facade import syntax_error
    from lessonlens.analyzers.javascript.spec import JAVASCRIPT

    return syntax_error(JAVASCRIPT, code)


# A rejection nobody handles is what some "before" examples show; it must not end the run.
_SERIALISE = """
process.on("unhandledRejection", () => {});
const __plain = (value) => JSON.stringify(value, (_key, v) =>
  v instanceof Set ? { Set: [...v] } : v instanceof Map ? { Map: [...v] } :
  typeof v === "bigint" ? { BigInt: String(v) } : v === undefined ? null : v);
"""


def _side(code: str) -> str:
    return f"async () => {{\n{code}\nreturn result;\n}}"


def _program(setup: str, before: str, after: str, body: str) -> str:
    return (
        f"{setup}\n;\nconst __before = {_side(before)};\nconst __after = {_side(after)};\n"
        f"{_SERIALISE}\n{body}\n"
    )


def _node(setup: str, before: str, after: str, body: str, name: str) -> tuple[object, object]:
    """The [before, after] pair that ``body`` prints, run by Node as one ES module."""
    program = _program(setup, before, after, body)
    return pair(run_program("node", [], name, "example.mjs", program), name)


def run(setup: str, before: str, after: str, name: str) -> tuple[object, object]:
    body = (
        "const __results = [await __before(), await __after()];\n"
        "console.log('[' + __results.map(__plain).join(',') + ']');"
    )
    return pair(
        run_program("node", [], name, "example.mjs", _program(setup, before, after, body)), name
    )


def time(setup: str, before: str, after: str, name: str, repeat: int) -> tuple[float, float]:
    """Best seconds per run of ``before`` and ``after``, each run repeated to at least 20 ms."""
    body = f"""
const __best = async (side) => {{
  let runs = 1;
  for (;;) {{
    const t0 = performance.now();
    for (let i = 0; i < runs; i++) await side();
    if (performance.now() - t0 >= 20 || runs >= 1 << 20) break;
    runs *= 2;
  }}
  let best = Infinity;
  for (let r = 0; r < {repeat}; r++) {{
    const t0 = performance.now();
    for (let i = 0; i < runs; i++) await side();
    best = Math.min(best, (performance.now() - t0) / runs);
  }}
  return best / 1000;
}};
console.log(JSON.stringify([await __best(__before), await __best(__after)]));
"""
    value = pair(
        run_program("node", [], name, "example.mjs", _program(setup, before, after, body)), name
    )
    return float(value[0]), float(value[1])  # type: ignore[arg-type]


def _compile_error(code: str) -> tuple[int, str] | None:
    # A before/after block is a function body: `return` and top-level `await` are allowed.
    wrapped = _syntax_error(f"async function __example() {{\n{code}\n}}")
    if wrapped is None:
        return None
    return max(1, wrapped[0] - 1), wrapped[1]


def _parse_error(code: str) -> tuple[int, str] | None:
    return _syntax_error(code) and _compile_error(code)


LANGUAGE = register_lesson_language(
    LessonLanguage(
        id="javascript",
        fence="javascript",
        compile_error=_compile_error,
        parse_error=_parse_error,
        run=run,
        time=time,
    )
)
