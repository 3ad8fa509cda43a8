"""Rules about errors: comparing and asserting them directly, past any wrapping."""

from __future__ import annotations

import re

from lessonlens.analyzers.go import facts
from lessonlens.analyzers.go.spec import wrapped_names
from lessonlens.analyzers.match import Match, span_of
from lessonlens.analyzers.model import Applicability, Fix, Hit, Rule, TextEdit
from lessonlens.analyzers.parsing import Node

_SENTINEL_NAME = re.compile(r"^[Ee]rr[A-Z0-9]")
# Returned bare by their package's contract (the io.Reader contract: "Read returns io.EOF").
_NEVER_WRAPPED = frozenset({("io", "EOF"), ("io", "ErrUnexpectedEOF")})
# Sentinels that these methods document returning as they are: comparing their result directly
# is correct (`srv.ListenAndServe() != http.ErrServerClosed`, `row.Scan(…) == sql.ErrNoRows`).
_RETURNED_BARE = {
    ("net/http", "ErrServerClosed"): frozenset(
        {"ListenAndServe", "ListenAndServeTLS", "Serve", "ServeTLS"}
    ),
    ("net/http", "ErrNoCookie"): frozenset({"Cookie"}),
    ("database/sql", "ErrNoRows"): frozenset({"Scan"}),
    ("flag", "ErrHelp"): frozenset({"Parse"}),
    ("bufio", "ErrBufferFull"): frozenset({"ReadSlice", "ReadLine", "Peek"}),
}
# Error types of the standard library that callers assert and wrappers wrap.
_ERROR_TYPES = frozenset(
    {
        ("io/fs", "PathError"),
        ("os", "PathError"),
        ("os", "LinkError"),
        ("os", "SyscallError"),
        ("os/exec", "ExitError"),
        ("os/exec", "Error"),
        ("net", "Error"),
        ("net", "OpError"),
        ("net", "DNSError"),
        ("net", "AddrError"),
        ("net/url", "Error"),
        ("net/http", "MaxBytesError"),
        ("encoding/json", "SyntaxError"),
        ("encoding/json", "UnmarshalTypeError"),
        ("strconv", "NumError"),
    }
)
# `ctx.Err()`, `scanner.Err()`: accessors that return the error they hold, unwrapped.
_ACCESSORS = frozenset({"Err"})
_CONTEXT_SENTINELS = frozenset({"Canceled", "DeadlineExceeded"})
# Methods that implement the errors package's protocol compare directly, by definition.
_PROTOCOL_METHODS = frozenset({"Is", "As", "Unwrap"})
_WITH_INITIALIZER = frozenset(
    {"if_statement", "expression_switch_statement", "type_switch_statement"}
)
_STATEMENT_LISTS = frozenset({"statement_list", "source_file"})
_FUNCTIONS = frozenset({"function_declaration", "method_declaration", "func_literal"})


def _in_protocol_method(m: Match, node: Node) -> bool:
    function = facts.outermost_function(node)
    return (
        function is not None
        and function.type == "method_declaration"
        and facts.function_name(m, function) in _PROTOCOL_METHODS
    )


def _sentinel(m: Match, node: Node) -> tuple[str, str] | None:
    """``(import path, name)`` of a sentinel error (path "" for this package's); else None."""
    if node.type == "selector_expression":
        package = node.child_by_field_name("operand")
        field = node.child_by_field_name("field")
        if package is None or field is None or package.type != "identifier":
            return None
        path = facts.imports(m).get(m.text(package))
        if path is None or facts.declared_in_function(m, m.text(package), node):
            return None  # a struct field (`resp.ErrCode`), not a package's variable
        name = m.text(field)
        if (path, name) in _NEVER_WRAPPED:
            return None
        if _SENTINEL_NAME.match(name) or (path == "context" and name in _CONTEXT_SENTINELS):
            return path, name
        return None
    if node.type != "identifier" or not _SENTINEL_NAME.match(m.text(node)):
        return None
    name = m.text(node)
    if facts.declared_in_function(m, name, node):
        return None  # a local variable, perhaps an error kept from earlier
    if name not in _wrapped_here(m):
        # This package's own sentinel: the package decides how it travels, and returns it bare
        # as often as not. Unless this file wraps it (`fmt.Errorf("…: %w", ErrX)`), nothing says
        # it arrives wrapped (judged on real code: bare in four of five such comparisons).
        return None
    value = facts.package_var_value(m, name)
    if value is None:
        known = facts.declared_type(m, name, node)
        # Declared in another file of the package (unknown here), or `var ErrX error`.
        return ("", name) if known in (None, "error") else None
    return ("", name) if _makes_error(m, value) else None


