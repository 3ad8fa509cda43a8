"""Rules about saying it directly: regex literals, ``for...of``, ``includes``, ``Date.now()``.

JS010 (``new RegExp("constant")``), JS011 (``for...in`` over an array) and JS014
(``new Date().getTime()``); JS012 (``indexOf(x) !== -1``) is ``includes_rules.py``. Their fixes
are exact where the rule can prove it (a certain receiver, a literal pattern) and unsafe, with
the reason, elsewhere.
"""

from __future__ import annotations

import re

from lessonlens.analyzers.javascript import facts, kinds
from lessonlens.analyzers.javascript.spec import SCOPES
from lessonlens.analyzers.match import Match, span_of
from lessonlens.analyzers.model import Applicability, Fix, Hit, Rule, TextEdit
from lessonlens.analyzers.parsing import Node


def _edit(node: Node, text: str) -> TextEdit:
    return TextEdit(span_of(node), text)


# ---- JS010 constant-regexp-constructor ----------------------------------------------------------

_SIMPLE_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f", "v": "\v"}
_LINE_CONTINUATIONS = ("\r\n", "\n", "\r", "\u2028", "\u2029")
_HEX = re.compile(r"[0-9a-fA-F]+")
_FLAGS = frozenset("dgimsuvy")
# How a character that cannot stand in a regex literal is written there instead.
_LITERAL_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t", "\v": "\\v", "\f": "\\f"}


def _cooked(m: Match, node: Node) -> str | None:
    """The value of a string literal or a template without substitutions; None if unsure.

    Legacy octal escapes and malformed escapes give None (the rule then offers no fix).
    """
    if node.type == "template_string":
        if any(c.type == "template_substitution" for c in node.named_children):
            return None
        raw = m.text(node)[1:-1].replace("\r\n", "\n").replace("\r", "\n")
    elif node.type == "string":
        raw = m.text(node)[1:-1]
    else:
        return None
    out: list[str] = []
    i, n = 0, len(raw)
    while i < n:
        c = raw[i]
        if c != "\\":
            out.append(c)
            i += 1
            continue
        if i + 1 >= n:
            return None
        nxt = raw[i + 1]
        continuation = next((t for t in _LINE_CONTINUATIONS if raw.startswith(t, i + 1)), None)
        if continuation is not None:
            i += 1 + len(continuation)
        elif nxt in _SIMPLE_ESCAPES:
            out.append(_SIMPLE_ESCAPES[nxt])
            i += 2
        elif nxt == "0" and not (i + 2 < n and raw[i + 2].isdigit()):
            out.append("\0")
            i += 2
        elif nxt.isdigit():
            return None  # legacy octal (or a syntax error in a template)
        elif nxt == "x":
            digits = raw[i + 2 : i + 4]
            if len(digits) != 2 or not _HEX.fullmatch(digits):
                return None
            out.append(chr(int(digits, 16)))
            i += 4
        elif nxt == "u":
            if raw.startswith("{", i + 2):
                end = raw.find("}", i + 3)
                digits = raw[i + 3 : end] if end > 0 else ""
                if not _HEX.fullmatch(digits) or int(digits, 16) > 0x10FFFF:
                    return None
                out.append(chr(int(digits, 16)))
                i = end + 1
            else:
                digits = raw[i + 2 : i + 6]
                if len(digits) != 4 or not _HEX.fullmatch(digits):
                    return None
                out.append(chr(int(digits, 16)))
                i += 6
        else:
            out.append(nxt)
            i += 2
    return "".join(out)


