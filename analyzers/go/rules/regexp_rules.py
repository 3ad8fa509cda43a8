"""Rules about regular expressions: constant patterns compiled again and again."""

from __future__ import annotations

from lessonlens.analyzers.go import declared, facts
from lessonlens.analyzers.match import Match, span_of
from lessonlens.analyzers.model import Hit, Rule, Severity
from lessonlens.analyzers.parsing import Node

COLD_FUNCTIONS = ("Test", "Benchmark", "Example", "Fuzz")
ONCE = frozenset({"OnceValue", "OnceValues", "OnceFunc"})
# Methods that by convention run once per request.
HANDLERS = frozenset({"ServeHTTP", "ServeDNS"})


def _outer_function(node: Node) -> Node | None:
    function = facts.enclosing_function(node)
    while function is not None and function.type == "func_literal":
        function = facts.enclosing_function(function)
    return function


def _once(m: Match, node: Node) -> bool:
    """Inside ``once.Do(func() {…})`` or ``sync.OnceValue(func() …)``: runs once."""
    parent = node.parent
    while parent is not None and parent.type not in ("function_declaration", "method_declaration"):
        if parent.type == "func_literal":
            arguments = parent.parent
            call = arguments.parent if arguments is not None else None
            if arguments is not None and arguments.type == "argument_list" and call is not None:
                function = call.child_by_field_name("function")
                field = function.child_by_field_name("field") if function is not None else None
                if field is not None and m.text(field) == "Do":
                    return True
                target = declared.std_call(m, call)
                if target is not None and target[0] == "sync" and target[1] in ONCE:
                    return True
        parent = parent.parent
    return False


def _cached(m: Match, call: Node) -> bool:
    """``re = regexp.MustCompile(…)`` into a package-level variable: compiled once, lazily."""
    values = call.parent
    statement = values.parent if values is not None else None
    if values is None or statement is None or statement.type != "assignment_statement":
        return False
    left = statement.child_by_field_name("left")
    targets = left.named_children if left is not None else []
    position = next((i for i, v in enumerate(values.named_children) if v == call), -1)
    if not 0 <= position < len(targets) or targets[position].type != "identifier":
        return False
    declaration = declared.resolve(m, targets[position])
    return declaration is not None and declaration.package


def _regexp_in_function(m: Match) -> Hit | None:
    finding = m.node("finding")
    target = declared.std_call(m, finding)
    if target is None or target[0] != "regexp":
        return None
    if not declared.constant_string(m, m.node("pattern")):
        return None
    function = _outer_function(finding)
    if function is None or m.file.test_code:
        return None
    name = facts.function_name(m, function)
    if name == "init" or name.startswith(COLD_FUNCTIONS):
        return None
    if _once(m, finding) or _cached(m, finding):
        return None
    if facts.enclosing_loop(finding) is not None:
        when = "at every iteration of the loop"
    elif name in HANDLERS and function.type == "method_declaration":
        when = "for every request"
    else:
        return None
    return Hit(
        span_of(finding),
        message=f"The constant pattern is compiled again {when}; compile it once, in a "
        "package-level `var`.",
    )


RULES = (
    Rule(
        id="GO003",
        name="regexp-compile-in-function",
        language="go",
        query="GO003.scm",
        message="The constant pattern is compiled again at every call; compile it once, in a "
        "package-level `var`.",
        skill_id="go.regex",
        lesson_id="go-regexp-once",
        severity=Severity.INFORMATION,
        check=_regexp_in_function,
        noqa_codes=("SA6000", "staticcheck"),
        # Opt-in: true advice that pays only in hot code, which a file does not show. Judged on
        # five mature Go projects, most findings sat in code that runs a handful of times (set-up,
        # scripts, small maps): NOISE there (benchmarks/precision/go-round-1.yaml).
        opt_in=True,
        # Performance advice: silent in test code by its predicate (cold code) already; marked so
        # that test files are walked without its patterns.
        quiet_in_tests=True,
        doc="""
## What it does
Opt-in (select it by id or name, for code you know is hot): in mature projects most
findings sat in code that runs a handful of times.

Flags `regexp.MustCompile`, `regexp.Compile` (and the POSIX forms) and `regexp.MatchString` /
`regexp.Match` with a constant pattern inside the body of a loop, or of an HTTP handler's
`ServeHTTP` method: code that certainly runs again and again. (A function called once, at
start-up, may compile lazily on purpose; a single file cannot tell it from a hot one.)

## Why is this bad?
Compiling parses the pattern and builds a program: many allocations, every time the function
runs. A `*regexp.Regexp` is safe for concurrent use, so one compiled at package level serves
every call; `regexp.MatchString` compiles its pattern on every call too.

## Example
```go
func validID(s string) bool {
	return regexp.MustCompile(`^[a-z][a-z0-9-]{2,31}$`).MatchString(s)
}
```

## Use instead
```go
var idPattern = regexp.MustCompile(`^[a-z][a-z0-9-]{2,31}$`)

func validID(s string) bool {
	return idPattern.MatchString(s)
}
```

## References
- https://pkg.go.dev/regexp#MustCompile
- https://pkg.go.dev/regexp#Regexp
- https://staticcheck.dev/docs/checks/#SA6000
""",
    ),
)
