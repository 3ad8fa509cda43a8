"""Related lessons for JavaScript, TypeScript and Go: units, gates, and the lens end to end.

The labelled set (tests/data/related_units_js_go.yaml) is read through each language's own spec
and gates; a JS unit and a Go unit that a lesson fits get it from `check --related` (real
inference: the `shipped` fixture builds the model if it is missing), and their near misses,
which already do what the lesson teaches, get nothing.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from lessonlens.analyzers.engine import AnalysisOptions
from lessonlens.analyzers.facade import Selection, analyse
from lessonlens.analyzers.languages import language_for_id
from lessonlens.lessons.catalog import load_catalog
from lessonlens.model_runtime.applicability import Applicability, query_problem
from lessonlens.model_runtime.related import document_units
from lessonlens.model_runtime.training.evalset import JS_GO_PATH, load_items
from lessonlens.server.cli import main

JS_LESSON = "js-accumulating-spread"
# Accumulating with `concat` in a loop: js-accumulating-spread (its rules are opt-in, so only
# its `applies-if` query lets the model relate it). The near miss already adds in place.
LINKS_JS = """\
export function externalLinks(pages) {
  let links = [];
  for (const page of pages) {
    links = links.concat(page.links.filter((link) => link.external));
  }
  return links;
}

export function externalLinksInPlace(pages) {
  const links = [];
  for (const page of pages) {
    links.push(...page.links.filter((link) => link.external));
  }
  return links;
}
"""

# One append per item into a slice declared empty: go-prealloc-slice (GO004 is opt-in). The
# near miss already gives the slice its capacity.
SCOPES_GO = """\
package scopes

import "fmt"

func Quoted(scopes []string) []string {
	var quoted []string
	for _, s := range scopes {
		quoted = append(quoted, fmt.Sprintf("'%s'", s))
	}
	return quoted
}

func QuotedWithCapacity(scopes []string) []string {
	quoted := make([]string, 0, len(scopes))
	for _, s := range scopes {
		quoted = append(quoted, fmt.Sprintf("'%s'", s))
	}
	return quoted
}
"""

# (file, code, language, the unit the lesson fits, its near miss, the lesson)
CASES = [
    ("links.js", LINKS_JS, "javascript", "externalLinks", "externalLinksInPlace", JS_LESSON),
    ("scopes.go", SCOPES_GO, "go", "Quoted", "QuotedWithCapacity", "go-prealloc-slice"),
]


def _verdicts(source: str, language: str) -> dict[str, dict[str, bool]]:
    spec = language_for_id(language)
    assert spec is not None
    gates = Applicability(load_catalog([]).lessons.values(), spec)
    analysed = analyse(source.encode(), spec, AnalysisOptions()).narrowed(Selection())
    units, verdicts = document_units(gates, analysed)
    pairs = zip(units, verdicts, strict=True)
    return {u.name: {k: v.allowed for k, v in vs.items()} for u, vs in pairs}


@pytest.mark.parametrize(("name", "source", "language", "fits", "follows", "lesson"), CASES)
def test_the_gates_allow_the_lesson_where_it_fits_and_not_where_it_is_followed(
    name: str, source: str, language: str, fits: str, follows: str, lesson: str
) -> None:
    verdicts = _verdicts(source, language)
    assert verdicts[fits][lesson]
    assert not verdicts[follows][lesson]
    # Lessons about another language are never related.
    assert not any(allowed for k, allowed in verdicts[fits].items() if not k.startswith(lesson[:3]))


def test_js_and_go_gate_queries_compile_in_every_grammar_that_reads_them() -> None:
    """A JavaScript lesson's queries serve TypeScript and TSX too; a broken one never matches."""
    readers = {"javascript": ("javascript", "typescript", "tsx"), "go": ("go",)}
    for lesson in load_catalog([]).lessons.values():
        for gate in (*lesson.applies_if, *lesson.satisfied_if):
            if gate.kind != "query" or lesson.language not in readers:
                continue
            for language in readers[lesson.language]:
                spec = language_for_id(language)
                assert spec is not None
                assert query_problem(spec, gate.value) is None, (lesson.id, language)


def test_the_labelled_set_reads_each_unit_in_its_own_language() -> None:
    items = load_items([JS_GO_PATH])
    by_language = {i.language for i in items}
    assert by_language == {"javascript", "typescript", "go"}
    lessons = load_catalog([]).lessons
    for item in items:
        assert item.split in ("dev", "test")
        assert not set(item.lessons) & set(item.near_miss), item.id
        for lesson_id in (*item.lessons, *item.near_miss):
            assert lessons[lesson_id].language == item.lesson_language, item.id
        allowed = {k for k, v in item.verdicts.items() if v.allowed}
        assert all(lessons[k].language == item.lesson_language for k in allowed), item.id
    # A TypeScript method is quoted inside its class: the entry names the method's unit.
    (method,) = [i for i in items if i.id == "typeorm-mysql-add-columns"]
    assert (method.unit.kind, method.unit.name) == ("method", "MysqlQueryRunner.addColumns")
    for language in ("javascript", "go"):
        for split in ("dev", "test"):
            chosen = [i for i in items if i.lesson_language == language and i.split == split]
            assert any(i.lessons for i in chosen) and any(i.near_miss for i in chosen)


@pytest.mark.parametrize(("name", "source", "language", "fits", "follows", "lesson"), CASES)
def test_check_related_relates_the_lesson_to_the_unit_and_not_to_its_near_miss(
    shipped: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    name: str,
    source: str,
    language: str,
    fits: str,
    follows: str,
    lesson: str,
) -> None:
    (tmp_path / name).write_text(textwrap.dedent(source))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("LESSONLENS_MODEL_DIR", str(shipped))
    result = CliRunner().invoke(main, ["check", "--related", "--format", "json", name])
    assert result.exit_code == 0, result.output
    (file,) = json.loads(result.stdout)["files"]
    assert file["findings"] == []  # no rule speaks: the lens is the model's
    related = {note["line"]: note["lesson"]["id"] for note in file["related"]}
    lines = source.splitlines()
    start = next(n for n, line in enumerate(lines, 1) if f" {fits}(" in line)
    near = next(n for n, line in enumerate(lines, 1) if f" {follows}(" in line)
    assert related.get(start) == lesson
    assert near not in related
