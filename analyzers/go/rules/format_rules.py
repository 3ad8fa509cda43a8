"""Rules about formatting: ``fmt`` machinery spent on conversions that need none."""

from __future__ import annotations

from dataclasses import dataclass

from lessonlens.analyzers.go import declared, facts
from lessonlens.analyzers.match import Match, span_of
from lessonlens.analyzers.model import Fix, Hit, Rule, Severity, TextEdit
from lessonlens.analyzers.parsing import Node

# (verb, certain type of the argument) -> (package the replacement needs, replacement).
CONVERSIONS: dict[tuple[str, str], tuple[str | None, str]] = {
    ("%d", "int"): ("strconv", "strconv.Itoa({})"),
    ("%d", "int64"): ("strconv", "strconv.FormatInt({}, 10)"),
    ("%d", "uint64"): ("strconv", "strconv.FormatUint({}, 10)"),
    ("%t", "bool"): ("strconv", "strconv.FormatBool({})"),
    ("%s", "string"): (None, "{}"),
}


@dataclass(frozen=True)
class _Plan:
    replacement: str
    needs: str | None
    message: str


def _format_text(m: Match, node: Node) -> str | None:
    """The format's characters; ``None`` when an escape could spell a ``%`` (a hex escape)."""
    for child in node.named_children:
        if child.type == "escape_sequence" and m.text(child)[1:2] not in ("n", "t", '"', "\\"):
            return None
    return m.text(node)[1:-1]


def _plan(m: Match, format_node: Node, arguments: list[Node]) -> _Plan | None:
    verb = _format_text(m, format_node)
    if verb is None:
        return None
    literal = m.text(format_node)
    if len(arguments) == 1 and "%" not in verb:
        return _Plan(
            literal,
            None,
            "`fmt.Sprintf` of a literal without a verb returns the literal; use it directly.",
        )
    if len(arguments) != 2:
        return None
    value = arguments[1]
    kind = declared.expression_type(m, value)
    conversion = CONVERSIONS.get((verb, kind or ""))
    if conversion is None:
        return None
    needs, template = conversion
    argument = m.text(value)
    replacement = template.format(argument)
    if needs is None:
        return _Plan(
            replacement,
            None,
            '`fmt.Sprintf("%s", s)` of a string returns the same string; use the value itself.',
        )
    shown = replacement.split("(", 1)[0]
    return _Plan(
        replacement,
        needs,
        f'`fmt.Sprintf("{verb}", …)` parses a format to print one {kind}; `{shown}` converts '
        "it directly.",
    )


def _sprintf(m: Match) -> Hit | None:
    finding = m.node("finding")
    package = m.node("package")
    if facts.imports(m).get(m.text(package)) != "fmt" or declared.resolve(m, package) is not None:
        return None
    parent = finding.parent
    if parent is None or parent.type == "expression_statement":
        return None
    arguments_node = finding.child_by_field_name("arguments")
    if arguments_node is None:
        return None
    arguments = [c for c in arguments_node.named_children if c.type != "comment"]
    if any(a.type == "variadic_argument" for a in arguments):
        return None
    plan = _plan(m, m.node("format"), arguments)
    if plan is None:
        return None
    bare = plan.replacement == m.text(arguments[-1]) and arguments[-1].type == "binary_expression"
    if bare and parent.type not in ("argument_list", "expression_list"):
        plan = _Plan(f"({plan.replacement})", plan.needs, plan.message)
    return Hit(span_of(finding), message=plan.message, fix=_fix(m, finding, package, plan))


# ------------------------------------------------------------------------------ the fix


def _std(path: str) -> bool:
    return "." not in path.split("/", 1)[0]


def _uses(m: Match, name: str) -> int:
    """How many ``name.X`` selectors the file holds (uses of an imported package)."""
    table: dict[str, int] | None = m.file.facts.get("go.format.uses")
    if table is None:
        table = {}
        stack = [m.file.root]
        while stack:
            node = stack.pop()
            if node.type in ("selector_expression", "qualified_type"):
                field = "operand" if node.type == "selector_expression" else "package"
                operand = node.child_by_field_name(field)
                if operand is not None and operand.type in ("identifier", "package_identifier"):
                    key = m.text(operand)
                    table[key] = table.get(key, 0) + 1
            stack.extend(node.named_children)
        m.file.facts["go.format.uses"] = table
    return table.get(name, 0)


def _spec_path(m: Match, spec: Node) -> str:
    path = spec.child_by_field_name("path")
    return m.text(path).strip('"`') if path is not None else ""


def _specs(declaration: Node) -> list[Node]:
    found: list[Node] = []
    for child in declaration.named_children:
        if child.type == "import_spec":
            found.append(child)
        elif child.type == "import_spec_list":
            found.extend(c for c in child.named_children if c.type == "import_spec")
    return found