def _wrapped_here(m: Match) -> frozenset[str]:
    """The names this file passes to a ``%w`` verb (``fmt.Errorf("load: %w", errX)``)."""
    found: frozenset[str] | None = m.file.facts.get("go.wrapped")
    if found is None:
        found = m.file.facts["go.wrapped"] = wrapped_names(m.file.root, m.file.source)
    return found


def _makes_error(m: Match, value: Node) -> bool:
    """``errors.New(…)``, ``fmt.Errorf(…)``, or the same from an errors package (pkg/errors)."""
    if facts.expression_type(m, value) == "error":
        return True
    function = value.child_by_field_name("function") if value.type == "call_expression" else None
    if function is None or function.type != "selector_expression":
        return False
    package = function.child_by_field_name("operand")
    field = function.child_by_field_name("field")
    path = facts.imports(m).get(m.text(package)) if package is not None else None
    return (
        path is not None
        and path.rsplit("/", 1)[-1] in ("errors", "xerrors")
        and field is not None
        and m.text(field) in ("New", "Errorf")
    )


def _error_variable(m: Match, err: Node) -> bool:
    """Whether ``err`` may be an error: named like one, and not declared otherwise.

    ``err := recover()`` is named like an error but holds an ``any``.
    """
    known = facts.declared_type(m, m.text(err), err)
    if known is not None and known != "error":
        return False
    origin = _origin(m, err, m.text(err))
    if origin is None or isinstance(origin, str) or origin.type != "call_expression":
        return True
    callee = origin.child_by_field_name("function")
    return callee is None or m.text(callee) != "recover"


def _innermost_function(node: Node) -> Node | None:
    parent = node.parent
    while parent is not None and parent.type not in _FUNCTIONS:
        parent = parent.parent
    return parent


def _assigns(m: Match, statement: Node, name: str) -> Node | None:
    """What ``statement`` assigns to ``name`` (``x, err := f()``: the call), or None."""
    if statement.type not in ("short_var_declaration", "assignment_statement"):
        return None
    left = statement.child_by_field_name("left")
    right = statement.child_by_field_name("right")
    if left is None or right is None:
        return None
    names = [m.text(n) for n in left.named_children]
    if name not in names:
        return None
    values = right.named_children
    if len(values) == len(names):
        return values[names.index(name)]
    return values[0] if len(values) == 1 else None


_UNSURE = "unsure"


def _origin(m: Match, node: Node, name: str) -> Node | str | None:
    """The value last given to ``name`` above ``node``, in straight-line code.

    Walks up through the enclosing blocks to the function: at each level the statement's own
    initializer (``if err := f(); …``), then the statements before it, nearest first. None
    when nothing above assigns the name (a parameter); ``_UNSURE`` when a statement may assign
    it in one of its branches.
    """
    child, parent = node, node.parent
    while parent is not None and parent.type not in _FUNCTIONS:
        if parent.type in _WITH_INITIALIZER:
            initializer = parent.child_by_field_name("initializer")
            if initializer is not None and initializer.id != child.id:
                found = _assigns(m, initializer, name)
                if found is not None:
                    return found
        if parent.type == "statement_list":
            previous = child.prev_named_sibling
            while previous is not None:
                found = _assigns(m, previous, name)
                if found is not None:
                    return found
                if any(_assigns(m, n, name) is not None for n in facts.descendants(previous)):
                    return _UNSURE
                previous = previous.prev_named_sibling
        child, parent = parent, parent.parent
    return None


def _method_name(m: Match, call: Node) -> str | None:
    function = call.child_by_field_name("function")
    if function is None or function.type != "selector_expression":
        return None
    field = function.child_by_field_name("field")
    return m.text(field) if field is not None else None


def _bare_by_contract(m: Match, node: Node, err: Node, sentinel: tuple[str, str]) -> bool:
    """Whether ``err`` is set by a call documented to return ``sentinel`` bare.

    Any assignment in the function counts (``err = srv.Serve(l)`` in one branch and
    ``err = srv.ServeTLS(…)`` in the other): a sentinel compared in a function that calls
    its documented source is that source's contract at work.
    """
    function = _innermost_function(node)
    if function is None:
        return False
    wanted = _ACCESSORS | _RETURNED_BARE.get(sentinel, frozenset())
    name = m.text(err)
    for statement in facts.descendants(function, into_functions=False):
        value = _assigns(m, statement, name)
        if value is None or value.type != "call_expression":
            continue
        if _method_name(m, value) in wanted:
            return True
    return False


def _file_functions(m: Match) -> frozenset[str]:
    """Names of the functions and methods this file declares."""
    found: frozenset[str] | None = m.file.facts.get("go.file-functions")
    if found is None:
        found = frozenset(
            facts.function_name(m, c) for c in m.file.root.named_children if c.type in _FUNCTIONS
        )
        m.file.facts["go.file-functions"] = found
    return found


