"""Rules about arrays asked the wrong question: quadratic dedupes, copied sets, whole filters.

JS008 (``a.filter((x, i) => a.indexOf(x) === i)``), JS009 (``[...set].includes(x)``) and JS013
(``xs.filter(p).length > 0``, ``xs.filter(p)[0]``). Each builds or scans far more than its
question needs; each stays silent where the receiver's type or the intent is in doubt.
"""

from __future__ import annotations

from lessonlens.analyzers.javascript import facts, kinds
from lessonlens.analyzers.match import Match, span_of
from lessonlens.analyzers.model import Applicability, Fix, Hit, Rule, TextEdit
from lessonlens.analyzers.parsing import Node

_PLAIN = frozenset({"identifier", "this", "member_expression"})


def _edit(node: Node, text: str) -> TextEdit:
    return TextEdit(span_of(node), text)


def _plain_path(m: Match, node: Node) -> bool:
    """``a``, ``this.items``, ``state.a.b``: evaluating it twice reads the same value."""
    node = kinds.unwrap(node)
    while node.type == "member_expression":
        if any(c.type == "optional_chain" for c in node.children):
            return False
        inner = node.child_by_field_name("object")
        if inner is None:
            return False
        node = kinds.unwrap(inner)
    return node.type in _PLAIN


def _small_array(m: Match, node: Node) -> bool:
    """A literal array of at most ``facts.SMALL_LITERAL`` elements, or a name bound to one."""
    node = kinds.unwrap(node)
    if node.type == "identifier":
        value = kinds.declared_value(m, m.text(node), node)
        node = kinds.unwrap(value) if value is not None else node
    return node.type == "array" and len(node.named_children) <= facts.SMALL_LITERAL


def _parameter_names(m: Match, function: Node) -> list[str] | None:
    """The callback's parameter names, when each is a plain identifier (typed or not)."""
    parameters = function.child_by_field_name("parameters")
    if parameters is None:
        return None
    names = []
    for parameter in parameters.named_children:
        if parameter.type in ("required_parameter", "optional_parameter"):
            pattern = parameter.child_by_field_name("pattern")
            if parameter.child_by_field_name("value") is not None:
                return None
            parameter = pattern if pattern is not None else parameter
        if parameter.type != "identifier":
            return None
        names.append(m.text(parameter))
    return names


# ---- JS008 quadratic-dedupe ---------------------------------------------------------------------

_DEDUPE_UNSAFE = (
    "A `Set` keeps one `NaN` where the filter drops every `NaN` (`indexOf` never finds it), "
    "turns `-0` into `0`, and gives a plain array for a typed array."
)


def _quadratic_dedupe(m: Match) -> Hit | None:
    finding, receiver, test = m.node("finding"), m.node("receiver"), m.node("test")
    names = _parameter_names(m, m.node("callback"))
    if names is None or len(names) not in (2, 3) or len(set(names)) != len(names):
        return None
    operator = test.child_by_field_name("operator")
    if operator is None or m.text(operator) not in ("===", "=="):
        return None
    left, right = test.child_by_field_name("left"), test.child_by_field_name("right")
    if left is None or right is None:
        return None
    lookup, index = (left, right) if left.type == "call_expression" else (right, left)
    if lookup.type != "call_expression" or index.type != "identifier":
        return None
    if m.text(index) != names[1]:
        return None
    callee = lookup.child_by_field_name("function")
    arguments = lookup.child_by_field_name("arguments")
    if callee is None or arguments is None or len(arguments.named_children) != 1:
        return None
    needle = arguments.named_children[0]
    if needle.type != "identifier" or m.text(needle) != names[0]:
        return None
    if any(c.type == "optional_chain" for c in callee.children):
        return None
    searched = callee.child_by_field_name("object")
    if searched is None:
        return None
    searched_text = m.text(searched)
    own_array = len(names) == 3 and searched.type == "identifier" and searched_text == names[2]
    same_receiver = searched_text == m.text(receiver) and _plain_path(m, receiver)
    if not (own_array or same_receiver) or searched_text in names[:2]:
        return None
    if _small_array(m, receiver) or kinds.kind(m, receiver) == kinds.STRING:
        return None
    if facts.cold(m, finding) or kinds.es5_only(m, finding):
        return None
    method = m.text(m.node("index"))
    fix = None
    if method == "indexOf" and not kinds.shadowed(m, "Set", finding):
        fix = Fix(
            title="Deduplicate with `[...new Set(...)]`",
            edits=(_edit(finding, f"[...new Set({m.text(receiver)})]"),),
            applicability=Applicability.UNSAFE,
            reason=_DEDUPE_UNSAFE,
        )
    message = None
    if method == "lastIndexOf":
        message = (
            "`lastIndexOf` rescans the array for every element: this dedupe is quadratic. "
            "Collect the values in a `Set` (it keeps first occurrences; reverse around it to "
            "keep the last)."
        )
    return Hit(span_of(m.node("filter"), finding), message=message, fix=fix)


