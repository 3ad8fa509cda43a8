"""A lesson is related to a unit only where its ingredients are, and never where it is followed.

The lessons' `applies-if` / `satisfied-if` gates, read from their front matter, decide this
before the model ranks anything (server/applicability.py); these tests need no model.
"""

from __future__ import annotations

import textwrap
from dataclasses import replace

import pytest
from click.testing import CliRunner
from test_lessons import VALID

from lessonlens.analyzers import language_for_id
from lessonlens.analyzers.engine import Analysis, AnalysisOptions
from lessonlens.analyzers.facade import Selection, analyse
from lessonlens.lessons.catalog import load_catalog
from lessonlens.lessons.lesson_file import LessonParseError, parse_lesson
from lessonlens.model_runtime.applicability import Applicability, Verdict
from lessonlens.model_runtime.related import document_units
from lessonlens.server.cli import main

PYTHON = language_for_id("python")
assert PYTHON is not None
GATES = Applicability(load_catalog([]).lessons.values(), PYTHON)


def verdicts(code: str) -> dict[str, dict[str, Verdict]]:
    """Each unit's verdicts, by unit name, through the product's own path."""
    assert PYTHON is not None
    data = textwrap.dedent(code).encode()
    analysed = analyse(data, PYTHON, AnalysisOptions()).narrowed(Selection())
    units, allowed = document_units(GATES, analysed)
    return {unit.name: dict(v) for unit, v in zip(units, allowed, strict=True)}


BFS_WITH_DEQUE = """
    from collections import deque

    def walk(graph, start):
        queue = deque([start])
        while queue:
            node = queue.popleft()
            queue.extend(graph[node])
"""
BFS_WITH_LIST = BFS_WITH_DEQUE.replace("deque([start])", "[start]").replace("popleft()", "pop(0)")


@pytest.mark.parametrize(
    ("code", "lesson"),
    [
        (BFS_WITH_DEQUE, "deque-queue"),
        ("def read(path):\n    with open(path) as f:\n        return f.read()\n", "with-open"),
        (
            "import re\nPAT = re.compile('a+')\ndef f(xs):\n    for x in xs:\n"
            "        re.match('a+', x)\n    return re.compile('b')\n",
            "compile-regex",
        ),
        (
            "from collections import Counter\ndef tally(words):\n    c = Counter()\n"
            "    for w in words:\n        c[w] += 1\n    return c\n",
            "counter",
        ),
    ],
)
def test_a_unit_that_already_follows_a_lesson_never_gets_it(code: str, lesson: str) -> None:
    (found,) = verdicts(code).values()
    assert not found[lesson].allowed
    assert found[lesson].followed is not None


@pytest.mark.parametrize(
    ("code", "lesson"),
    [
        # json.loads of a web response's text: no file is read, json.load has nothing to offer.
        ("import json\ndef get(resp):\n    return json.loads(resp.text)\n", "json-load"),
        # A plain retry loop: time.sleep is right outside `async def`.
        (
            "import time\ndef retry(fn):\n    for _ in range(3):\n        try:\n"
            "            return fn()\n        except OSError:\n            time.sleep(1)\n",
            "async-blocking",
        ),
        # No default argument, or only immutable ones.
        ("def area(width, height):\n    return width * height\n", "mutable-defaults"),
        ("def f(a, b=None, c=(), d=0):\n    return a\n", "mutable-defaults"),
        # A regex used once, not in a loop; the iterable of a for runs once too.
        (
            "import re\ndef words(text):\n    for w in re.findall('[a-z]+', text):\n"
            "        print(w)\n",
            "compile-regex",
        ),
        # A membership test that runs once.
        ("def ok(mode):\n    return mode in ['r', 'w']\n", "set-membership"),
    ],
)
def test_a_unit_without_the_lessons_ingredients_never_gets_it(code: str, lesson: str) -> None:
    (found,) = verdicts(code).values()
    assert not found[lesson].allowed
    assert found[lesson].followed is None


