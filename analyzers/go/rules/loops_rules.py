"""Rules about work a loop repeats: strings rebuilt by ``+=``, slices grown one append at a time."""

from __future__ import annotations

from lessonlens.analyzers.go import declared, facts, flow
from lessonlens.analyzers.match import Match, span_of
from lessonlens.analyzers.model import Applicability, Fix, Hit, Rule, Severity, TextEdit
from lessonlens.analyzers.parsing import Node


def _inside(node: Node, outer: Node) -> bool:
    return outer.start_byte <= node.start_byte and node.end_byte <= outer.end_byte


def _identifiers(node: Node, name: str, m: Match) -> list[Node]:
    found: list[Node] = []
    stack = [node]
    while stack:
        current = stack.pop()
        if current.type == "identifier" and m.text(current) == name:
            found.append(current)
        stack.extend(current.named_children)
    return found


# ------------------------------------------------------------------------------ GO001


def _leftmost(node: Node) -> Node:
    while node.type == "binary_expression":
        left = node.child_by_field_name("left")
        if left is None:
            break
        node = left
    return node


def _plus_chain(m: Match, node: Node) -> bool:
    while node.type == "binary_expression":
        operator = node.child_by_field_name("operator")
        if operator is None or m.text(operator) != "+":
            return False
        left = node.child_by_field_name("left")
        if left is None:
            return False
        node = left
    return True


def _appends_to(m: Match, assignment: Node, name: str) -> bool:
    """``name += …`` or ``name = name + …``: adds to the string, does not reset it."""
    operator = assignment.child_by_field_name("operator")
    op = m.text(operator) if operator is not None else ""
    if op == "+=":
        return True
    right = assignment.child_by_field_name("right")
    values = right.named_children if right is not None else []
    if op != "=" or len(values) != 1 or not _plus_chain(m, values[0]):
        return False
    first = _leftmost(values[0])
    return values[0].type == "binary_expression" and m.text(first) == name


def _reset_in(m: Match, body: Node, name: str) -> bool:
    """Whether the loop body assigns ``name`` other than by appending to it."""
    stack = [body]
    while stack:
        node = stack.pop()
        if node.type in ("assignment_statement", "short_var_declaration"):
            left = node.child_by_field_name("left")
            targets = left.named_children if left is not None else []
            named = any(t.type == "identifier" and m.text(t) == name for t in targets)
            if named and (node.type == "short_var_declaration" or not _appends_to(m, node, name)):
                return True
        stack.extend(node.named_children)
    return False


def _concat_in_loop(m: Match) -> Hit | None:
    finding = m.node("finding")
    target = m.node("target")
    name = m.text(target)
    total = m.get("sum")
    if total is not None:
        first = _leftmost(total)
        if not _plus_chain(m, total) or first.type != "identifier" or m.text(first) != name:
            return None
    loop = facts.hot_loop(m, finding)
    if loop is None:
        return None
    declaration = declared.resolve(m, target)
    if declaration is None or _inside(declaration.node, loop):
        return None
    if declared.declared_type(m, declaration) != "string":
        return None
    body = loop.child_by_field_name("body")
    if body is None or not _inside(finding, body) or _reset_in(m, body, name):
        return None
    if not _every_iteration(finding, loop) or flow.at_most_once(m, finding, loop):
        return None
    if not _walks_text(m, loop):
        return None
    if _reported_earlier(m, finding, name, _accumulating_loop(m, loop, declaration)):
        return None
    return Hit(span_of(finding))


def _every_iteration(statement: Node, loop: Node) -> bool:
    """A statement at the top level of the loop's body: the string grows at every iteration.

    A string that grows only on some branches (a separator, a flag character, a match) mostly
    collects a few pieces; the quadratic case is the one that grows with the loop.
    """
    block = statement.parent.parent if statement.parent is not None else None
    return block is not None and block == loop.child_by_field_name("body")


SPLITS = frozenset(
    {"Split", "SplitN", "SplitAfter", "SplitAfterN", "Fields", "FieldsFunc", "SplitSeq", "Lines"}
)


