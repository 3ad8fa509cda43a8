"""Rules about resources a function holds: deferred releases that wait for the function's end."""

from __future__ import annotations

from lessonlens.analyzers.go import declared, facts, flow
from lessonlens.analyzers.match import Match, span_of
from lessonlens.analyzers.model import Hit, Rule, Severity
from lessonlens.analyzers.parsing import Node

TEST_FUNCTIONS = ("Test", "Benchmark", "Example", "Fuzz")


def _inside(node: Node, outer: Node) -> bool:
    return outer.start_byte <= node.start_byte and node.end_byte <= outer.end_byte


def in_test(m: Match, node: Node) -> bool:
    """Test files, and ``Test*``/``Benchmark*``/``Example*``/``Fuzz*`` functions."""
    if m.file.test_code:
        return True
    function = facts.enclosing_function(node)
    while function is not None and function.type == "func_literal":
        function = facts.enclosing_function(function)
    return function is not None and facts.function_name(m, function).startswith(TEST_FUNCTIONS)


def _root(node: Node) -> Node:
    """``resp`` for ``resp.Body.Close``'s operand ``resp.Body``."""
    while node.type == "selector_expression":
        operand = node.child_by_field_name("operand")
        if operand is None:
            break
        node = operand
    return node


def _assigned_in(m: Match, body: Node, name: str, before: Node) -> bool:
    """Whether the loop body assigns ``name`` (``f, err = os.Open(p)``) before ``before``."""
    stack = [body]
    while stack:
        node = stack.pop()
        if node.start_byte >= before.start_byte or node.type == "func_literal":
            continue
        if node.type == "assignment_statement":
            left = node.child_by_field_name("left")
            if left is not None and any(
                t.type == "identifier" and m.text(t) == name for t in left.named_children
            ):
                return True
        stack.extend(node.named_children)
    return False


def _bound_in_iteration(m: Match, root: Node, body: Node, finding: Node) -> bool:
    declaration = declared.resolve(m, root)
    if declaration is not None and declaration.kind in ("short", "var"):
        return _inside(declaration.node, body) or _assigned_in(m, body, m.text(root), finding)
    return _assigned_in(m, body, m.text(root), finding)


def _kept_or_released(m: Match, body: Node, root: Node, callee: Node, finding: Node) -> bool:
    """Whether the loop keeps the resource for later, or releases it itself anyway.

    Kept: the resource's name is appended to, assigned to or sent out of the iteration
    (`blocks = append(blocks, b)`, `servers[i] = e`, `ch <- f`): it must outlive the loop, and
    the defer is how the function closes it at the end. Released: the same call appears again
    later in the body (`cancel()` at the iteration's end): the defer is only a safety net.
    """
    name = m.text(root)
    call = m.text(callee)
    stack = [body]
    while stack:
        node = stack.pop()
        if node.type == "func_literal":
            continue
        if node.type == "call_expression" and node.start_byte > finding.end_byte:
            function = node.child_by_field_name("function")
            if function is not None and m.text(function) == call:
                return True
        if node.type in ("assignment_statement", "send_statement"):
            right = node.child_by_field_name("right") or node.child_by_field_name("value")
            if right is not None and _names(m, right) & {name}:
                left = node.child_by_field_name("left") or node.child_by_field_name("channel")
                if left is None or m.text(left) != name:
                    return True
        if node.type == "call_expression":
            function = node.child_by_field_name("function")
            arguments = node.child_by_field_name("arguments")
            if (
                function is not None
                and m.text(function) == "append"
                and arguments is not None
                and any(name in _names(m, a) for a in arguments.named_children[1:])
            ):
                return True
        stack.extend(node.named_children)
    return False


def _names(m: Match, node: Node) -> set[str]:
    if node.type == "identifier":
        return {m.text(node)}
    found: set[str] = set()
    stack = [node]
    while stack:
        current = stack.pop()
        if current.type == "identifier":
            found.add(m.text(current))
        elif current.type != "func_literal":
            stack.extend(current.named_children)
    return found


def _defer_in_loop(m: Match) -> Hit | None:
    finding = m.node("finding")
    loop = facts.enclosing_loop(finding)
    if loop is None or in_test(m, finding):
        return None
    body = loop.child_by_field_name("body")
    if body is None or not _inside(finding, body):
        return None
    callee = m.node("callee")
    if callee.type == "selector_expression":
        operand = callee.child_by_field_name("operand")
        root = _root(operand) if operand is not None else callee
    else:
        root = callee
    if root.type != "identifier" or not _bound_in_iteration(m, root, body, finding):
        return None
    if flow.at_most_once(m, finding, loop):
        return None
    if _kept_or_released(m, body, root, callee, finding):
        return None
    if callee.type == "selector_expression":
        operand = callee.child_by_field_name("operand")
        what = m.text(operand) if operand is not None else m.text(root)
        message = (
            f"The deferred `{m.text(callee)}()` runs when the function returns, not at the end "
            f"of this iteration: every `{what}` the loop opens stays open until then."
        )
    else:
        message = (
            f"The deferred `{m.text(callee)}()` runs when the function returns, not at the end "
            "of this iteration: every context the loop creates stays alive until then."
        )
    return Hit(span_of(finding), message=message)


RULES = (
    Rule(
        id="GO002",
        name="defer-in-loop",
        language="go",
        query="GO002.scm",
        message="A deferred call runs when the function returns, not at the end of the "
        "iteration: what the loop opens stays open until then.",
        skill_id="go.resources",
        lesson_id="go-defer-in-loop",
        severity=Severity.INFORMATION,
        check=_defer_in_loop,
        noqa_codes=("deferInLoop", "gocritic", "revive", "SA9001", "staticcheck"),
        # Opt-in: judged on real code, most deferred releases in loops were deliberate (the
        # resource outlives the loop, a timer must stay armed) or in loops that run twice.
        opt_in=True,
        # Performance advice: silent in test code by its predicate (cold code) already; marked so
        # that test files are walked without its patterns.
        quiet_in_tests=True,
        doc="""
## What it does
Opt-in (select it by id or name): in mature projects most deferred releases in loops were
deliberate (the resource outlives the loop) or in loops that run a couple of times.

Flags `defer v.Close()` (and `Rollback`, `Stop`, `Release`, or `defer cancel()`) directly in
the body of a loop, where `v` or `cancel` is bound in the same iteration.

## Why is this bad?
`defer` runs when the surrounding *function* returns, not when the iteration ends. A loop
over a thousand files keeps a thousand descriptors open (and may hit the process limit); a
loop that opens transactions or contexts holds every one of them until the function is done.

## Example
```go
for _, path := range paths {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	process(f)
}
```

## Use instead
```go
for _, path := range paths {
	if err := processFile(path); err != nil {
		return err
	}
}

func processFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return process(f)
}
```

## References
- https://go.dev/ref/spec#Defer_statements
- https://go.dev/blog/defer-panic-and-recover
""",
    ),
)
