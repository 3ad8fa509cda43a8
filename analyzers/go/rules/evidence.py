"""Go skill-evidence detectors: code that already shows a skill, so its hints can step back.

Evidence must be right more than complete: each detector resolves package names through the
file's imports (a local package named ``strings`` is not the standard one) and stays silent
when the shape is only half there (a ``strings.Builder`` never written to, a ``make`` with
capacity that no loop fills).
"""

from __future__ import annotations

import re

from lessonlens.analyzers.go import facts
from lessonlens.analyzers.match import Match, span_of
from lessonlens.analyzers.model import Check, Detector, Hit
from lessonlens.analyzers.parsing import Node

_BUILDER_WRITES = frozenset({"WriteString", "WriteByte", "WriteRune", "Write", "Grow"})
# A `%w` verb that is not the tail of an escaped `%%`.
_WRAP_VERB = re.compile(r"(?<!%)(?:%%)*%w")
_OPENERS = frozenset({"short_var_declaration", "assignment_statement"})
_GROUP_TYPES = {"sync.WaitGroup": "sync", "errgroup.Group": "golang.org/x/sync/errgroup"}


def _is_package(m: Match, node: Node, path: str) -> bool:
    """Whether the name ``node`` is the standard package ``path``: imported, not shadowed."""
    name = m.text(node)
    return facts.imports_package(m, name, path) and not facts.declared_in_function(m, name, node)


def _package(capture: str, path: str) -> Check:
    """Evidence wherever the ``capture``d package name is the standard package ``path``."""

    def check(m: Match) -> Hit | None:
        if not _is_package(m, m.node(capture), path):
            return None
        return Hit(span_of(m.node("evidence")))

    return check


def _calls_on(m: Match, name: str, at: Node, methods: frozenset[str]) -> bool:
    """Whether the function around ``at`` calls one of ``methods`` on ``name``."""
    function = facts.outermost_function(at)
    if function is None:
        return False
    for node in facts.descendants(function):
        if node.type != "call_expression":
            continue
        callee = node.child_by_field_name("function")
        if callee is None or callee.type != "selector_expression":
            continue
        operand = callee.child_by_field_name("operand")
        field = callee.child_by_field_name("field")
        if operand is None or field is None:
            continue
        if m.text(field) in methods and m.text(operand) == name:
            return True
    return False


def _builder(m: Match) -> Hit | None:
    new = m.get("new")
    if new is not None and m.text(new) != "new":
        return None
    if not _is_package(m, m.node("pkg"), "strings"):
        return None
    evidence = m.node("evidence")
    if not _calls_on(m, m.text(m.node("name")), evidence, _BUILDER_WRITES):
        return None
    return Hit(span_of(evidence))


def _fills(m: Match, loop: Node, name: str) -> bool:
    """Whether a loop appends to ``name`` or stores into it (``name[k] = v``)."""
    for node in facts.descendants(loop, into_functions=False):
        if node.type != "assignment_statement":
            continue
        left = node.child_by_field_name("left")
        right = node.child_by_field_name("right")
        for target in left.named_children if left is not None else []:
            if target.type == "index_expression":
                operand = target.child_by_field_name("operand")
                if operand is not None and m.text(operand) == name:
                    return True
            elif m.text(target) == name and right is not None:
                text = m.text(right).replace(" ", "")
                if text.startswith(f"append({name},"):
                    return True
    return False


def _presized(m: Match) -> Hit | None:
    call = m.node("evidence")
    arguments = call.child_by_field_name("arguments")
    sizes = arguments.named_children[1:] if arguments is not None else []
    wanted = 2 if m.node("type").type == "slice_type" else 1
    if len(sizes) != wanted or m.text(sizes[-1]) == "0":
        return None  # `make([]T, n)` sets a length, not a capacity; a size of 0 is no hint
    statement = call.parent.parent if call.parent is not None else None
    name = m.text(m.node("name"))
    following = statement.next_named_sibling if statement is not None else None
    while following is not None:
        if following.type == "for_statement" and _fills(m, following, name):
            return Hit(span_of(call))
        following = following.next_named_sibling
    return None


def _wraps(m: Match) -> Hit | None:
    if not _is_package(m, m.node("pkg"), "fmt"):
        return None
    if not _WRAP_VERB.search(m.text(m.node("format"))):
        return None
    return Hit(span_of(m.node("evidence")))


def _package_level_regexp(m: Match) -> Hit | None:
    if not facts.imports_package(m, m.text(m.node("pkg")), "regexp"):
        return None
    call = m.node("evidence")
    if facts.enclosing_function(call) is not None:
        return None
    return Hit(span_of(call))


def _comma_ok_value(m: Match) -> Hit | None:
    return Hit(span_of(m.node("evidence")))


def _previous(node: Node) -> Node | None:
    previous = node.prev_named_sibling
    while previous is not None and previous.type == "comment":
        previous = previous.prev_named_sibling
    return previous


def _assigned_names(m: Match, statement: Node | None) -> list[str]:
    if statement is None or statement.type not in _OPENERS:
        return []
    left = statement.child_by_field_name("left")
    return [m.text(n) for n in left.named_children] if left is not None else []


