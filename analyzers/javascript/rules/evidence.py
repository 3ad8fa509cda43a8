"""Skill-evidence detectors for JavaScript/TypeScript: code that already shows a ``js.*`` skill.

Evidence must be *right* more than complete: the learner model reads it as "this developer
knows X". So each detector looks for the deliberate form of a skill, not its incidental use
(one ``?.`` is weak; ``a?.b ?? fallback`` is the idiom), and stays silent when a name may not
be what it seems (a ``Set`` that may be an array, a ``Promise`` that is a local class).
"""

from __future__ import annotations

from lessonlens.analyzers.javascript import facts, kinds
from lessonlens.analyzers.javascript.spec import is_async
from lessonlens.analyzers.match import Match, span_of
from lessonlens.analyzers.model import Detector, Hit
from lessonlens.analyzers.parsing import Node

_ABORT_STATICS = frozenset({"timeout", "any", "abort"})
# An arrow whose body is a call (`(id) => load(id)`) returns what the call returns: a promise,
# inside `Promise.all`.
_PROMISE_BODIES = frozenset({"call_expression", "await_expression"})


def _promise_over_map(m: Match) -> Hit | None:
    """``Promise.all(xs.map(async ...))``, or a callback that returns a call (a promise)."""
    finding, callback = m.node("evidence"), m.node("callback")
    if kinds.shadowed(m, "Promise", finding):
        return None
    body = callback.child_by_field_name("body")
    returns_call = body is not None and kinds.unwrap(body).type in _PROMISE_BODIES
    if not (is_async(callback) or (callback.type == "arrow_function" and returns_call)):
        return None
    return Hit(span_of(finding))


def _for_await(m: Match) -> Hit | None:
    loop = m.node("evidence")
    return Hit(span_of(loop, m.node("iterable")))


def _outside_loop(declaration: Node, loop: Node) -> bool:
    return not (loop.start_byte <= declaration.start_byte < loop.end_byte)


def _collection_in_loop(m: Match, expected: str) -> Hit | None:
    """``c.method(...)`` in a loop, ``c`` certainly ``expected`` and built outside it."""
    finding, collection = m.node("evidence"), m.node("collection")
    loop = facts.enclosing_loop(finding)
    if loop is None or kinds.kind(m, collection) != expected:
        return None
    declaration = kinds.binding(m, m.text(collection), collection)
    if declaration is None or not _outside_loop(declaration, loop):
        return None
    return Hit(span_of(finding))


def _set_has_in_loop(m: Match) -> Hit | None:
    return _collection_in_loop(m, kinds.SET)


def _map_in_loop(m: Match) -> Hit | None:
    finding = m.node("evidence")
    arguments = finding.child_by_field_name("arguments")
    method = m.text(m.node("method"))
    count = len(arguments.named_children) if arguments is not None else 0
    if (method == "get" and count != 1) or (method == "set" and count != 2):
        return None
    return _collection_in_loop(m, kinds.MAP)


def _optional_with_default(m: Match) -> Hit | None:
    finding = m.node("evidence")
    chain = m.get("chain")
    if chain is not None and b"?." not in m.file.source[chain.start_byte : chain.end_byte]:
        return None
    return Hit(span_of(finding))


def _regex_value(m: Match, value: Node | None) -> bool:
    """A regex literal, or ``new RegExp(...)`` of the global ``RegExp``."""
    if value is None:
        return False
    value = kinds.unwrap(value)
    if value.type == "regex":
        return True
    if value.type != "new_expression":
        return False
    constructor = value.child_by_field_name("constructor")
    return constructor is not None and m.text(constructor) == "RegExp"


def _module_regexes(m: Match) -> dict[str, Node]:
    """Names the file binds to a regex with a top-level ``const`` (computed once per file)."""
    found: dict[str, Node] | None = m.file.facts.get("js.module-regexes")
    if found is not None:
        return found
    found = {}
    for child in m.file.root.named_children:
        statement = (
            child.child_by_field_name("declaration") if child.type == "export_statement" else child
        )
        if statement is None or statement.type != "lexical_declaration":
            continue
        kind = statement.child(0)
        if kind is None or kind.type != "const":
            continue
        for declarator in statement.named_children:
            name = declarator.child_by_field_name("name")
            if (
                name is not None
                and name.type == "identifier"
                and _regex_value(m, declarator.child_by_field_name("value"))
            ):
                found[m.text(name)] = declarator
    m.file.facts["js.module-regexes"] = found
    return found


