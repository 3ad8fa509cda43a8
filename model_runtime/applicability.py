"""Whether a lesson can apply to a code unit at all, from what the unit contains.

The model says how much a unit *resembles* a lesson; resemblance is not applicability. A
breadth-first walk that already uses a deque resembles the deque lesson more than anything, and
telling its author to use a deque teaches them to ignore the tool. So each lesson may declare,
in its front matter, the ingredients a unit must hold for it to apply (`applies-if`) and what
shows the unit already follows it (`satisfied-if`), as rules, evidence detectors or tree-sitter
queries (see lessons/FORMAT.md). This module finds those ingredients in a parsed file, unit by
unit, in one query walk; `related.py` keeps only the lessons a unit's ingredients allow.

An ingredient belongs to the innermost unit that holds it: a method's code is the method's, not
its class's.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from lessonlens.analyzers import parsing
from lessonlens.analyzers.engine import Analysis, rule_set
from lessonlens.analyzers.languages import LanguageSpec
from lessonlens.analyzers.model import CodeUnit
from lessonlens.lessons.lesson import Gate, Lesson


def _compiled(spec: LanguageSpec, text: str) -> tuple[parsing.Query | None, str | None]:
    """A gate's query compiled for ``spec``'s grammar, or None and what is wrong with it."""
    try:
        query = parsing.compile_query(rule_set(spec).grammar, text)
    except parsing.QueryError as exc:
        problem = str(exc).splitlines()[0] if str(exc) else "invalid query"
        return None, "does not compile: " + problem
    if parsing.pattern_count(query) == 0:
        return None, "has no pattern"
    if query.capture_count == 0:
        return None, "captures nothing: name the node it is about (add @name to a node)"
    return query, None


def query_problem(spec: LanguageSpec, text: str) -> str | None:
    """What is wrong with a gate's query for ``spec``'s grammar, or None."""
    return _compiled(spec, text)[1]


@dataclass(frozen=True)
class Verdict:
    """Why a lesson may or may not be related to a unit."""

    allowed: bool
    # The ingredient that made it applicable (`applies-if`), for "Why you see this".
    because: Gate | None = None
    # The ingredient that shows the unit already follows it (`satisfied-if`).
    followed: Gate | None = None
    # The code that showed the ingredient (the first line of its node), or "".
    code: str = ""


class Applicability:
    """The gates of one catalog, compiled for one language."""

    def __init__(self, lessons: Iterable[Lesson], spec: LanguageSpec) -> None:
        self.spec = spec
        self.lessons: dict[str, Lesson] = {lesson.id: lesson for lesson in lessons}
        texts: list[str] = []
        self._owners: list[list[Gate]] = []  # the gates of each pattern of the combined query
        grammar = rule_set(spec).grammar
        first: dict[str, tuple[int, int]] = {}  # query text -> its first pattern, its count
        for lesson in self.lessons.values():
            for gate in (*lesson.applies_if, *lesson.satisfied_if):
                if gate.kind != "query" or lesson.language != spec.lessons:
                    continue
                if gate.value in first:
                    start, count = first[gate.value]
                    for owners in self._owners[start : start + count]:
                        if gate not in owners:
                            owners.append(gate)
                    continue
                query, _ = _compiled(spec, gate.value)
                if query is None:
                    continue  # reported by `lessons check`; a broken gate never matches
                count = parsing.pattern_count(query)
                first[gate.value] = (len(self._owners), count)
                texts.append(gate.value)
                self._owners.extend([gate] for _ in range(count))
        self._query = parsing.compile_query(grammar, "\n".join(texts)) if texts else None

    def unit_ingredients(
        self,
        root: parsing.Node,
        analysis: Analysis | None,
        units: Sequence[CodeUnit],
    ) -> list[dict[str, str]]:
        """Each unit's ingredients: gate tokens (`Gate.token`), each with the code that showed it.

        The code is the source line of the first node a query captured (for "Why you see this");
        a rule's or detector's ingredient has none.
        """
        found: list[dict[str, str]] = [{} for _ in units]
        owner = _innermost(units)
        if analysis is not None:
            for finding in analysis.findings:
                index = owner(finding.span.start_byte)
                if index is not None:
                    found[index].setdefault(f"rule:{finding.rule_id}", "")
            for item in analysis.evidence:
                index = owner(item.span.start_byte)
                if index is not None:
                    found[index].setdefault(f"evidence:{item.detector_id}", "")
        if self._query is not None:
            lines = (root.text or b"").split(b"\n")
            for pattern, captures in parsing.matches(self._query, root, None):
                nodes = [n for group in captures.values() for n in group]
                if not nodes:
                    continue
                node = min(nodes, key=lambda n: n.start_byte)
                index = owner(node.start_byte)
                if index is None:
                    continue
                for gate in self._owners[pattern]:
                    if not gate.within or self._within(node, gate.within, units[index]):
                        found[index].setdefault(gate.token, _line_of(node, lines))
        return found

    def _within(self, node: parsing.Node, where: str, unit: CodeUnit) -> bool:
        """Whether ``node`` lies where a gate's ``within`` says, by the language's own rules.

        A language that cannot say (no ``LanguageSpec.within``) never matches such a gate.
        """
        within = self.spec.within
        return within is not None and within(node, where, unit.span.start_byte)

    def verdict(self, lesson_id: str, ingredients: Mapping[str, str]) -> Verdict:
        lesson = self.lessons.get(lesson_id)
        if lesson is None:
            return Verdict(True)
        if lesson.language != self.spec.lessons:
            return Verdict(False)  # a lesson about another language never applies here
        followed = _first(lesson.satisfied_if, ingredients)
        if followed is not None:
            return Verdict(False, followed=followed, code=ingredients[followed.token])
        if not lesson.applies_if:
            return Verdict(True)
        because = _first(lesson.applies_if, ingredients)
        code = ingredients[because.token] if because is not None else ""
        return Verdict(because is not None, because=because, code=code)

    def allowed(self, ingredients: Sequence[Mapping[str, str]]) -> list[Mapping[str, Verdict]]:
        """Per unit, every lesson's verdict."""
        return [
            {lesson_id: self.verdict(lesson_id, found) for lesson_id in self.lessons}
            for found in ingredients
        ]


def _line_of(node: parsing.Node, lines: Sequence[bytes], limit: int = 60) -> str:
    """The source line where ``node`` starts, stripped and shortened: the code a reader sees."""
    row = node.start_point[0]
    raw = lines[row] if row < len(lines) else (node.text or b"")
    text = raw.decode("utf-8", "replace").strip().replace("`", "'")
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _first(gates: Sequence[Gate], ingredients: Mapping[str, str]) -> Gate | None:
    return next((g for g in gates if g.token in ingredients), None)


def _innermost(units: Sequence[CodeUnit]) -> Callable[[int], int | None]:
    """A function from a byte offset to the index of the innermost unit holding it."""
    order = sorted(range(len(units)), key=lambda i: units[i].span.start_byte)
    starts = [units[i].span.start_byte for i in order]

    def owner(offset: int) -> int | None:
        # Going back from the last unit that starts before the offset, the first one that holds
        # it is the innermost (a method starts after its class). Top-level units do not nest,
        # so one that does not hold the offset ends the search.
        for k in range(bisect_right(starts, offset) - 1, -1, -1):
            unit = units[order[k]]
            if unit.span.start_byte <= offset < unit.span.end_byte:
                return order[k]
            if unit.kind != "method":
                return None
        return None

    return owner
