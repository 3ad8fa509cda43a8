"""Rules about accumulators copied at every step: spread in `reduce`, copy-and-grow in a loop."""

from __future__ import annotations

from lessonlens.analyzers.javascript import facts
from lessonlens.analyzers.javascript.spec import defines_reduce
from lessonlens.analyzers.javascript.tree import (
    identifiers,
    walk,
)
from lessonlens.analyzers.javascript.tree import parameters as _parameters
from lessonlens.analyzers.javascript.tree import plain_name as _plain_name
from lessonlens.analyzers.javascript.tree import repeated_part as _repeated_part
from lessonlens.analyzers.javascript.tree import results as _results
from lessonlens.analyzers.javascript.tree import small_receiver as _small_receiver
from lessonlens.analyzers.javascript.tree import unwrapped as _value
from lessonlens.analyzers.match import Match, span_of
from lessonlens.analyzers.model import Applicability, Fix, Hit, Rule, Severity, TextEdit
from lessonlens.analyzers.parsing import Node


def _copied_by(m: Match, value: Node, name: str) -> Node | None:
    """The ``...name`` spread (or ``name.concat(...)`` call) that makes ``value`` a copy of it."""
    if value.type in ("array", "object"):
        for child in value.named_children:
            if child.type == "spread_element" and child.named_children:
                spread = _value(child.named_children[0])
                if spread is not None and spread.type == "identifier" and m.text(spread) == name:
                    return child
        return None
    if value.type == "call_expression":
        callee = value.child_by_field_name("function")
        if callee is not None and callee.type == "member_expression":
            target = callee.child_by_field_name("object")
            method = callee.child_by_field_name("property")
            if (
                target is not None
                and target.type == "identifier"
                and m.text(target) == name
                and method is not None
                and m.text(method) == "concat"
            ):
                return value
    return None


def _own_reduce(m: Match) -> bool:
    """Whether the file defines a ``reduce`` of its own (a method or function by that name).

    A file-wide fact: the spec's fingerprint carries it, so the unit cache stays exact.
    """
    found = m.file.facts.get("js.own-reduce")
    if found is None:
        found = m.file.facts["js.own-reduce"] = defines_reduce(m.file.source)
    return bool(found)


def _leaks(m: Match, function: Node, name: str, allowed: set[Node]) -> bool:
    """Whether ``name`` is used in ``function`` other than to read from it or in ``allowed``.

    Reads are ``name.x``, ``name[k]``, ``name.x(...)``; a bare ``return name`` is fine too.
    """
    body = function.child_by_field_name("body")
    if body is None:
        return True
    for node in [body, *walk(body)]:
        if node.type != "identifier" or m.text(node) != name:
            continue
        parent = node.parent
        if parent is None:
            continue
        if parent in allowed or parent.type == "return_statement" or parent == body:
            continue
        if parent.type in ("member_expression", "subscript_expression") and (
            parent.child_by_field_name("object") == node
        ):
            grand = parent.parent
            if (
                grand is not None
                and grand.type in ("assignment_expression",)
                and (grand.child_by_field_name("left") == parent)
            ):
                return True
            continue
        if parent.type == "parenthesized_expression" or parent.type == "ternary_expression":
            continue
        return True
    return False


def _assignment_for(m: Match, acc: str, literal: Node, spread: Node) -> str | None:
    """The statement that adds what ``literal`` adds to ``acc``, in place; None if unclear."""
    rest = [c for c in literal.named_children if c != spread and c.type != "comment"]
    if not literal.named_children or literal.named_children[0] != spread or not rest:
        return None
    if any(identifiers(c) & {acc} for c in rest):
        return None
    if literal.type == "array":
        return f"{acc}.push({', '.join(m.text(c) for c in rest)});"
    if len(rest) == 1:
        member = rest[0]
        if member.type == "spread_element":
            return f"Object.assign({acc}, {m.text(member.named_children[0])});"
        if member.type == "shorthand_property_identifier":
            return f"{acc}.{m.text(member)} = {m.text(member)};"
        if member.type == "pair":
            key, value = member.child_by_field_name("key"), member.child_by_field_name("value")
            if key is None or value is None:
                return None
            if key.type == "property_identifier" and m.text(key) != "__proto__":
                return f"{acc}.{m.text(key)} = {m.text(value)};"
            if key.type == "computed_property_name" and key.named_children:
                return f"{acc}[{m.text(key.named_children[0])}] = {m.text(value)};"
            if key.type in ("string", "number") and "__proto__" not in m.text(key):
                return f"{acc}[{m.text(key)}] = {m.text(value)};"
        return None
    if any(c.type not in ("pair", "shorthand_property_identifier", "spread_element") for c in rest):
        return None
    return f"Object.assign({acc}, {{ {', '.join(m.text(c) for c in rest)} }});"


def _indent(m: Match, node: Node) -> str:
    source = m.file.source
    line_start = source.rfind(b"\n", 0, node.start_byte) + 1
    prefix = source[line_start : node.start_byte]
    return prefix.decode("utf-8", "replace") if not prefix.strip() else ""


