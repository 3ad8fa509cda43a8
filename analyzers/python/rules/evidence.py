"""Skill-evidence detectors: code that already shows a skill, so its hints can step back.

Many of these patterns match very common constructs (every ``with``, every f-string, every
function), so the queries do the filtering with node types, fields and native predicates, and the
predicates here only resolve a name through the file's imports or look at a handful of siblings.

Evidence must be *right* more than it must be complete: the learner model reads it as "this
developer knows X", so a detector stays silent whenever a name might not be what it seems
(``Counter`` imported from somewhere else, ``zip`` shadowed by an import, ``.get`` on a receiver
that may be a ``ConfigParser``). Where the query filters decorator or call names by their last
segment, a member imported under another name (``from functools import cache as memo``) is
missed: a silent false negative, chosen over a Python predicate on every decorator and call.
"""

from __future__ import annotations

from lessonlens.analyzers.match import Match, span_of
from lessonlens.analyzers.model import Check, Detector, Hit
from lessonlens.analyzers.parsing import Node
from lessonlens.analyzers.python import facts

_ANNOTATED_PARAMETERS = frozenset({"typed_parameter", "typed_default_parameter"})
# `/` and `*` separate parameters but are not parameters.
_SEPARATORS = frozenset({"positional_separator", "keyword_separator"})
_IMPLICIT_FIRST = frozenset({b"self", b"cls"})
# A yield in any of these belongs to it, not to the enclosing function (and in a comprehension
# it is a SyntaxError since Python 3.8).
_NOT_GENERATOR_OWNERS = facts.COMPREHENSION_TYPES | {"lambda", "class_definition", "module"}
# Arguments that make `.get(a, b)` something other than a key and a default.
_NOT_A_DEFAULT = frozenset({"keyword_argument", "list_splat", "dictionary_splat"})


def _qualified(m: Match, node: Node) -> str | None:
    """Resolve ``node`` to the dotted name it refers to through the file's imports, if any."""
    head, _, rest = m.text(node).partition(".")
    target = facts.imports(m).get(head)
    if target is None:
        return None
    return f"{target}.{rest}" if rest else target


def _resolves_to_one_of(capture: str, qualified: frozenset[str]) -> Check:
    def check(m: Match) -> Hit | None:
        if _qualified(m, m.node(capture)) not in qualified:
            return None
        return Hit(span_of(m.node("evidence")))

    return check


def _module_of(m: Match, node: Node) -> str | None:
    name = _qualified(m, node)
    return name.rpartition(".")[0] if name is not None else None


def _is_builtin(m: Match, name: Node) -> bool:
    """Whether a bare builtin name is not shadowed by an import (``from numpy import sum``).

    A local ``def zip(...)`` is not looked for: it would take a walk over the scope for a case
    that barely exists.
    """
    return m.text(name) not in facts.imports(m)


def _generator(m: Match) -> Hit | None:
    node = m.node("evidence")
    if node.type == "generator_expression":
        return Hit(span_of(node))
    # One evidence per generator function: every yield reports the same span (the name), and
    # the engine keeps one evidence per span.
    child, current = node, node.parent
    while current is not None:
        # Inside an ERROR node the "yield" is tree-sitter's guess; the name it would be reported
        # on may lie outside the damage, so the engine's error filter would not catch it.
        if current.type in _NOT_GENERATOR_OWNERS or current.is_error:
            return None
        if current.type == "function_definition":
            body = current.child_by_field_name("body")
            # A yield in a default value or a decorator runs in the enclosing scope.
            if body is not None and body.id == child.id:
                name = current.child_by_field_name("name")
                return Hit(span_of(name)) if name is not None else None
        child, current = current, current.parent
    return None


_CONTEXT_MANAGER_DECORATORS = frozenset(
    {"contextlib.contextmanager", "contextlib.asynccontextmanager"}
)


def _context_manager(m: Match) -> Hit | None:
    clause = m.get("clause")
    if clause is not None:
        # From `with` (or `async`) to the end of the items: the body may be long, and a syntax
        # error anywhere in it would otherwise drop the evidence.
        return Hit(span_of(m.node("evidence"), clause))
    if _qualified(m, m.node("decorator")) not in _CONTEXT_MANAGER_DECORATORS:
        return None
    return Hit(span_of(m.node("evidence")))


def _signature_is_damaged(function: Node) -> bool:
    """Whether a syntax error sits in a function's header rather than its body.

    The evidence is reported on the name, which may lie outside the ERROR node: the engine's
    overlap filter cannot see that `def f(a: int) -> in t:` is broken.
    """
    if not function.has_error:
        return False
    for child in function.children:
        if child.type == ":":
            # The header ends here; tree-sitter hangs a broken first statement after it.
            return False
        if child.has_error:
            return True
    return True


def _type_hints(m: Match) -> Hit | None:
    name = m.node("evidence")
    function = name.parent
    if function is None:
        return None
    parameters = function.child_by_field_name("parameters")
    if parameters is None or _signature_is_damaged(function):
        return None
    if function.child_by_field_name("return_type") is not None:
        return Hit(span_of(name))
    source = m.file.source
    annotated = 0
    first = True
    for parameter in parameters.named_children:
        kind = parameter.type
        if kind == "comment":
            continue
        if kind in _SEPARATORS:
            first = False
            continue
        if kind in _ANNOTATED_PARAMETERS:
            annotated += 1
        elif not (
            first
            and kind == "identifier"
            and source[parameter.start_byte : parameter.end_byte] in _IMPLICIT_FIRST
        ):
            return None
        first = False
    # `def f():` and `def m(self):` are vacuously "fully annotated" and show nothing.
    return Hit(span_of(name)) if annotated else None