def _walks_text(m: Match, loop: Node) -> bool:
    """Whether the loop's length grows with some input text, and the string with it.

    A ``range`` over a string (its runes), over the lines or fields split from one, a loop
    that consumes input until a condition (``for s != ""``, ``for scanner.Scan()``, ``for``),
    or one counted to a bound known only at run time. A ``range`` over any other collection
    (names, flags, repositories) mostly builds a short string from a few items.
    """
    clause = facts.range_clause(loop)
    if clause is None:
        counted = next((c for c in loop.named_children if c.type == "for_clause"), None)
        if counted is None:
            return True
        condition = counted.child_by_field_name("condition")
        bound = condition.child_by_field_name("right") if condition is not None else None
        return bound is not None and bound.type != "int_literal"
    ranged = clause.child_by_field_name("right")
    while ranged is not None and ranged.type in ("slice_expression", "parenthesized_expression"):
        ranged = ranged.child_by_field_name("operand") or (
            ranged.named_children[0] if ranged.named_children else None
        )
    if ranged is None or ranged.type in ("interpreted_string_literal", "raw_string_literal"):
        return False
    if declared.expression_type(m, ranged) == "string":
        return True
    if ranged.type == "identifier":
        declaration = declared.resolve(m, ranged)
        if declaration is None or declaration.kind not in ("var", "short"):
            return False
        ranged = declaration.call or declaration.value
    if ranged is None or ranged.type != "call_expression":
        return False
    target = declared.std_call(m, ranged)
    return target is not None and target[0] in ("strings", "bytes") and target[1] in SPLITS


def _accumulating_loop(m: Match, loop: Node, declaration: declared.Declaration) -> Node:
    """The outermost loop around ``loop`` that the string outlives: it grows across all of it."""
    outer = facts.enclosing_loop(loop)
    while outer is not None and not _inside(declaration.node, outer):
        loop, outer = outer, facts.enclosing_loop(outer)
    return loop


def _reported_earlier(m: Match, finding: Node, name: str, loop: Node) -> bool:
    """One hint per string and loop: an earlier append to it in the loop already has it."""
    stack = [loop]
    while stack:
        node = stack.pop()
        if node.start_byte >= finding.start_byte or node.type == "func_literal":
            continue
        if node.type == "assignment_statement":
            left = node.child_by_field_name("left")
            targets = left.named_children if left is not None else []
            if (
                len(targets) == 1
                and m.text(targets[0]) == name
                and _appends_to(m, node, name)
                and (inner := facts.hot_loop(m, node)) is not None
                and _every_iteration(node, inner)
                and not flow.at_most_once(m, node, inner)
            ):
                return True
        stack.extend(node.named_children)
    return False


# ------------------------------------------------------------------------------ GO004


def _statement(node: Node) -> Node:
    """The statement of a block that holds ``node`` (a loop may sit under its label)."""
    while node.parent is not None and node.parent.type == "labeled_statement":
        node = node.parent
    return node


def _declaration_statement(declaration: declared.Declaration) -> Node | None:
    node = declaration.node
    if declaration.kind == "short":
        return node
    if declaration.kind == "var" and node.parent is not None:
        return node.parent if node.parent.type == "var_declaration" else None
    return None


def _empty_slice(m: Match, declaration: declared.Declaration) -> tuple[str, str] | None:
    """``(slice type, form)`` for ``var out []T``, ``[]T{}`` or ``make([]T, 0)``; else None.

    ``form`` is ``nil`` for the first (a nil slice), ``empty`` for the others.
    """
    node = declaration.node
    if declaration.kind == "var" and len(node.children_by_field_name("name")) != 1:
        return None
    if declaration.kind == "short":
        left = node.child_by_field_name("left")
        if left is None or len(left.named_children) != 1:
            return None
    value = declaration.value
    if declaration.type is not None:
        if declaration.type.type != "slice_type":
            return None
        if value is None:
            return declared.type_text(m, declaration.type) or "", "nil"
        return None
    if value is None:
        return None
    if value.type == "composite_literal":
        kind = value.child_by_field_name("type")
        body = value.child_by_field_name("body")
        if kind is None or kind.type != "slice_type" or body is None or body.named_children:
            return None
        return declared.type_text(m, kind) or "", "empty"
    if value.type == "call_expression":
        function = value.child_by_field_name("function")
        arguments = value.child_by_field_name("arguments")
        if function is None or arguments is None or m.text(function) != "make":
            return None
        if declared.resolve(m, function) is not None:
            return None
        parts = arguments.named_children
        if len(parts) == 2 and parts[0].type == "slice_type" and m.text(parts[1]) == "0":
            return declared.type_text(m, parts[0]) or "", "empty"
    return None