@pytest.mark.parametrize(
    ("code", "lesson"),
    [
        (BFS_WITH_LIST, "deque-queue"),
        (
            "def read(path):\n    f = open(path)\n    data = f.read()\n    f.close()\n"
            "    return data\n",
            "with-open",
        ),
        (
            "import json\ndef load(path):\n    with open(path) as f:\n"
            "        return json.loads(f.read())\n",
            "json-load",
        ),
        (
            "import time\nasync def poll(ready):\n    while not ready():\n        time.sleep(1)\n",
            "async-blocking",
        ),
        (
            "def add(item, bucket=[]):\n    bucket.append(item)\n    return bucket\n",
            "mutable-defaults",
        ),
        (
            "import re\ndef f(lines):\n    for line in lines:\n        if re.match('a+', line):\n"
            "            yield line\n",
            "compile-regex",
        ),
    ],
)
def test_a_unit_with_the_lessons_ingredients_may_get_it(code: str, lesson: str) -> None:
    (found,) = verdicts(code).values()
    assert found[lesson].allowed
    assert found[lesson].because is not None  # "Why you see this" names it


def test_an_ingredient_belongs_to_the_innermost_unit() -> None:
    found = verdicts(
        """
        class Store:
            def load(self, path):
                f = open(path)
                return f.read()

            def save(self, path, text):
                with open(path, "w") as f:
                    f.write(text)
        """
    )
    assert found["Store.load"]["with-open"].allowed
    assert not found["Store.save"]["with-open"].allowed
    assert found["Store.save"]["with-open"].followed is not None


def test_a_blocking_call_in_a_plain_def_inside_an_async_def_is_not_async_blocking() -> None:
    (found,) = verdicts(
        """
        import time
        async def main(loop):
            def work():
                time.sleep(1)
            await loop.run_in_executor(None, work)
        """
    ).values()
    assert not found["async-blocking"].allowed


GATED = VALID.replace("rules: []\n", "rules: []\napplies-if:\n  - query: '(call) @c'\n")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("- query: '(call) @c'", "- colour: red"), "must be one of rule:, evidence: or query:"),
        (("- query: '(call) @c'", "- rule: PY001\n    within: loop"), "'within' goes with a query"),
        (("- query: '(call) @c'", "- query: '(call) @c'\n    within: class"), "one of loop"),
        (("- query: '(call) @c'", "- query: '(call) @c'\n    size: 2"), "unknown key 'size'"),
        (("- query: '(call) @c'", "- query: ''"), "needs a non-empty string"),
        (("applies-if:\n  - query: '(call) @c'", "applies-if: (call)"), "must be a list"),
    ],
)
def test_a_broken_gate_names_file_and_line(change: tuple[str, str], message: str) -> None:
    with pytest.raises(LessonParseError) as raised:
        parse_lesson(GATED.replace(*change), "team/demo-lesson.md")
    problem = raised.value.problem
    assert problem.path == "team/demo-lesson.md"
    assert problem.line == 9, str(problem)
    assert message in problem.message


@pytest.mark.parametrize(
    ("gate", "message"),
    [
        ("- query: '(no_such_node) @x'", "query does not compile: "),
        ("- query: '(call)'", "query captures nothing"),
        ("- rule: PY999", "unknown rule 'PY999'"),
        ("- evidence: no-such-detector", "unknown evidence detector 'no-such-detector'"),
    ],
)
def test_lessons_check_reports_a_gate_that_cannot_work(tmp_path, gate: str, message: str) -> None:
    (tmp_path / "demo-lesson.md").write_text(GATED.replace("- query: '(call) @c'", gate))
    result = CliRunner().invoke(main, ["lessons", "check", str(tmp_path)])
    assert result.exit_code == 1, result.output
    assert f"{tmp_path / 'demo-lesson.md'}:9: error: applies-if: {message}" in result.output


def test_a_team_lessons_gates_are_used_like_the_builtin_ones(tmp_path) -> None:
    (tmp_path / "demo-lesson.md").write_text(
        GATED.replace(
            "- query: '(call) @c'",
            "- query: '(call function: (identifier) @f (#eq? @f \"legacy_fetch\"))'\n"
            "    within: loop",
        )
    )
    catalog = load_catalog([tmp_path])
    assert not catalog.errors
    assert PYTHON is not None
    gates = Applicability(catalog.lessons.values(), PYTHON)
    source = (
        b"def a(ids):\n    for i in ids:\n        legacy_fetch(i)\n\n"
        b"def b(i):\n    legacy_fetch(i)\n"
    )
    analysed = analyse(source, PYTHON, AnalysisOptions())
    units, allowed = document_units(gates, replace(analysed, analysis=Analysis((), (), ())))
    assert [u.name for u in units] == ["a", "b"]
    assert allowed[0]["demo-lesson"].allowed
    assert not allowed[1]["demo-lesson"].allowed