# ---- JS009 spread-set-to-search -----------------------------------------------------------------


def _set_source(m: Match, source: Node) -> Node | None:
    """The Set (or Map) whose ``has`` answers ``[...source].includes(x)``; None when unsure.

    ``s`` and ``s.keys()``/``s.values()`` for a certain ``Set``; ``m.keys()`` for a certain
    ``Map`` (a Map's values and entries have no ``has``).
    """
    source = kinds.unwrap(source)
    if source.type == "identifier":
        return source if kinds.kind(m, source) == kinds.SET else None
    if source.type != "call_expression":
        return None
    callee = source.child_by_field_name("function")
    arguments = source.child_by_field_name("arguments")
    if callee is None or callee.type != "member_expression" or arguments is None:
        return None
    if arguments.named_children or any(c.type == "optional_chain" for c in callee.children):
        return None
    owner = callee.child_by_field_name("object")
    method = callee.child_by_field_name("property")
    if owner is None or method is None or kinds.unwrap(owner).type != "identifier":
        return None
    owner_kind = kinds.kind(m, owner)
    name = m.text(method)
    if owner_kind == kinds.SET and name in ("keys", "values"):
        return owner
    if owner_kind == kinds.MAP and name == "keys":
        return owner
    return None


def _spread_set_to_search(m: Match) -> Hit | None:
    finding, needle = m.node("finding"), m.node("needle")
    if needle.type == "spread_element":
        return None
    callee = finding.child_by_field_name("function")
    if callee is None or any(c.type == "optional_chain" for c in callee.children):
        return None
    if m.get("array") is not None and kinds.shadowed(m, "Array", finding):
        return None
    owner = _set_source(m, m.node("source"))
    if owner is None or facts.cold(m, finding):
        return None
    fix = Fix(
        title="Ask the collection with `has`",
        edits=(_edit(finding, f"{m.text(owner)}.has({m.text(needle)})"),),
        applicability=Applicability.SAFE,
    )
    return Hit(span_of(finding), fix=fix)


# ---- JS013 filter-for-existence -----------------------------------------------------------------

# `.length` compared with a number: (operator, number) -> True for "some", False for "none".
_LENGTH_TESTS = {
    (">", "0"): True,
    ("!==", "0"): True,
    ("!=", "0"): True,
    (">=", "1"): True,
    ("===", "0"): False,
    ("==", "0"): False,
    ("<", "1"): False,
    ("<=", "0"): False,
}
# The same tests with the number on the left: `0 < xs.filter(p).length`.
_FLIPPED = {"<": ">", ">": "<", "<=": ">=", ">=": "<=", "===": "===", "==": "==", "!==": "!=="}
_FLIPPED["!="] = "!="
_CONDITIONS = frozenset({"if_statement", "while_statement", "do_statement", "for_statement"})
_SELECTOR_NAMES = ("selector", "query", "expr")
_FILTER_UNSAFE = (
    "The callback stops running at the first match: side effects in it (counters, logging, "
    "mutation) happen fewer times."
)
_SOME_UNSAFE = (
    _FILTER_UNSAFE
    + " On an optional chain (`a?.filter`) a missing `a` now gives "
    + ("`undefined` where the comparison gave `false`.")
)


def boolean_context(node: Node) -> bool:
    """Whether ``node``'s value is only ever used as a truth value.

    The condition of ``if``/``while``/``for``/``?:``, the operand of ``!``, an argument of
    ``Boolean(...)``, or an operand of ``&&``/``||`` that is itself in such a place (a bare
    ``a && xs.length`` is a value: JSX renders that ``0``).
    """
    child, parent = node, node.parent
    while parent is not None and parent.type == "parenthesized_expression":
        child, parent = parent, parent.parent
    if parent is None:
        return False
    if parent.type in _CONDITIONS:
        return child == parent.child_by_field_name("condition")
    if parent.type == "ternary_expression":
        return child == parent.child_by_field_name("condition")
    if parent.type == "unary_expression":
        operator = parent.child_by_field_name("operator")
        return operator is not None and operator.type == "!"
    if parent.type == "binary_expression":
        operator = parent.child_by_field_name("operator")
        if operator is not None and operator.type in ("&&", "||"):
            return boolean_context(parent)
        return False
    if parent.type == "arguments":
        call = parent.parent
        callee = call.child_by_field_name("function") if call is not None else None
        return (
            callee is not None
            and callee.type == "identifier"
            and callee.text == b"Boolean"
            and len(parent.named_children) == 1
        )
    return False


