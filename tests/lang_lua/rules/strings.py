from __future__ import annotations

from lessonlens.analyzers.match import Match, span_of
from lessonlens.analyzers.model import Hit, Rule, Severity
from lessonlens.analyzers.parsing import Node

_LOOPS = ("for_statement", "while_statement", "repeat_statement")
_FUNCTIONS = ("function_declaration", "function_definition")


def _in_loop(node: Node) -> bool:
    parent = node.parent
    while parent is not None and parent.type not in _FUNCTIONS:
        if parent.type in _LOOPS:
            return True
        parent = parent.parent
    return False


def _concat_in_loop(m: Match) -> Hit | None:
    concat = m.node("finding")
    operator = concat.child_by_field_name("operator") or concat.child(1)
    if operator is None or operator.type != "..":
        return None
    if m.text(m.node("target")) != m.text(m.node("left")) or not _in_loop(concat):
        return None
    return Hit(span_of(m.node("statement")))


RULES = (
    Rule(
        id="LUA001",
        name="concat-in-loop",
        language="lua",
        query="LUA001.scm",
        message="Each `..` copies the whole string: collect the pieces in a table and "
        "`table.concat` them once.",
        skill_id="lua.strings",
        lesson_id="lua-concat-in-loop",
        severity=Severity.INFORMATION,
        check=_concat_in_loop,
        doc="""
## What it does
Flags `s = s .. x` inside a loop.

## Why is this bad?
Lua strings are immutable: each concatenation copies `s`, so the loop is quadratic.

## Example
```lua
for i = 1, n do s = s .. i end
```

## Use instead
```lua
local parts = {}
for i = 1, n do parts[#parts + 1] = i end
local s = table.concat(parts)
```

## References
- https://www.lua.org/pil/11.6.html
""",
    ),
)