def _iteration(m: Match) -> Hit | None:
    function = m.get("function")
    if function is not None and not _is_builtin(m, function):
        return None
    return Hit(span_of(m.node("evidence")))


def _collections(m: Match) -> Hit | None:
    if _qualified(m, m.node("function")) != f"collections.{m.text(m.node('name'))}":
        return None
    return Hit(span_of(m.node("evidence")))


def _pathlib(m: Match) -> Hit | None:
    if _module_of(m, m.node("function")) != "pathlib":
        return None
    return Hit(span_of(m.node("evidence")))


_NUMPY_MODULES = frozenset({"numpy", "numpy.linalg"})


def _imports_pandas(m: Match) -> bool:
    return "pandas" in facts.imported_roots(m)


def _vectorization(m: Match) -> Hit | None:
    function = m.get("function")
    if function is not None:
        if _module_of(m, function) not in _NUMPY_MODULES:
            return None
    elif not _imports_pandas(m):
        # `.str`/`.dt`/`.groupby(...).agg` are pandas' spelling, but only pandas makes them so.
        return None
    return Hit(span_of(m.node("evidence")))


def _hashed_lookup(m: Match) -> Hit | None:
    evidence = m.node("evidence")
    haystack = m.get("haystack")
    if haystack is not None:
        if facts.enclosing_loop(evidence, include_comprehensions=True) is None:
            return None
        if haystack.type == "identifier":
            if facts.known_kind(m, m.text(haystack), evidence) != "set":
                return None
        # CPython folds a display of constants into one frozenset; `{a, b}` is rebuilt on
        # every iteration, which costs more than the scan it replaces.
        elif not all(facts.is_literal(element) for element in haystack.named_children):
            return None
        return Hit(span_of(evidence))
    if m.node("default").type in _NOT_A_DEFAULT:
        return None
    # `.get(a, b)` is also ConfigParser.get(section, option), Queue.get(block, timeout) and
    # requests.get(url, params): only a receiver known to be a dict (or os.environ) counts.
    mapping = m.node("mapping")
    if _qualified(m, mapping) == "os.environ" or (
        mapping.type == "identifier" and facts.known_kind(m, m.text(mapping), evidence) == "dict"
    ):
        return Hit(span_of(evidence))
    return None


def _builtin_call(m: Match) -> Hit | None:
    if not _is_builtin(m, m.node("function")):
        return None
    return Hit(span_of(m.node("evidence")))


DETECTORS = [
    Detector(
        id="EV001",
        language="python",
        query="EV001.scm",
        skill_id="python.comprehensions",
    ),
    Detector(
        id="EV002",
        language="python",
        query="EV002.scm",
        skill_id="python.generators",
        check=_generator,
    ),
    Detector(
        id="EV003",
        language="python",
        query="EV003.scm",
        skill_id="python.context-managers",
        check=_context_manager,
    ),
    Detector(
        id="EV004",
        language="python",
        query="EV004.scm",
        skill_id="python.strings",
    ),
    Detector(
        id="EV005",
        language="python",
        query="EV005.scm",
        skill_id="python.type-hints",
        check=_type_hints,
    ),
    Detector(
        id="EV006",
        language="python",
        query="EV006.scm",
        skill_id="python.dataclasses",
        check=_resolves_to_one_of("decorator", frozenset({"dataclasses.dataclass"})),
    ),
    Detector(
        id="EV007",
        language="python",
        query="EV007.scm",
        skill_id="python.iteration",
        check=_iteration,
    ),
    Detector(
        id="EV008",
        language="python",
        query="EV008.scm",
        skill_id="python.collections",
        check=_collections,
    ),
    Detector(
        id="EV009",
        language="python",
        query="EV009.scm",
        skill_id="python.caching",
        check=_resolves_to_one_of(
            "decorator",
            frozenset({"functools.cache", "functools.lru_cache", "functools.cached_property"}),
        ),
    ),
    Detector(
        id="EV010",
        language="python",
        query="EV010.scm",
        skill_id="python.pathlib",
        check=_pathlib,
    ),
    Detector(
        id="EV011",
        language="python",
        query="EV011.scm",
        skill_id="python.async",
        check=_resolves_to_one_of(
            "function",
            frozenset({"asyncio.gather", "asyncio.as_completed", "asyncio.TaskGroup"}),
        ),
    ),
    Detector(
        id="EV012",
        language="python",
        query="EV012.scm",
        skill_id="python.vectorization",
        check=_vectorization,
    ),
    Detector(
        id="EV013",
        language="python",
        query="EV013.scm",
        skill_id="python.data-structures",
        check=_hashed_lookup,
    ),
    Detector(
        id="EV014",
        language="python",
        query="EV014.scm",
        skill_id="python.builtins",
        check=_builtin_call,
    ),
    Detector(
        id="EV015",
        language="python",
        query="EV015.scm",
        skill_id="python.strings",
    ),
]