def _length_test(m: Match, length: Node) -> tuple[Node, bool] | None:
    """The expression to replace and whether it asks "any?" (True) or "none?" (False)."""
    child, parent = length, length.parent
    while parent is not None and parent.type == "parenthesized_expression":
        child, parent = parent, parent.parent
    if parent is not None and parent.type == "binary_expression":
        operator = parent.child_by_field_name("operator")
        left, right = parent.child_by_field_name("left"), parent.child_by_field_name("right")
        if operator is None or left is None or right is None:
            return None
        op = m.text(operator)
        if child == left and right.type == "number":
            found = _LENGTH_TESTS.get((op, m.text(right)))
        elif child == right and left.type == "number" and op in _FLIPPED:
            found = _LENGTH_TESTS.get((_FLIPPED[op], m.text(left)))
        else:
            found = None
        if found is not None:
            return parent, found
        if op not in ("&&", "||"):
            return None
    if boolean_context(length):
        return length, True
    return None


def _selector(m: Match, predicate: Node) -> bool:
    """An identifier that may hold a jQuery/DOM selector string rather than a function."""
    if predicate.type != "identifier":
        return False
    name = m.text(predicate)
    if any(word in name.lower() for word in _SELECTOR_NAMES):
        return True
    return kinds.kind(m, predicate) is not None


def _filter_for_existence(m: Match) -> Hit | None:
    finding, call, predicate = m.node("finding"), m.node("call"), m.node("predicate")
    callee = call.child_by_field_name("function")
    arguments = call.child_by_field_name("arguments")
    if callee is None or arguments is None or len(arguments.named_children) > 2:
        return None
    receiver = callee.child_by_field_name("object")
    method = callee.child_by_field_name("property")
    if receiver is None or method is None:
        return None
    if kinds.jquery(m, receiver) or ".pipe(" in m.text(receiver) or _selector(m, predicate):
        return None
    if facts.cold(m, finding):
        return None
    # `xs.filter(p)` with `filter` renamed to `some` or `find`, keeping `?.` and line breaks.
    head = m.file.source[call.start_byte : method.start_byte].decode("utf-8", "replace")
    tail = m.file.source[method.end_byte : call.end_byte].decode("utf-8", "replace")
    optional = any(c.type == "optional_chain" for c in callee.children) or "?." in head
    first = m.get("first")
    if finding.type == "member_expression":  # `.length`
        test = _length_test(m, finding)
        if test is None:
            return None
        replaced, anything = test
        text = f"{head}some{tail}"
        message = (
            "`filter(...).length` builds a whole array to ask whether anything matches; "
            "`some(...)` stops at the first match."
        )
        fix = Fix(
            title="Use `some(...)`",
            edits=(_edit(replaced, text if anything else f"!{text}"),),
            applicability=Applicability.UNSAFE,
            reason=_SOME_UNSAFE if optional and replaced != finding else _FILTER_UNSAFE,
        )
        return Hit(span_of(method, finding), message=message, fix=fix)
    if first is not None:
        outer = finding.child_by_field_name("arguments")
        values = outer.named_children if outer is not None else []
        if m.text(first) == "shift" and values:
            return None
        if m.text(first) == "at" and (len(values) != 1 or m.text(values[0]) != "0"):
            return None
    if kinds.es5_only(m, finding):
        return None  # `find` is ES2015; `some` (above) is ES5
    parent = finding.parent
    if (
        parent is not None
        and parent.type in ("assignment_expression", "update_expression")
        and parent.child_by_field_name("left") == finding
    ):
        return None
    message = (
        "`filter(...)[0]` builds a whole array to take its first element; `find(...)` stops at "
        "the first match."
    )
    fix = Fix(
        title="Use `find(...)`",
        edits=(_edit(finding, f"{head}find{tail}"),),
        applicability=Applicability.UNSAFE,
        reason=_FILTER_UNSAFE,
    )
    return Hit(span_of(method, finding), message=message, fix=fix)


