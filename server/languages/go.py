"""The ``go`` lesson language: Go examples, run by ``go run`` (Debian's golang-go).

Blocks are ```` ```go setup ```` (package-level code: imports, types, functions, input
variables), ```` ```go before ```` and ```` ```go after ```` (each the body of a function that
sees the setup and must set ``result``: ``result := ...``). The runner builds one ``package
main`` from them, runs it with no network (``GOPROXY=off``), and compares the results as JSON.
Examples must not change the setup's variables: both sides read the same ones.
"""

from __future__ import annotations

import re

from lessonlens.lessons.languages import LessonLanguage, register_lesson_language
from lessonlens.server.languages.runner import pair, run_program

# This module loads with the language registry (an entry point), in every process: the parser
# and the engine are imported only when a lesson's code is checked.


def _syntax_error(code: str) -> tuple[int, str] | None:
    from lessonlens.analyzers.facade import syntax_error
    from lessonlens.analyzers.go.spec import GO

    return syntax_error(GO, code)


_IMPORT = re.compile(r'^\s*import\s*(\((?P<group>[^)]*)\)|(?P<one>[\w.]*\s*"[^"\n]+"))', re.M)


def _split_imports(setup: str) -> tuple[list[str], str]:
    """The setup's import specs, and the rest of it."""
    specs: list[str] = []
    rest = setup
    while (found := _IMPORT.match(rest)) is not None:
        if found["group"] is not None:
            specs.extend(line.strip() for line in found["group"].splitlines() if line.strip())
        else:
            specs.append(found["one"].strip())
        rest = rest[found.end() :]
    return specs, rest


def _side(name: str, code: str) -> str:
    return f"func {name}() any {{\n{code}\n\treturn result\n}}"


def _program(setup: str, before: str, after: str, main: str) -> str:
    specs, rest = _split_imports(setup)
    imports = "\n".join(
        [*specs, '__json "encoding/json"', '__fmt "fmt"', '__time "time"', '__os "os"']
    )
    return (
        f"package main\n\nimport (\n{imports}\n)\n\nvar _ = __os.Exit\nvar _ = __time.Now\n\n"
        f"{rest}\n\n{_side('__before', before)}\n\n{_side('__after', after)}\n\n"
        f"func main() {{\n{main}\n}}\n"
        "func __print(v any) {\n\tdata, err := __json.Marshal(v)\n"
        "\tif err != nil {\n\t\tpanic(err)\n\t}\n\t__fmt.Println(string(data))\n}\n"
    )


def run(setup: str, before: str, after: str, name: str) -> tuple[object, object]:
    main = "\t__print([]any{__before(), __after()})"
    value = run_program("go", ["run"], name, "example.go", _program(setup, before, after, main))
    return pair(value, name)


def time(setup: str, before: str, after: str, name: str, repeat: int) -> tuple[float, float]:
    """Best seconds per run of ``before`` and ``after``, each run repeated to at least 20 ms."""
    main = f"""
\tbest := func(side func() any) float64 {{
\t\truns := 1
\t\tfor {{
\t\t\tstart := __time.Now()
\t\t\tfor i := 0; i < runs; i++ {{
\t\t\t\tside()
\t\t\t}}
\t\t\tif __time.Since(start) >= 20*__time.Millisecond || runs >= 1<<24 {{
\t\t\t\tbreak
\t\t\t}}
\t\t\truns *= 2
\t\t}}
\t\tbest := 1e18
\t\tfor r := 0; r < {repeat}; r++ {{
\t\t\tstart := __time.Now()
\t\t\tfor i := 0; i < runs; i++ {{
\t\t\t\tside()
\t\t\t}}
\t\t\tif t := __time.Since(start).Seconds() / float64(runs); t < best {{
\t\t\t\tbest = t
\t\t\t}}
\t\t}}
\t\treturn best
\t}}
\t__print([]any{{best(__before), best(__after)}})"""
    value = pair(
        run_program("go", ["run"], name, "example.go", _program(setup, before, after, main)), name
    )
    return float(value[0]), float(value[1])  # type: ignore[arg-type]


def _compile_error(code: str) -> tuple[int, str] | None:
    """A block parses as a function body (before, after) or as package-level code (setup)."""
    body = _syntax_error(f"package p\nfunc _() {{\n{code}\n}}")
    if body is None:
        return None
    top = _syntax_error(f"package p\n{code}\n")
    if top is None:
        return None
    return max(1, body[0] - 2), body[1]


LANGUAGE = register_lesson_language(
    LessonLanguage(
        id="go",
        fence="go",
        compile_error=_compile_error,
        parse_error=_compile_error,
        run=run,
        time=time,
    )
)