def _incoming(m: Match, source: Node, loop: Node) -> bool:
    """Whether ``src`` is data that comes in, whose size the function does not choose.

    A parameter (not variadic), a package-level variable, any map, the result of a standard
    library call (``strings.Split``, ``os.ReadDir``), a slice decoded into (``&src``). A
    slice the function builds itself (``make``, a literal, a few appends) mostly has a size
    its author knows and keeps small: preallocating it is noise.
    """
    declaration = declared.resolve(m, source)
    if declaration is None:
        return False
    if declaration.kind == "param":
        return not declaration.variadic
    kind = declared.declared_type(m, declaration) or ""
    if declaration.package or kind.startswith("map["):
        return True
    if declaration.kind not in ("var", "short"):
        return False
    call = declaration.call or declaration.value
    if call is not None:
        return call.type == "call_expression" and declared.std_call(m, call) is not None
    function = facts.enclosing_function(loop)
    return function is not None and _address_taken(m, function, m.text(source))


def _address_taken(m: Match, function: Node, name: str) -> bool:
    """``&name`` somewhere in the function: something fills the slice (a JSON decoder)."""
    for ident in _identifiers(function, name, m):
        parent = ident.parent
        if parent is not None and parent.type == "unary_expression" and m.text(parent)[:1] == "&":
            return True
    return False


def _error_branch(m: Match, jump: Node, loop: Node) -> bool:
    """A ``return`` inside ``if err != nil``: the function gives up, the slice is dropped."""
    if jump.type != "return_statement":
        return False
    node = jump.parent
    while node is not None and node != loop:
        if node.type == "if_statement" and _error_test(m, node.child_by_field_name("condition")):
            return True
        node = node.parent
    return False


def _error_test(m: Match, condition: Node | None) -> bool:
    """``err != nil`` (any name ending in ``err``/``Err``)."""
    if condition is None or condition.type != "binary_expression":
        return False
    operator = condition.child_by_field_name("operator")
    left = condition.child_by_field_name("left")
    right = condition.child_by_field_name("right")
    if operator is None or left is None or right is None or m.text(operator) != "!=":
        return False
    sides = {m.text(left), m.text(right)}
    return "nil" in sides and any(s.endswith(("err", "Err")) for s in sides - {"nil"})


def _prealloc(m: Match) -> Hit | None:
    loop = m.node("loop")
    element = m.node("element")
    source = m.node("src")
    out = m.node("out")
    name = m.text(out)
    if element.type == "variadic_argument" or source.type != "identifier":
        return None
    if facts.cold(m, loop) or not declared.collection(declared.expression_type(m, source)):
        return None
    if m.text(source) == name or not _incoming(m, source, loop):
        return None
    declaration = declared.resolve(m, out)
    if declaration is None or declaration.package:
        return None
    statement = _declaration_statement(declaration)
    shape = _empty_slice(m, declaration)
    loop_statement = _statement(loop)
    block = loop_statement.parent
    if statement is None or shape is None or block is None or statement.parent != block:
        return None
    between = [
        s
        for s in block.named_children
        if s.start_byte >= statement.end_byte and s.end_byte <= loop_statement.start_byte
    ]
    if any(_identifiers(s, name, m) for s in between):
        return None
    body = loop.child_by_field_name("body")
    if body is None or len(_identifiers(body, name, m)) != 2:
        return None
    if _appended_after(m, loop_statement, name):
        return None
    for jump in flow.jumps(body):
        if flow.skips(m, jump, loop) and not _error_branch(m, jump, loop):
            return None
    slice_type, form = shape
    capacity = f"len({m.text(source)})"
    message = (
        f"`{name}` gets one element per item of `{m.text(source)}`: "
        f"`make({slice_type}, 0, {capacity})` allocates it once instead of growing it."
    )
    fix = None
    if not any(_identifiers(s, m.text(source), m) for s in between):
        fix = _prealloc_fix(m, declaration, statement, name, slice_type, capacity, form)
    return Hit(span_of(statement), message=message, fix=fix)