RULES = (
    Rule(
        id="JS008",
        name="quadratic-dedupe",
        language="javascript",
        query="JS008.scm",
        message="`indexOf` rescans the array for every element: this dedupe is quadratic. "
        "`[...new Set(a)]` keeps the first of each value in one pass.",
        skill_id="js.data-structures",
        lesson_id="js-dedupe-with-set",
        check=_quadratic_dedupe,
        fix_title="Deduplicate with `[...new Set(...)]`",
        # Performance advice: silent in test code by its predicate (cold code) already; marked so
        # that test files are walked without its patterns.
        quiet_in_tests=True,
        doc="""
## What it does
Flags `a.filter((x, i) => a.indexOf(x) === i)` (also with the callback's third parameter,
`(x, i, self) => self.indexOf(x) === i`, and with `lastIndexOf`).

## Why is this bad?
`indexOf` scans the array from the front for every element, so removing duplicates from *n*
values costs up to *n²* comparisons: 2.9x slower than a `Set` at 100 elements, 29x at 1,000 and
over 100x at 10,000 (Node 20). A `Set` keeps the first occurrence of each value, in order, in
one pass. The rule is silent on literal arrays of up to 16 elements, in tests and benchmarks,
and in files written in ES5 syntax only (which may run where `Set` is missing).

## Example
```javascript
const tags = posts.flatMap((p) => p.tags);
const unique = tags.filter((tag, i) => tags.indexOf(tag) === i);
```

## Use instead
```javascript
const unique = [...new Set(posts.flatMap((p) => p.tags))];
```

## References
- https://developer.mozilla.org/en-US/docs/Web/JavaScript/Reference/Global_Objects/Set
- https://developer.mozilla.org/en-US/docs/Web/JavaScript/Reference/Global_Objects/Array/indexOf
""",
        fix_safety="Unsafe: a `Set` keeps one `NaN` where the filter drops every `NaN` "
        "(`indexOf` never finds it), turns `-0` into `0`, and gives a plain array for a typed "
        "array. No fix for `lastIndexOf`, which keeps the last occurrence of each value.",
    ),
    Rule(
        id="JS009",
        name="spread-set-to-search",
        language="javascript",
        query="JS009.scm",
        message="Spreading a `Set` into an array to call `includes` copies and scans every "
        "element; `has` answers in constant time.",
        skill_id="js.data-structures",
        lesson_id="js-ask-the-set",
        check=_spread_set_to_search,
        fix_title="Ask the collection with `has`",
        # Performance advice: silent in test code by its predicate (cold code) already; marked so
        # that test files are walked without its patterns.
        quiet_in_tests=True,
        doc="""
## What it does
Flags `[...s].includes(x)` and `Array.from(s).includes(x)` where `s` is certainly a `Set`
(bound to `new Set(...)` or typed `Set<T>`), and `[...m.keys()].includes(k)` for a `Map`.

## Why is this bad?
The copy allocates an array as large as the set and `includes` then scans it, element by
element: 2.6 µs against 0.06 µs for `s.has(x)` on a 1,000-element set (43x, Node 20). The set
already answers the question in constant time.

## Example
```javascript
const admins = new Set(config.admins);
if ([...admins].includes(user.id)) grant(user);
```

## Use instead
```javascript
if (admins.has(user.id)) grant(user);
```

## References
- https://developer.mozilla.org/en-US/docs/Web/JavaScript/Reference/Global_Objects/Set/has
- https://developer.mozilla.org/en-US/docs/Web/JavaScript/Reference/Global_Objects/Map/has
""",
        fix_safety="Safe: the rule fires only when the collection is certainly a `Set` (or a "
        "`Map`'s keys), and `has` and `includes` both compare with SameValueZero, so `NaN` and "
        "`-0` give the same answer.",
    ),
    Rule(
        id="JS013",
        name="filter-for-existence",
        language="javascript",
        query="JS013.scm",
        message="`filter(...)` builds a whole array to ask about one element; `some(...)` or "
        "`find(...)` stop at the first match.",
        skill_id="js.arrays",
        lesson_id="js-some-and-find",
        check=_filter_for_existence,
        quiet_in_tests=True,
        noqa_codes=("prefer-array-some", "prefer-array-find"),
        doc="""
## What it does
Flags `xs.filter(p).length` compared with 0 (or used as a condition), and
`xs.filter(p)[0]`, `xs.filter(p).shift()` and `xs.filter(p).at(0)`.

## Why is this bad?
`filter` runs the callback on every element and builds a new array of the matches, only for
the code to ask whether there is one, or to take the first. `some(p)` and `find(p)` stop at
the first match: with a match at index 10 of 10,000 elements, `some` took 0.06 µs against
11.4 µs (Node 20). With no match both visit everything; `some` still allocates nothing.
Silent on jQuery collections, on a string argument (a selector), on counts that mean more
than "any" (`=== 1`), and, for `find` (ES2015), in files written in ES5 syntax only.

## Example
```javascript
if (users.filter((u) => u.admin).length > 0) showAdminMenu();
const owner = users.filter((u) => u.id === ownerId)[0];
```

## Use instead
```javascript
if (users.some((u) => u.admin)) showAdminMenu();
const owner = users.find((u) => u.id === ownerId);
```

## References
- https://developer.mozilla.org/en-US/docs/Web/JavaScript/Reference/Global_Objects/Array/some
- https://developer.mozilla.org/en-US/docs/Web/JavaScript/Reference/Global_Objects/Array/find
- https://github.com/sindresorhus/eslint-plugin-unicorn/blob/main/docs/rules/prefer-array-some.md
""",
        fix_safety="Unsafe: the callback stops running at the first match, so side effects in "
        "it happen fewer times; on an optional chain a missing receiver gives `undefined` "
        "where the comparison gave `false`.",
    ),
)