def _error_check(m: Match, statement: Node | None) -> bool:
    """``if err != nil { … return … }``: the open failed, and the function left."""
    if statement is None or statement.type != "if_statement":
        return False
    condition = statement.child_by_field_name("condition")
    consequence = statement.child_by_field_name("consequence")
    if condition is None or consequence is None or condition.type != "binary_expression":
        return False
    right = condition.child_by_field_name("right")
    operator = condition.child_by_field_name("operator")
    if right is None or operator is None or m.text(right) != "nil" or m.text(operator) != "!=":
        return False
    return any(_leaves(m, n) for n in facts.descendants(consequence, into_functions=False))


def _leaves(m: Match, node: Node) -> bool:
    """A ``return``, a ``panic``, a ``log.Fatal``: the function does not go on."""
    if node.type == "return_statement":
        return True
    if node.type != "call_expression":
        return False
    callee = node.child_by_field_name("function")
    name = m.text(callee).rsplit(".", 1)[-1] if callee is not None else ""
    return name in ("panic", "Fatal", "Fatalf", "Fatalln", "Exit", "FailNow")


def _deferred_close(m: Match) -> Hit | None:
    statement = m.node("evidence")
    if m.text(m.node("args")) != "()" or facts.enclosing_loop(statement) is not None:
        return None
    previous = _previous(statement)
    cancel = m.get("cancel")
    if cancel is not None:
        names = _assigned_names(m, previous)
        if len(names) != 2 or names[1] != m.text(cancel) or previous is None:
            return None
        right = previous.child_by_field_name("right")
        call = right.named_children[0] if right is not None and right.named_children else None
        callee = call.child_by_field_name("function") if call is not None else None
        if callee is None or callee.type != "selector_expression":
            return None
        package = callee.child_by_field_name("operand")
        field = callee.child_by_field_name("field")
        if package is None or field is None or not m.text(field).startswith("With"):
            return None
        if not _is_package(m, package, "context"):
            return None
        return Hit(span_of(statement))
    resource = m.text(m.node("resource")).split(".", 1)[0]
    if not _error_check(m, previous) or previous is None:
        return None
    opener = _previous(previous)
    names = _assigned_names(m, opener)
    if resource not in names or "err" not in names:
        return None
    return Hit(span_of(statement))


def _group_kind(m: Match, name: str, at: Node) -> str | None:
    """The import path of the group type ``name`` is declared with in the function, if any."""
    declared = facts.declared_type(m, name, at)
    if declared is not None:
        kind = declared.lstrip("*")
        package = kind.split(".", 1)[0]
        path = _GROUP_TYPES.get(kind)
        return path if path is not None and facts.imports_package(m, package, path) else None
    function = facts.outermost_function(at)
    for node in facts.descendants(function) if function is not None else []:
        if node.type != "short_var_declaration" or _assigned_names(m, node)[:1] != [name]:
            continue
        right = node.child_by_field_name("right")
        call = right.named_children[0] if right is not None and right.named_children else None
        callee = call.child_by_field_name("function") if call is not None else None
        if callee is not None and m.text(callee).endswith(".WithContext"):
            package = m.text(callee).split(".", 1)[0]
            path = _GROUP_TYPES["errgroup.Group"]
            return path if facts.imports_package(m, package, path) else None
    return None


def _fan_out(m: Match) -> Hit | None:
    call = m.node("evidence")
    group = m.text(m.node("group"))
    if m.text(m.node("args")) != "()" or _group_kind(m, group, call) is None:
        return None
    function = facts.outermost_function(call)
    for node in facts.descendants(function) if function is not None else []:
        if node.type != "for_statement":
            continue
        for inner in facts.descendants(node):
            if inner.type == "go_statement":
                return Hit(span_of(call))
            if inner.type == "call_expression" and m.text(inner).startswith(f"{group}.Go("):
                return Hit(span_of(call))
    return None


DETECTORS = [
    Detector(id="EVG01", language="go", query="EVG01.scm", skill_id="go.strings", check=_builder),
    Detector(id="EVG02", language="go", query="EVG02.scm", skill_id="go.slices", check=_presized),
    Detector(
        id="EVG03",
        language="go",
        query="EVG03.scm",
        skill_id="go.errors",
        check=_package("pkg", "errors"),
    ),
    Detector(id="EVG04", language="go", query="EVG04.scm", skill_id="go.errors", check=_wraps),
    Detector(
        id="EVG05",
        language="go",
        query="EVG05.scm",
        skill_id="go.regex",
        check=_package_level_regexp,
    ),
    Detector(
        id="EVG06", language="go", query="EVG06.scm", skill_id="go.maps", check=_comma_ok_value
    ),
    Detector(
        id="EVG07",
        language="go",
        query="EVG07.scm",
        skill_id="go.resources",
        check=_deferred_close,
    ),
    Detector(
        id="EVG08",
        language="go",
        query="EVG08.scm",
        skill_id="go.strings",
        check=_package("pkg", "strconv"),
    ),
    Detector(
        id="EVG09",
        language="go",
        query="EVG09.scm",
        skill_id="go.concurrency",
        check=_fan_out,
    ),
]