def _rewrite(m: Match, declaration: Node, add: str | None, drop: Node | None) -> str | None:
    """The import declaration's text with ``"add"`` inserted and the spec ``drop`` removed."""
    specs = _specs(declaration)
    if not specs:
        return None  # a declaration typing has left without a readable import: no fix
    grouped = any(c.type == "import_spec_list" for c in declaration.named_children)
    if not grouped:
        kept = [] if drop is not None else [m.text(specs[0])]
        lines = sorted([*kept, f'"{add}"'] if add else kept, key=lambda s: s.split()[-1])
        if not lines:
            return ""
        if len(lines) == 1:
            return f"import {lines[0]}"
        return "import (\n" + "".join(f"\t{line}\n" for line in lines) + ")"
    base = declaration.start_point[0]
    rows = [s.start_point[0] - base for s in specs]
    if len(set(rows)) != len(rows) or any(s.start_point[0] != s.end_point[0] for s in specs):
        return None
    lines = m.text(declaration).split("\n")
    if 0 in rows or len(lines) - 1 in rows:
        return None
    insert_at = None
    if add is not None:
        std = [
            (r, _spec_path(m, s))
            for r, s in zip(rows, specs, strict=True)
            if _std(_spec_path(m, s))
        ]
        after = [r for r, path in std if path > add]
        insert_at = after[0] if after else (std[-1][0] + 1 if std else 1)
    indent = lines[rows[0]][: len(lines[rows[0]]) - len(lines[rows[0]].lstrip())] or "\t"
    out: list[str] = []
    for row, line in enumerate(lines):
        if row == insert_at:
            out.append(f'{indent}"{add}"')
        if drop is not None and row == drop.start_point[0] - base:
            continue
        out.append(line)
    if (
        not any(line.strip() and not line.strip().startswith("//") for line in out[1:-1])
        and add is None
    ):
        return ""
    return "\n".join(out)


def _fix(m: Match, call: Node, package: Node, plan: _Plan) -> Fix | None:
    """The rewrite, with the imports it needs: ``strconv`` added, ``fmt`` dropped when unused.

    Every fix rewrites the (first) import declaration, even when it leaves it as it was: two
    fixes applied in one pass could each leave ``fmt`` to the other and together leave it
    unused, so they must overlap and be applied one pass at a time.
    """
    declarations = [c for c in m.file.root.named_children if c.type == "import_declaration"]
    if not declarations:
        return None
    function = facts.enclosing_function(call)
    while function is not None and function.type == "func_literal":
        function = facts.enclosing_function(function)
    add = None
    text = plan.replacement
    if plan.needs is not None:
        bound = [name for name, path in facts.imports(m).items() if path == plan.needs]
        if bound and bound[0] not in ("_", "."):
            text = bound[0] + text[len(plan.needs) :]
        elif plan.needs in facts.imports(m) or declared.package_declaration(m, plan.needs):
            return None
        else:
            add = plan.needs
        if function is not None and declared.declared_in_function(m, function, text.split(".")[0]):
            return None
    drop = None
    if _uses(m, m.text(package)) == 1:
        drop = next((s for d in declarations for s in _specs(d) if _spec_path(m, s) == "fmt"), None)
        if drop is None:
            return None
    edits = [TextEdit(span_of(call), text)]
    owner = None
    if drop is not None:
        owner = next(d for d in declarations if d.start_byte <= drop.start_byte < d.end_byte)
    first = declarations[0]
    if owner is not None and owner != first:
        new_owner = _rewrite(m, owner, None, drop)
        new_first = _rewrite(m, first, add, None)
        if new_owner is None or new_first is None:
            return None
        edits += [TextEdit(span_of(owner), new_owner), TextEdit(span_of(first), new_first)]
    else:
        new_first = _rewrite(m, first, add, drop)
        if new_first is None:
            return None
        edits.append(TextEdit(span_of(first), new_first))
    return Fix(title="Convert without fmt", edits=tuple(edits))


RULES = (
    Rule(
        id="GO005",
        name="sprintf-plain-conversion",
        language="go",
        query="GO005.scm",
        message="`fmt.Sprintf` parses a format to do a plain conversion; `strconv` (or the "
        "value itself) says it directly.",
        skill_id="go.strings",
        lesson_id="go-strconv-conversions",
        severity=Severity.INFORMATION,
        check=_sprintf,
        quiet_in_tests=True,
        noqa_codes=("perfsprint", "S1039", "staticcheck"),
        fix_title="Convert without fmt",
        # Opt-in: true advice that pays only in hot code, which a file does not show. Judged on
        # five mature Go projects, most findings sat in code that runs a handful of times (set-up,
        # scripts, small maps): NOISE there (benchmarks/precision/go-round-1.yaml).
        opt_in=True,
        doc="""
## What it does
Opt-in (select it by id or name, for code you know is hot): in mature projects most
findings sat in code that runs a handful of times.

Flags `fmt.Sprintf` with a format that is one bare verb of a value whose type is certain
(`"%d"` of an `int`, `"%s"` of a `string`, `"%t"` of a `bool`), and `fmt.Sprintf` of a
literal without any verb. (`fmt.Errorf("literal")` is left alone: on an error path the gain
is nil, and many codebases keep `Errorf` everywhere on purpose.)

## Why is this bad?
`fmt` parses the format at run time and boxes the argument in an interface to print one
value; `strconv.Itoa(n)` converts directly, and a string is already a string. The direct
form says what happens and costs a third of the time and half the allocations.

## Example
```go
id := fmt.Sprintf("%d", len(items))
name := fmt.Sprintf("%s", user)
title := fmt.Sprintf("Untitled")
```

## Use instead
```go
id := strconv.Itoa(len(items))
name := user
title := "Untitled"
```

## References
- https://pkg.go.dev/strconv#Itoa
- https://pkg.go.dev/fmt
""",
        fix_safety="Safe: the argument's type is certain (declared in the function or at "
        "package level), and for it the direct conversion gives the same string. The fix "
        "adds the `strconv` import and drops `fmt` when no other use remains.",
    ),
)