def _literal_body(pattern: str, unicode_sets: bool = False) -> str | None:
    r"""``pattern`` written between the slashes of a regex literal; None if it cannot be.

    Slashes are escaped, line terminators and other controls written as escapes; a pattern that
    would end in a lone ``\\``, leave a class open, or start a comment (``/*``) gives None.
    """
    if not pattern:
        return "(?:)"
    if pattern.startswith("*"):
        return None
    out: list[str] = []
    escaped = in_class = False
    for ch in pattern:
        code = ord(ch)
        special = code < 0x20 or code == 0x7F or code in (0x2028, 0x2029)
        surrogate = 0xD800 <= code <= 0xDFFF
        if escaped:
            if special or surrogate:
                return None
            out.append(ch)
            escaped = False
        elif ch == "\\":
            out.append(ch)
            escaped = True
        elif ch == "/":
            # A literal may hold `/` in a class (`[/]`), except under the `v` flag.
            out.append("/" if in_class and not unicode_sets else "\\/")
        elif special or surrogate:
            out.append(_LITERAL_ESCAPES.get(ch) or f"\\u{code:04X}")
        else:
            if ch == "[" and not in_class:
                in_class = True
            elif ch == "]" and in_class:
                in_class = False
            out.append(ch)
    if escaped or in_class:
        return None
    return "".join(out)


def _flags(value: str) -> bool:
    return (
        set(value) <= _FLAGS
        and len(set(value)) == len(value)
        and not ("u" in value and "v" in value)
    )


def _in_try(node: Node) -> bool:
    """Whether ``node`` runs in a ``try`` block (feature detection: ``new RegExp("(?<=a)")``)."""
    child, parent = node, node.parent
    while parent is not None:
        if parent.type in SCOPES:
            return False
        if parent.type == "try_statement" and child == parent.child_by_field_name("body"):
            return True
        child, parent = parent, parent.parent
    return False


def _statement_start(node: Node) -> bool:
    """Whether ``node`` begins its statement: a ``/`` there could join the line above."""
    parent = node
    while parent.parent is not None and parent.parent.start_byte == node.start_byte:
        parent = parent.parent
        if parent.type == "expression_statement":
            return True
    return False


def _constant_regexp(m: Match) -> Hit | None:
    finding = m.node("finding")
    arguments = finding.child_by_field_name("arguments")
    if arguments is None:
        return None
    values = [c for c in arguments.named_children if c.type != "comment"]
    if not 1 <= len(values) <= 2 or any(
        v.type not in ("string", "template_string") for v in values
    ):
        return None
    if any(c.type == "template_substitution" for v in values for c in v.named_children):
        return None
    if kinds.shadowed(m, "RegExp", finding) or _in_try(finding) or facts.cold(m, finding):
        return None
    pattern = _cooked(m, values[0])
    flags = _cooked(m, values[1]) if len(values) == 2 else ""
    # Without a backslash there is no double escaping to hide a mistake, and outside a hot
    # loop the constructor runs too rarely to matter: then the literal is only a style choice
    # (build configs write their URL patterns this way on purpose).
    if "\\" not in m.text(values[0]) and facts.hot_loop(m, finding) is None:
        return None
    body = None
    if pattern is not None and flags is not None:
        body = _literal_body(pattern, unicode_sets="v" in flags)
    fix = None
    if body is not None and flags is not None and _flags(flags) and not _statement_start(finding):
        fix = Fix(
            title="Write a regex literal",
            edits=(_edit(finding, f"/{body}/{flags}"),),
            applicability=Applicability.UNSAFE,
            reason="An invalid pattern becomes a syntax error for the whole file, where "
            "`new RegExp` threw only when this line ran.",
        )
    return Hit(span_of(finding), fix=fix)


# ---- JS011 for-in-array -------------------------------------------------------------------------

_RECEIVERS = frozenset(
    {"identifier", "member_expression", "call_expression", "array", "parenthesized_expression"}
)


def _loop_variable(m: Match, loop: Node) -> str | None:
    left = loop.child_by_field_name("left")
    return m.text(left) if left is not None and left.type == "identifier" else None


def _indexes(m: Match, body: Node | None, variable: str) -> bool:
    """Whether ``body`` indexes anything with ``variable`` (``xs[k]``, ``other[k]``).

    The loop then wants the positions, not the elements.
    """
    stack = [body] if body is not None else []
    while stack:
        node = stack.pop()
        if node.type == "subscript_expression":
            index = node.child_by_field_name("index")
            if index is not None and m.text(index) == variable:
                return True
        stack.extend(node.named_children)
    return False