def _appended_after(m: Match, loop: Node, name: str) -> bool:
    """``out = append(out, …)`` after the loop: ``len(src)`` is not its final length."""
    block = loop.parent
    while block is not None and block.type not in declared.FUNCTIONS:
        for statement in block.named_children if block.type == "statement_list" else ():
            if statement.start_byte < loop.end_byte:
                continue
            for ident in _identifiers(statement, name, m):
                parent = ident.parent
                call = parent.parent if parent is not None else None
                if (
                    call is not None
                    and call.type == "call_expression"
                    and m.text(call.child_by_field_name("function") or call) == "append"
                ):
                    return True
        block = block.parent
    return False


def _prealloc_fix(
    m: Match,
    declaration: declared.Declaration,
    statement: Node,
    name: str,
    slice_type: str,
    capacity: str,
    form: str,
) -> Fix:
    made = f"make({slice_type}, 0, {capacity})"
    if declaration.value is not None:
        edit = TextEdit(span_of(declaration.value), made)
    else:
        edit = TextEdit(span_of(statement), f"{name} := {made}")
    if form == "nil":
        return Fix(
            title="Preallocate the slice",
            edits=(edit,),
            applicability=Applicability.UNSAFE,
            reason="with nothing to range over, the slice is now empty but not nil: "
            "`== nil` turns false and encoding/json writes [] instead of null",
        )
    return Fix(title="Preallocate the slice", edits=(edit,))


RULES = (
    Rule(
        id="GO001",
        name="go-string-concat-in-loop",
        language="go",
        query="GO001.scm",
        message="`+=` copies the whole string at every iteration; a `strings.Builder` grows "
        "one buffer instead.",
        skill_id="go.strings",
        lesson_id="go-string-builder",
        severity=Severity.INFORMATION,
        check=_concat_in_loop,
        noqa_codes=("stringsbuilder", "modernize"),
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

Flags `s += x` and `s = s + x` at the top level of a loop's body (so the string grows at
every iteration), where `s` is certainly a string declared before the loop and never reset
inside it, and the loop walks some input text: the runes of a string, the lines or fields
split from one, input consumed until a condition, or a count known only at run time. One
hint per string and loop.

## Why is this bad?
Go strings are immutable: each `+=` allocates a new string and copies everything gathered so
far, so building a string of `n` pieces copies O(n²) bytes. A `strings.Builder` appends to one
growing buffer (and `Grow` can size it once).

## Example
```go
s := ""
for _, name := range names {
	s += name + ","
}
```

## Use instead
```go
var b strings.Builder
for _, name := range names {
	b.WriteString(name)
	b.WriteString(",")
}
s := b.String()
```

## References
- https://pkg.go.dev/strings#Builder
- https://go.dev/ref/spec#String_types
""",
    ),
    Rule(
        id="GO004",
        name="prealloc-known-length",
        language="go",
        query="GO004.scm",
        message="The loop appends one element per item of a collection of known length; "
        "`make([]T, 0, len(src))` allocates the slice once.",
        skill_id="go.slices",
        lesson_id="go-prealloc-slice",
        severity=Severity.INFORMATION,
        check=_prealloc,
        noqa_codes=("prealloc",),
        fix_title="Preallocate the slice",
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

Flags a slice declared empty (`var out []T`, `out := []T{}`, `make([]T, 0)`) right before a
`for … range src` loop that appends exactly one element to it per item, unconditionally, when
`src` is certainly a slice, an array or a map that comes into the function (a parameter, a
package variable, any map, a standard-library result such as `strings.Split`, a slice decoded
into); slices the function builds itself are left alone, as their size is mostly small and
known.

## Why is this bad?
`append` grows a full slice by allocating a larger array and copying into it: a dozen
allocations and copies for a thousand elements. The final length is known before the loop
starts (`len(src)`), so one allocation of the right capacity does the same work.

## Example
```go
var ids []int
for _, u := range users {
	ids = append(ids, u.ID)
}
```

## Use instead
```go
ids := make([]int, 0, len(users))
for _, u := range users {
	ids = append(ids, u.ID)
}
```

## References
- https://go.dev/ref/spec#Appending_and_copying_slices
- https://go.dev/blog/slices-intro
""",
        fix_safety="Safe when the slice started empty (`[]T{}`, `make([]T, 0)`): only its "
        "capacity changes. Unsafe for `var out []T`: when `src` is empty the slice is now empty "
        "but not nil, so `out == nil` and JSON encoding (`[]` instead of `null`) change.",
    ),
)
