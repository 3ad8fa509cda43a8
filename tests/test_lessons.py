"""The lesson catalog: every built-in lesson is valid, linked, short, and its examples agree."""

from __future__ import annotations

import dataclasses
import importlib.util
import re
import textwrap
from pathlib import Path

import pytest

from lessonlens.analyzers.facade import rules_by_id
from lessonlens.lessons.catalog import MAX_PROSE_WORDS, builtin_folder, cross_check, load_catalog
from lessonlens.lessons.languages import ExampleError, lesson_language
from lessonlens.lessons.lesson_file import LessonParseError, parse_lesson
from lessonlens.lessons.skills import load_skills
from lessonlens.model_runtime.related import lesson_texts

RULES = tuple(rules_by_id().values())
CATALOG = load_catalog()
LESSONS = sorted(CATALOG.lessons.values(), key=lambda lesson: lesson.id)

VALID = textwrap.dedent(
    """\
    ---
    id: demo-lesson
    title: A demo
    skill: python.data-structures
    level: beginner
    modality: hint
    summary: One line.
    rules: []
    links:
      - title: docs
        url: https://docs.python.org/3/
    ---

    ## Why it matters
    Because.

    ## Before and after
    ```python before
    result = 1
    ```
    ```python after
    result = 1
    ```

    ## Try it at work
    Try it.

    ## Learn more
    - [docs](https://docs.python.org/3/)
    """
)


def test_catalog_loads_cleanly_and_is_big_enough():
    assert not CATALOG.problems, "\n".join(map(str, CATALOG.problems))
    assert len(CATALOG.lessons) >= 20
    assert len(CATALOG.skills) >= 15


def test_every_rule_has_its_lesson_and_references_hold():
    problems = cross_check(CATALOG, {r.id: r.lesson_id for r in RULES})
    assert not problems, "\n".join(map(str, problems))


def test_every_lesson_is_a_short_read():
    for lesson in LESSONS:
        assert lesson.prose_words <= MAX_PROSE_WORDS, lesson.id


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda lesson: lesson.id)
def test_lesson_examples_agree(lesson):
    """Before and after run, and compute the same ``result`` from the same setup."""
    for module in lesson.requires:
        assert importlib.util.find_spec(module), f"{lesson.id} needs {module}, not installed"
    # The runner of the lesson's language (lessons/languages.py); Python's execs both sides.
    language = lesson_language(lesson.language)
    assert language is not None and language.run is not None, lesson.language
    example = lesson.example
    try:
        before, after = language.run(example.setup, example.before, example.after, lesson.id)
    except ExampleError as exc:
        pytest.fail(f"both examples must assign `result`: {exc}")
    assert before == after


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda lesson: lesson.id)
def test_lesson_links_are_official_documentation(lesson):
    official = (
        "docs.python.org",
        "peps.python.org",
        "pandas.pydata.org",
        "numpy.org",
        # JavaScript and TypeScript: MDN, the language and runtime's own documentation.
        "developer.mozilla.org",
        "tc39.es",
        "nodejs.org",
        "www.typescriptlang.org",
        # Go: the Go project's documentation and the standard library's.
        "go.dev",
        "pkg.go.dev",
    )
    for link in lesson.links:
        assert link.url.startswith("https://"), link.url
        assert any(host in link.url for host in official), link.url


@pytest.mark.parametrize(
    ("change", "line", "message"),
    [
        (("level: beginner", "level: expert"), 5, "'level' must be one of"),
        (
            ("skill: python.data-structures\n", "skill: python.data-structures\ncolour: red\n"),
            5,
            "unknown key 'colour'",
        ),
        (("title: A demo", "title: [unclosed"), 4, "not valid YAML"),
        (("## Try it at work", "## Try it"), 25, "body sections must be"),
        (
            ("```python after\nresult = 1", "```python after\nresult = = 1"),
            22,
            "after example does not compile",
        ),
        (("id: demo-lesson", "id: Demo_Lesson"), 2, "lowercase letters"),
        (
            ("rules: []\n", "rules: []\nsituations:\n  - |-\n    if x in [1, 2]:\n"),
            9,
            "situation 1 is not valid Python",
        ),
        (
            ("rules: []\n", 'rules: []\nsituations: ["x = 1", "a\\nb\\nc\\nd\\ne\\nf\\ng"]\n'),
            9,
            "situation 2 must be 1 to 6 lines",
        ),
        (("rules: []\n", "rules: []\nsituations: x = 1\n"), 9, "'situations' must be a list"),
    ],
)
def test_broken_lesson_names_file_and_line(change, line, message):
    text = VALID.replace(*change)
    with pytest.raises(LessonParseError) as raised:
        parse_lesson(text, "team/demo-lesson.md")
    problem = raised.value.problem
    assert problem.path == "team/demo-lesson.md"
    assert message in problem.message
    assert problem.line == line, str(problem)