def _all_in_view(m: Match, node: Node, err: Node, sentinel: tuple[str, str]) -> bool:
    """Whether this file declares the sentinel, never wraps it, and made ``err`` itself.

    ``err`` comes straight from a function of this file, and the sentinel belongs to this
    file: whatever returns it here returns it bare, so the comparison cannot miss.
    """
    path, name = sentinel
    if path or facts.package_var_value(m, name) is None or name in _wrapped_here(m):
        return False
    origin = _origin(m, node, m.text(err))
    if origin is None or isinstance(origin, str) or origin.type != "call_expression":
        return False
    callee = origin.child_by_field_name("function")
    if callee is not None and callee.type == "selector_expression":
        callee = callee.child_by_field_name("field")
    return callee is not None and m.text(callee) in _file_functions(m)


def _comparison(m: Match) -> Hit | None:
    finding, err = m.node("finding"), m.node("err")
    sentinel = _sentinel(m, m.node("sentinel"))
    if sentinel is None or not _error_variable(m, err):
        return None
    if _bare_by_contract(m, finding, err, sentinel) or _all_in_view(m, finding, err, sentinel):
        return None
    target = m.text(m.node("sentinel"))
    negated = m.text(m.node("op")) == "!="
    call = f"{'!' if negated else ''}errors.Is({m.text(err)}, {target})"
    message = (
        f"`{m.text(finding)}` misses `{target}` once something wraps it (`%w`); "
        f"`{call}` looks through the chain."
    )
    fix = None
    if facts.imports_package(m, "errors", "errors"):
        fix = Fix(
            title="Use errors.Is",
            edits=(TextEdit(span_of(finding), call),),
            applicability=Applicability.UNSAFE,
            reason="the branch now also matches a wrapped error, which is the point but changes "
            "what the code does when one arrives",
        )
    return Hit(span_of(finding), message=message, fix=fix)


def _direct_error_check(m: Match) -> Hit | None:
    finding = m.node("finding")
    if _in_protocol_method(m, finding):
        return None
    return _comparison(m)


RULES = (
    Rule(
        id="GO009",
        name="error-equality",
        language="go",
        query="GO009.scm",
        message="`==` and type assertions see only the outermost error; `errors.Is` and "
        "`errors.As` also find one wrapped inside.",
        skill_id="go.errors",
        lesson_id="go-errors-is",
        check=_direct_error_check,
        quiet_in_tests=True,
        noqa_codes=("errorlint",),
        fix_title="Use errors.Is",
        # Opt-in: on two rounds of real code most comparisons read a sentinel its source returns
        # bare by contract (parsers, registries, flag errors), which a file does not show.
        opt_in=True,
        doc="""
## What it does
Opt-in (select it by id or name): in mature projects most comparisons read a sentinel that
its source returns bare by contract, which a file does not show.

Flags an error compared with `==` or `!=` against another package's sentinel error
(`pkg.ErrX`, `fs.ErrNotExist`, `context.Canceled`), or against this package's own sentinel when
this file wraps it with `%w` somewhere.

Silent for `nil`; `io.EOF` and `io.ErrUnexpectedEOF` (returned bare by the `io.Reader`
contract); errors read back from `ctx.Err()` and similar accessors; sentinels compared in a
function that calls their documented source (`ListenAndServe` and `http.ErrServerClosed`,
`Scan` and `sql.ErrNoRows`); this package's own sentinels that this file never wraps (the
package decides how they travel, and returns them bare as often as not); and inside `Is`, `As`
and `Unwrap` methods, which must compare directly. Switches on an error value and type
assertions (`err.(*fs.PathError)`) are left alone: on real code they were right about half the
time, depending on contracts a file does not show.

## Why is this bad?
Since Go 1.13, code adds context to an error by wrapping it: `fmt.Errorf("load %s: %w", name,
err)`. The wrapped error is a different value, so `err == ErrNotFound` is false, and
`err.(*fs.PathError)` fails, as soon as anyone between the source and the check adds context.
`errors.Is` and `errors.As` walk the chain of wrapped errors.

## Example
```go
if err == fs.ErrNotExist {
	return defaults, nil
}
```

## Use instead
```go
if errors.Is(err, fs.ErrNotExist) {
	return defaults, nil
}
```

## References
- https://go.dev/blog/go1.13-errors
- https://pkg.go.dev/errors#Is
- https://pkg.go.dev/errors#As
""",
        fix_safety="Unsafe: the condition now also holds for a wrapped error. That is what the "
        "rule asks for, but it changes what the code does when one arrives. Offered only where "
        "the file imports the standard `errors` package.",
    ),
)