def _for_in_array(m: Match) -> Hit | None:
    finding, iterable = m.node("finding"), m.node("iterable")
    if (
        kinds.kind(m, iterable) != kinds.ARRAY
        or facts.cold(m, finding)
        or kinds.es5_only(m, finding)
    ):
        return None
    keyword = next((c for c in finding.children if c.type == "in"), None)
    variable = _loop_variable(m, finding)
    if keyword is None or variable is None:
        return Hit(span_of(finding, iterable))
    text = m.text(iterable)
    if _indexes(m, finding.child_by_field_name("body"), variable):
        receiver = text if iterable.type in _RECEIVERS else f"({text})"
        fix = Fix(
            title="Loop over the indices with `for...of` and `keys()`",
            edits=(TextEdit(span_of(keyword, iterable), f"of {receiver}.keys()"),),
            applicability=Applicability.UNSAFE,
            reason="The loop variable becomes a number instead of a string, holes are "
            "visited, and other enumerable properties of the array no longer are.",
        )
    else:
        fix = Fix(
            title="Loop over the elements with `for...of`",
            edits=(TextEdit(span_of(keyword), "of"),),
            applicability=Applicability.UNSAFE,
            reason="The loop variable becomes the element instead of its index (a string): "
            "what the body seems to expect, since it never indexes anything with it.",
        )
    return Hit(span_of(finding, iterable), fix=fix)


# ---- JS014 prefer-date-now ----------------------------------------------------------------------


_STATEMENT_END = frozenset({"statement_block", "program", "class_body", "switch_body"})


def _date_now_fallback(m: Match, node: Node) -> bool:
    """Whether the statement around ``node`` also reads ``Date.now``: a fallback for old engines.

    ``Date.now ? Date.now() : +new Date()`` is written for engines without ``Date.now``.
    """
    statement = node
    while statement.parent is not None and statement.parent.type not in _STATEMENT_END:
        statement = statement.parent
    source = m.file.source
    before = source[statement.start_byte : node.start_byte]
    after = source[node.end_byte : statement.end_byte]
    return b"Date.now" in before or b"Date.now" in after


def _prefer_date_now(m: Match) -> Hit | None:
    finding, now = m.node("finding"), m.node("now")
    arguments = now.child_by_field_name("arguments")
    if arguments is not None and arguments.named_children:
        return None
    if finding.type == "call_expression":
        outer = finding.child_by_field_name("arguments")
        number = m.get("number")
        if number is None and outer is not None and outer.named_children:
            return None
        if number is not None and kinds.shadowed(m, "Number", finding):
            return None
    if kinds.shadowed(m, "Date", finding) or _date_now_fallback(m, finding):
        return None
    fix = Fix(title="Use `Date.now()`", edits=(_edit(finding, "Date.now()"),))
    return Hit(span_of(finding), fix=fix)