def test_situations_are_kept_dedented_and_read_by_the_model_as_rows():
    text = VALID.replace(
        "rules: []\n",
        "rules: []\nsituations:\n  - |-\n      while todo:\n          job = todo.pop(0)\n",
    )
    lesson = parse_lesson(text, "team/demo-lesson.md")
    assert lesson.situations == ("while todo:\n    job = todo.pop(0)",)
    assert "while todo:\n    job = todo.pop(0)" in lesson_texts(lesson)


def test_every_builtin_lesson_has_situations_that_are_not_its_example():
    for lesson in LESSONS:
        assert 4 <= len(lesson.situations) <= 12, lesson.id
        assert lesson.example.before.strip() not in lesson.situations, lesson.id


def test_team_folder_overrides_builtin_and_broken_files_do_not_stop_loading(tmp_path):
    original = (builtin_folder() / "set-membership.md").read_text()
    (tmp_path / "set-membership.md").write_text(
        original.replace("title: ", "title: Our team's take - ", 1)
    )
    (tmp_path / "broken.md").write_text("no front matter here\n")
    catalog = load_catalog([tmp_path])
    lesson = catalog.lesson("set-membership")
    assert lesson is not None and lesson.title.startswith("Our team's take")
    assert not lesson.builtin
    assert [p.path for p in catalog.errors] == [str(tmp_path / "broken.md")]
    assert len(catalog.lessons) == len(CATALOG.lessons)


def test_prerequisite_cycles_and_unknown_references_are_reported(tmp_path):
    for name, prereq in (("alpha-one", "beta-two"), ("beta-two", "alpha-one")):
        text = VALID.replace("id: demo-lesson", f"id: {name}").replace(
            "rules: []", f"rules: [PY999]\nprerequisites: [{prereq}]"
        )
        (tmp_path / f"{name}.md").write_text(text)
    catalog = load_catalog([tmp_path], include_builtin=False)
    messages = [p.message for p in cross_check(catalog, {})]
    assert any("prerequisite cycle" in m for m in messages)
    assert any("unknown rule 'PY999'" in m for m in messages)


def test_skill_taxonomy_errors_name_the_skill():
    with pytest.raises(ValueError, match=re.escape("skill 'a.b': unknown parent 'zzz'")):
        load_skills('[skill."a.b"]\nname = "A"\ndescription = "d"\nparent = "zzz"\n')


def test_lessons_check_command(tmp_path):
    from click.testing import CliRunner

    from lessonlens.server.cli import main

    ok = CliRunner().invoke(main, ["lessons", "check"])
    assert ok.exit_code == 0, ok.output
    assert "0 errors" in ok.output
    (tmp_path / "demo-lesson.md").write_text(
        VALID.replace("skill: python.data-structures", "skill: no.such.skill")
    )
    bad = CliRunner().invoke(main, ["lessons", "check", str(tmp_path)])
    assert bad.exit_code == 1
    assert "unknown skill 'no.such.skill'" in bad.output


def test_builtin_lessons_ship_as_package_data():
    assert (Path(str(builtin_folder())) / "set-membership.md").is_file()


def test_team_priority_none_silences_a_skill_and_its_children():
    from lessonlens.server.workspace.priorities import effective_priority, silenced_skills

    skills = CATALOG.skills
    overrides = {"python.performance": "none", "python.algorithms": "high"}
    silenced = silenced_skills(overrides, skills)
    assert "python.data-structures" in silenced
    assert "python.collections" in silenced  # grandchild of python.performance
    assert "python.algorithms" not in silenced  # its own priority wins
    assert "python.strings" not in silenced
    assert (
        effective_priority("python.strings", overrides, skills) == skills["python.strings"].priority
    )


def test_builtin_lessons_read_the_same_with_either_yaml_loader():
    """The built-in lessons are read with libyaml where PyYAML has it, team files without."""
    for path in sorted(builtin_folder().glob("*.md")):
        text = path.read_text("utf-8")
        fast = parse_lesson(text, str(path), builtin=True)
        plain = parse_lesson(text, str(path), builtin=False)
        assert dataclasses.replace(plain, builtin=True) == fast, path.name


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda lesson: lesson.id)
def test_builtin_lesson_code_passes_the_syntax_checks(lesson):
    """The catalog reads built-in lessons without checking their code's syntax (the editor's
    start-up path); here every example, situation and practice block is checked."""
    text = Path(lesson.path).read_text("utf-8")
    checked = parse_lesson(text, lesson.path, builtin=False, check_code=True)
    assert checked.example == lesson.example and checked.situations == lesson.situations