_REDUCE_REASON = (
    "The callback now adds to the accumulator in place instead of copying it. The initial "
    "value is a fresh literal, so no one else holds it; but a callback that keeps `acc` "
    "somewhere would now see it change, and `push(...items)` throws past ~100,000 items."
)


def _typed_enough(call: Node, callback: Node, initial: Node | None) -> bool:
    """In TypeScript, whether the accumulator has a declared type the rewrite can rely on.

    A bare ``{}`` or ``[]`` accumulator types as ``{}`` or ``never[]``: ``acc[k] = v`` and
    ``acc.push(x)`` would not type-check. JavaScript's parameters are plain identifiers.
    """
    parameters = _parameters(callback)
    first = parameters[0] if parameters else None
    if first is None or first.type not in ("required_parameter", "optional_parameter"):
        return True
    return (
        first.child_by_field_name("type") is not None
        or call.child_by_field_name("type_arguments") is not None
        or (initial is not None and initial.type in ("as_expression", "satisfies_expression"))
    )


def _reduce_fix(
    m: Match, callback: Node, acc: str, results: list[Node], spreads: dict[int, Node]
) -> Fix | None:
    call = m.node("finding")
    arguments = call.child_by_field_name("arguments")
    initial = (
        arguments.named_children[1] if arguments and len(arguments.named_children) > 1 else None
    )
    if not _typed_enough(call, callback, initial):
        return None
    initial = _value(initial)
    if initial is None or initial.type not in ("array", "object") or initial.named_children:
        return None
    edits: list[TextEdit] = []
    body = callback.child_by_field_name("body")
    for value in results:
        if value.type == "identifier" and m.text(value) == acc:
            continue
        spread = spreads.get(value.id)
        if spread is None or value.type != initial.type:
            return None
        statement = _assignment_for(m, acc, value, spread)
        if statement is None:
            return None
        outer = value
        while outer.parent is not None and outer.parent.type == "parenthesized_expression":
            outer = outer.parent
        parent = outer.parent
        if parent is not None and parent == callback and outer == body:
            edits.append(TextEdit(span_of(outer), f"{{ {statement} return {acc}; }}"))
        elif parent is not None and parent.type == "return_statement":
            holder = parent.parent
            if holder is not None and holder.type == "statement_block":
                text = f"{statement}\n{_indent(m, parent)}return {acc};"
            else:
                text = f"{{ {statement} return {acc}; }}"
            edits.append(TextEdit(span_of(parent), text))
        else:
            return None  # inside a conditional expression: leave it to the author
    if not edits:
        return None
    return Fix(
        title="Add to the accumulator in place",
        edits=tuple(edits),
        applicability=Applicability.UNSAFE,
        reason=_REDUCE_REASON,
    )


def _reduce_spread(m: Match) -> Hit | None:
    call, callback = m.node("finding"), m.node("callback")
    parameters = _parameters(callback)
    if len(parameters) < 2:
        return None
    acc = _plain_name(m, parameters[0])
    if acc is None or facts.cold(m, call) or _own_reduce(m):
        return None
    callee = call.child_by_field_name("function")
    receiver = callee.child_by_field_name("object") if callee is not None else None
    if _small_receiver(m, receiver):
        return None
    results = _results(callback)
    spreads: dict[int, Node] = {}
    for value in results:
        copy = _copied_by(m, value, acc)
        if copy is not None:
            spreads[value.id] = copy
    if not spreads:
        return None
    allowed = {c for c in spreads.values()} | {
        c.child_by_field_name("function") for c in spreads.values() if c.type == "call_expression"
    }
    allowed.discard(None)
    if _leaks(m, callback, acc, allowed):  # type: ignore[arg-type]
        return None
    first = min(spreads.values(), key=lambda n: n.start_byte)
    fix = _reduce_fix(m, callback, acc, results, spreads)
    return Hit(span_of(first), fix=fix)


def _fresh(value: Node | None) -> bool:
    value = _value(value)
    return value is not None and value.type in ("array", "object")


def _copy_in_loop(m: Match) -> Hit | None:
    assignment = m.node("finding")
    name = m.text(m.node("target"))
    loop = facts.hot_loop(m, assignment)
    if loop is None:
        return None
    declarator = facts.binding(m, name, assignment)
    if declarator is None or declarator.type != "variable_declarator":
        return None
    statement = declarator.parent
    kind = statement.child(0) if statement is not None else None
    if kind is None or kind.type not in ("let", "var"):
        return None
    if declarator.start_byte >= loop.start_byte:
        return None  # declared in the loop (or after it): reset each time
    initial = _value(declarator.child_by_field_name("value"))
    right = _value(assignment.child_by_field_name("right"))
    if initial is None or right is None or not _fresh(initial):
        return None
    if right.type in ("array", "object") and initial.type != right.type:
        return None
    if right.type == "call_expression" and initial.type != "array":
        return None
    # Any other use of the name in the loop makes the copy the point (a snapshot kept, passed
    # on, compared); the only allowed ones are this assignment's target and spread source.
    repeated = _repeated_part(loop)
    if repeated is None:
        return None
    own = {m.node("target").id, m.node("source").id}
    for node in walk(repeated, stop=frozenset()):
        if node.type == "identifier" and m.text(node) == name and node.id not in own:
            return None
    return Hit(span_of(assignment))