RULES = (
    Rule(
        id="JS010",
        name="constant-regexp-constructor",
        language="javascript",
        query="JS010.scm",
        message="`new RegExp` with a constant string: a regex literal says the same without "
        "the double escaping, and is checked when the file loads.",
        skill_id="js.regex",
        lesson_id="js-regex-literals",
        check=_constant_regexp,
        quiet_in_tests=True,
        fix_title="Write a regex literal",
        noqa_codes=("prefer-regex-literals", "useRegexLiterals"),
        doc="""
## What it does
Flags `new RegExp("...")` and `RegExp("...")` whose pattern (and flags) are string literals or
templates without substitutions, where `RegExp` is the global one. Silent inside a `try` block,
where a constant pattern tests what the engine supports, and in tests and benchmarks.

## Why is this bad?
Every backslash of the pattern must be doubled in a string (`"\\\\d+"`), which hides escaping
mistakes, and the constructor builds a new `RegExp` each time the line runs: in a loop,
126 ns against 22 ns for a literal (Node 20). A literal is the same pattern, written once,
and a broken one is reported when the file is parsed.

## Example
```javascript
const digits = new RegExp("^\\\\d+$", "u");
```

## Use instead
```javascript
const digits = /^\\d+$/u;
```

## References
- https://developer.mozilla.org/en-US/docs/Web/JavaScript/Guide/Regular_expressions
- https://eslint.org/docs/latest/rules/prefer-regex-literals
""",
        fix_safety="Unsafe: an invalid pattern becomes a syntax error for the whole file, "
        "where `new RegExp` threw only when its line ran. The pattern's characters are "
        "otherwise carried over exactly (slashes and line breaks escaped).",
    ),
    Rule(
        id="JS011",
        name="for-in-array",
        language="javascript",
        query="JS011.scm",
        message="`for...in` walks an array's keys as strings (and inherited enumerable "
        "properties), not its elements; use `for...of`.",
        skill_id="js.iteration",
        lesson_id="js-for-of-arrays",
        check=_for_in_array,
        quiet_in_tests=True,
        fix_title="Loop over the indices with `for...of` and `keys()`",
        noqa_codes=("no-for-in-array", "guard-for-in", "noForIn"),
        doc="""
## What it does
Flags `for (const k in xs)` where `xs` is certainly an array: bound to an array literal,
`Array.from(...)`, `Object.keys(...)`, `.map(...)`/`.filter(...)`/`.split(...)`, or typed `T[]`.
Silent on objects, on anything whose type is unknown, and in files written in ES5 syntax only
(no `for...of` there).

## Why is this bad?
`for...in` enumerates property *names*: the indices come as strings (`"0" + 1` is `"01"`),
along with any enumerable property added to the array or to `Array.prototype` by a library,
and in no order the language promises for non-index keys. It is also slow: 17x slower than
`for...of` over 10,000 elements (Node 20).

## Example
```javascript
const names = users.map((u) => u.name);
for (const i in names) console.log(i + 1, names[i]);
```

## Use instead
```javascript
for (const [i, name] of names.entries()) console.log(i + 1, name);
```

## References
- https://developer.mozilla.org/en-US/docs/Web/JavaScript/Reference/Statements/for...in
- https://developer.mozilla.org/en-US/docs/Web/JavaScript/Reference/Statements/for...of
- https://typescript-eslint.io/rules/no-for-in-array/
""",
        fix_safety="Unsafe. Where the body indexes with `k` (`xs[k]`), the fix loops over "
        "`xs.keys()`: `k` becomes a number instead of a string, holes are visited, and extra "
        "enumerable properties are not. Elsewhere it turns `in` into `of`: `k` becomes the "
        "element, which is what a body that never indexes with `k` seems to expect.",
    ),
    Rule(
        id="JS014",
        name="prefer-date-now",
        language="javascript",
        query="JS014.scm",
        message="`Date.now()` gives the current time in milliseconds without building a `Date`.",
        skill_id="js.idioms",
        lesson_id="js-date-now",
        check=_prefer_date_now,
        quiet_in_tests=True,
        fix_title="Use `Date.now()`",
        noqa_codes=("prefer-date-now",),
        doc="""
## What it does
Flags `new Date().getTime()`, `new Date().valueOf()`, `+new Date()` and `Number(new Date())`
where `Date` is the global one; silent where the same statement reads `Date.now` (a fallback
for engines without it).

## Why is this bad?
Each builds a `Date` object only to read its number back. `Date.now()` says "the current time
in milliseconds" in one call, and allocates nothing (about 40 ns less per call; the reason to
change is clarity, not speed).

## Example
```javascript
const started = new Date().getTime();
```

## Use instead
```javascript
const started = Date.now();
```

## References
- https://developer.mozilla.org/en-US/docs/Web/JavaScript/Reference/Global_Objects/Date/now
- https://github.com/sindresorhus/eslint-plugin-unicorn/blob/main/docs/rules/prefer-date-now.md
""",
        fix_safety="Safe: with the global `Date` (the rule checks it is not shadowed), both "
        "give the same number of milliseconds.",
    ),
)
