"""Rules about loop variables: copies that Go 1.22's per-iteration variables made pointless."""

from __future__ import annotations

from lessonlens.analyzers.go import facts
from lessonlens.analyzers.go.spec import build_before_loopvar, go_at_least
from lessonlens.analyzers.match import Match, span_of
from lessonlens.analyzers.model import Fix, Hit, Rule, Span, TextEdit
from lessonlens.analyzers.parsing import Node

_WRITES = frozenset({"assignment_statement", "inc_statement", "dec_statement"})


def _copied_names(m: Match, statement: Node) -> list[str] | None:
    """``["a", "b"]`` for ``a, b := a, b``; None for anything else."""
    if statement.type != "short_var_declaration":
        return None
    left = statement.child_by_field_name("left")
    right = statement.child_by_field_name("right")
    if left is None or right is None:
        return None
    names = [m.text(n) for n in left.named_children if n.type == "identifier"]
    values = [m.text(n) for n in right.named_children if n.type == "identifier"]
    if len(names) != len(left.named_children) or names != values:
        return None
    return names


def _loop_variables(m: Match, loop: Node) -> tuple[set[str], bool] | None:
    """The names the ``for`` statement declares with ``:=``, and whether it has three clauses."""
    for clause in loop.named_children:
        if clause.type == "range_clause":
            left = clause.child_by_field_name("left")
            if left is None or not any(c.type == ":=" for c in clause.children):
                return None  # `for k, v = range`: the variables belong to the function
            return {m.text(n) for n in left.named_children} - {"_"}, False
        if clause.type == "for_clause":
            init = clause.child_by_field_name("initializer")
            if init is None or init.type != "short_var_declaration":
                return None
            left = init.child_by_field_name("left")
            return ({m.text(n) for n in left.named_children} if left else set()), True
    return None


def _changed(m: Match, body: Node, names: list[str]) -> bool:
    """Whether the body assigns one of ``names``, steps it, or takes its address."""
    wanted = set(names)
    for node in facts.descendants(body):
        if node.type in _WRITES:
            assigned = node.type == "assignment_statement"
            target = node.child_by_field_name("left") if assigned else None
            targets = target.named_children if target is not None else node.named_children[:1]
            if any(t.type == "identifier" and m.text(t) in wanted for t in targets):
                return True
        elif node.type == "unary_expression" and m.text(node).startswith("&"):
            operand = node.child_by_field_name("operand")
            if operand is not None and m.text(operand) in wanted:
                return True
    return False


def _line_deletion(m: Match, statement: Node) -> TextEdit | None:
    """An edit deleting the statement's line (with a comment after it), if it is alone there."""
    source = m.file.source
    start = source.rfind(b"\n", 0, statement.start_byte) + 1
    end = source.find(b"\n", statement.end_byte)
    end = len(source) if end == -1 else end
    before = source[start : statement.start_byte]
    after = source[statement.end_byte : end].strip()
    if before.strip() or (after and not after.startswith(b"//")):
        return None
    row = statement.start_point[0]
    span = Span(row, 0, row + 1, 0, start, min(end + 1, len(source)))
    return TextEdit(span, "")


def _loopvar_copy(m: Match) -> Hit | None:
    statement = m.node("finding")
    names = _copied_names(m, statement)
    body_list = statement.parent
    loop = body_list.parent.parent if body_list and body_list.parent else None
    if names is None or body_list is None or loop is None or loop.type != "for_statement":
        return None
    previous = statement.prev_named_sibling
    while previous is not None:  # only the copies at the top of the body
        if previous.type != "comment" and _copied_names(m, previous) is None:
            return None
        previous = previous.prev_named_sibling
    declared = _loop_variables(m, loop)
    if declared is None or not set(names) <= declared[0]:
        return None
    three_clause = declared[1]
    if three_clause and _changed(m, body_list, names):
        return None  # the copy isolates a change from the loop's own counter
    if build_before_loopvar(m.file.source):
        return None
    edit = _line_deletion(m, statement)
    fix = Fix(title="Remove the copy", edits=(edit,)) if edit is not None else None
    return Hit(span_of(statement), fix=fix)


RULES = (
    Rule(
        id="GO008",
        name="redundant-loopvar-copy",
        language="go",
        query="GO008.scm",
        message="Since Go 1.22 each iteration has its own loop variable: this copy does nothing.",
        skill_id="go.loops",
        lesson_id="go-loopvar-copy",
        check=_loopvar_copy,
        when=go_at_least((1, 22)),
        noqa_codes=("copyloopvar",),
        fix_title="Remove the copy",
        doc="""
## What it does
Flags `v := v` (and `i, v := i, v`) at the top of a loop body that copies the loop's own
variables, in a module that builds for Go 1.22 or later (the `go` line of `go.mod`, or the
`target-go` option).

## Why is this bad?
Before Go 1.22 a `for` loop had one variable for all its iterations, and a closure or goroutine
that captured it saw the last value: the copy gave each iteration its own. Since Go 1.22 every
iteration declares a fresh variable, so the copy only makes the reader wonder why it is there.

## Example
```go
for _, tc := range cases {
	tc := tc
	t.Run(tc.name, func(t *testing.T) {
		t.Parallel()
		check(t, tc)
	})
}
```

## Use instead
```go
for _, tc := range cases {
	t.Run(tc.name, func(t *testing.T) {
		t.Parallel()
		check(t, tc)
	})
}
```

## References
- https://go.dev/blog/loopvar-preview
- https://go.dev/ref/spec#For_clause
""",
        fix_safety="Safe: the rule fires only when the module builds for Go 1.22 or later, where "
        "the loop variable is already per-iteration, and never in a three-clause loop whose body "
        "changes the variable or takes its address (there the copy isolates the change).",
    ),
)