# --- JS006 ---------------------------------------------------------------------------------

RULES = (
    Rule(
        id="JS004",
        name="reduce-spread-accumulator",
        language="javascript",
        query="JS004.scm",
        message="Spreading the accumulator copies everything gathered so far at every step "
        "(quadratic). Add to it in place: `acc.push(x)`, `acc[k] = v`, then `return acc`.",
        skill_id="js.data-structures",
        lesson_id="js-accumulating-spread",
        severity=Severity.INFORMATION,
        check=_reduce_spread,
        opt_in=True,
        noqa_codes=("noAccumulatingSpread", "no-accumulating-spread"),
        fix_title="Add to the accumulator in place",
        fix_safety="The fix is unsafe: it mutates the accumulator instead of copying it. It is "
        "offered only when the initial value is a fresh `[]` or `{}`, which nothing else holds; "
        "a callback that stores `acc` elsewhere would now see it change.",
        # Performance advice: silent in test code by its predicate (cold code) already; marked so
        # that test files are walked without its patterns.
        quiet_in_tests=True,
        doc="""
## What it does
Flags a `reduce` callback that returns a copy of its accumulator with something added:
`[...acc, x]`, `{...acc, [k]: v}` or `acc.concat(x)`.

## Why is this bad?
Each step copies every element (or key) gathered so far, so the whole `reduce` does
1 + 2 + … + n copies: quadratic. On 1,000 items the spread is about 100 times slower than
pushing, on 10,000 items about 1,500 times (Node 20).

The rule is silent on a `reduce` defined in the same file (not `Array.prototype.reduce`), on
a spread of the item rather than the accumulator, on a destructured accumulator, on a
receiver that is a literal of at most 16 elements, and where the callback hands `acc` to
something else (a copy may then be the point).

**Opt-in**: it runs only when selected by id or name (`--select JS004`). The copy is
quadratic, but it costs something only when the `reduce` walks hundreds of items or more;
judged on real code (excalidraw, vite, fastify, astro, typeorm, parse-server, outline, npm),
most `reduce` calls walk a handful of fields, routes or embeddeds, and about one finding in
five was worth changing. Select it for code that reduces large collections.

## Example
```javascript
const byId = users.reduce((acc, user) => ({ ...acc, [user.id]: user }), {});
```

## Use instead
```javascript
const byId = users.reduce((acc, user) => {
  acc[user.id] = user;
  return acc;
}, {});
```

## References
- https://developer.mozilla.org/en-US/docs/Web/JavaScript/Reference/Global_Objects/Array/reduce
- https://biomejs.dev/linter/rules/no-accumulating-spread/
""",
    ),
    Rule(
        id="JS005",
        name="copy-accumulate-in-loop",
        language="javascript",
        query="JS005.scm",
        message="This copies the whole collection to add to it, on every pass of the loop "
        "(quadratic). Add to it in place: `push`, or assign the key.",
        skill_id="js.data-structures",
        lesson_id="js-accumulating-spread",
        severity=Severity.INFORMATION,
        check=_copy_in_loop,
        opt_in=True,
        noqa_codes=("noAccumulatingSpread", "no-accumulating-spread"),
        # Performance advice: silent in test code by its predicate (cold code) already; marked so
        # that test files are walked without its patterns.
        quiet_in_tests=True,
        doc="""
## What it does
Flags `x = [...x, item]`, `x = { ...x, [k]: v }` and `x = x.concat(item)` inside a loop (or an
iteration callback), where `x` is a `let` declared before the loop with a fresh `[]` or `{}`.

## Why is this bad?
Every pass copies all of `x` to add one thing, so n passes copy 1 + 2 + … + n elements:
quadratic, as with a spreading `reduce`. `x.push(item)` or `x[k] = v` adds in constant time.

The rule is silent when `x` is used anywhere else in the loop (kept in a history, passed on,
compared): the copy is then the point. Setter callbacks (`setItems((prev) => [...prev, y])`)
assign nothing and are never flagged.

**Opt-in**: it runs only when selected by id or name (`--select JS005`). On real code
the loops around such copies walked a few configuration files, layouts or `$or` clauses:
one finding in seven was worth changing. Select it for code that accumulates large data.

## Example
```javascript
let rows = [];
for (const line of lines) {
  rows = [...rows, parse(line)];
}
```

## Use instead
```javascript
const rows = [];
for (const line of lines) {
  rows.push(parse(line));
}
```

## References
- https://developer.mozilla.org/en-US/docs/Web/JavaScript/Reference/Global_Objects/Array/push
- https://biomejs.dev/linter/rules/no-accumulating-spread/
""",
    ),
)