def _module_regex(m: Match) -> Hit | None:
    """A regex bound once by a module-level ``const``, used in a function."""
    finding, name = m.node("evidence"), m.node("regex")
    declarator = _module_regexes(m).get(m.text(name))
    if declarator is None or facts.enclosing_function(finding) is None:
        return None
    # The name the use sees must be that declaration, and `RegExp` the global one.
    if kinds.binding(m, m.text(name), name) != declarator:
        return None
    value = declarator.child_by_field_name("value")
    if (
        value is not None
        and kinds.unwrap(value).type == "new_expression"
        and kinds.shadowed(m, "RegExp", value)
    ):
        return None
    return Hit(span_of(finding))


def _existence_method(m: Match) -> Hit | None:
    finding, receiver = m.node("evidence"), m.node("receiver")
    if kinds.jquery(m, receiver):
        return None
    if m.text(m.node("method")) == "includes" and kinds.kind(m, receiver) != kinds.ARRAY:
        return None
    return Hit(span_of(finding))


def _signal(m: Match, value: Node) -> bool:
    """``signal``, ``controller.signal``, ``AbortSignal.timeout(ms)``, ``options.signal``."""
    value = kinds.unwrap(value)
    if value.type == "identifier":
        # `{ signal }` or `{ signal: abortSignal }`, not a process signal's name (`"SIGTERM"`).
        return "signal" in m.text(value).lower() and kinds.kind(m, value) is None
    if value.type == "member_expression":
        prop = value.child_by_field_name("property")
        return prop is not None and m.text(prop) == "signal"
    if value.type == "call_expression":
        callee = value.child_by_field_name("function")
        if callee is None or callee.type != "member_expression":
            return False
        owner = callee.child_by_field_name("object")
        method = callee.child_by_field_name("property")
        return (
            owner is not None
            and method is not None
            and m.text(owner) == "AbortSignal"
            and m.text(method) in _ABORT_STATICS
        )
    return False


def _passes_signal(m: Match) -> Hit | None:
    finding, value = m.node("evidence"), m.get("value")
    if value is not None and not _signal(m, value):
        return None
    if value is None and kinds.kind(m, kinds.declared_value(m, "signal", finding)) is not None:
        return None  # `{ signal }` with `const signal = "SIGTERM"`
    return Hit(span_of(finding))


def _set_dedupe(m: Match) -> Hit | None:
    finding = m.node("evidence")
    if kinds.shadowed(m, "Set", finding):
        return None
    if m.get("array") is not None and kinds.shadowed(m, "Array", finding):
        return None
    return Hit(span_of(finding))


DETECTORS = (
    Detector(
        id="EVJ01",
        language="javascript",
        query="EVJ01.scm",
        skill_id="js.async",
        check=_promise_over_map,
    ),
    Detector(
        id="EVJ02",
        language="javascript",
        query="EVJ02.scm",
        skill_id="js.async",
        check=_for_await,
    ),
    Detector(
        id="EVJ03",
        language="javascript",
        query="EVJ03.scm",
        skill_id="js.data-structures",
        check=_set_has_in_loop,
    ),
    Detector(
        id="EVJ04",
        language="javascript",
        query="EVJ04.scm",
        skill_id="js.data-structures",
        check=_map_in_loop,
    ),
    Detector(
        id="EVJ05",
        language="javascript",
        query="EVJ05.scm",
        skill_id="js.idioms",
        check=_optional_with_default,
    ),
    Detector(
        id="EVJ07",
        language="javascript",
        query="EVJ07.scm",
        skill_id="js.regex",
        check=_module_regex,
    ),
    Detector(
        id="EVJ08",
        language="javascript",
        query="EVJ08.scm",
        skill_id="js.arrays",
        check=_existence_method,
    ),
    Detector(
        id="EVJ09",
        language="javascript",
        query="EVJ09.scm",
        skill_id="js.async",
        check=_passes_signal,
    ),
    Detector(
        id="EVJ10",
        language="javascript",
        query="EVJ10.scm",
        skill_id="js.data-structures",
        check=_set_dedupe,
    ),
)
