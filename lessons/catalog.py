"""The lesson catalog: built-in and team lesson folders loaded, layered and cross-checked.

A broken lesson never takes the catalog down: it is reported with its file and line and left
out, and the rest load. Team lesson folders are read after the built-in ones, and a team lesson
replaces the built-in lesson with the same id. One file is read by ``lessons/lesson_file.py``;
the skill taxonomy is ``lessons/skills.py``'s.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from lessonlens.lessons.lesson import Lesson, LessonProblem
from lessonlens.lessons.lesson_file import LessonParseError, parse_lesson, read_lesson_file
from lessonlens.lessons.skills import Skill, load_skills

# About a 90-second read at ~230 words a minute, code blocks not counted.
MAX_PROSE_WORDS = 400
# A lesson folder holds at most this many lessons; past it the folder is cut short with a problem
# (a repository's folder of a million files must not stall the editor's start).
MAX_LESSON_FILES = 2000


@dataclass
class Catalog:
    skills: dict[str, Skill]
    lessons: dict[str, Lesson] = field(default_factory=dict)
    problems: list[LessonProblem] = field(default_factory=list)
    # Raw HTML and links that are not http(s) in team lessons: errors for `lessons check`. The
    # lessons still load; the server neutralises them before showing them (lessons/markup.py).
    active_content: list[LessonProblem] = field(default_factory=list)

    def lesson(self, lesson_id: str) -> Lesson | None:
        return self.lessons.get(lesson_id)

    def skill(self, skill_id: str) -> Skill | None:
        return self.skills.get(skill_id)

    @property
    def errors(self) -> list[LessonProblem]:
        return [p for p in self.problems if not p.warning]


def _lesson_files(folder: Path, catalog: Catalog) -> list[Path]:
    files: list[Path] = []
    for path in folder.glob("*.md"):
        if path.name.upper() == "README.MD":
            continue
        if len(files) == MAX_LESSON_FILES:
            catalog.problems.append(
                LessonProblem(
                    str(folder),
                    0,
                    f"more than {MAX_LESSON_FILES} lessons in the folder: the rest skipped",
                )
            )
            break
        files.append(path)
    return sorted(files)


def _load_file(file: Path, builtin: bool, catalog: Catalog) -> Lesson | None:
    """One lesson, or ``None`` with the reason in ``catalog.problems``.

    Whatever is wrong with a file costs that file only.
    """
    try:
        text = read_lesson_file(file)
        # Built-in lessons skip the syntax checks of their code: the test suite runs them.
        lesson = parse_lesson(text, str(file), builtin=builtin, check_code=not builtin)
    except LessonParseError as exc:
        problem = exc.problem
    except (OSError, UnicodeDecodeError) as exc:
        problem = LessonProblem(str(file), 0, f"cannot read: {exc}")
    except Exception as exc:  # the boundary: a bug here must not take the catalog down
        problem = LessonProblem(str(file), 0, f"cannot load: {type(exc).__name__}: {exc}")
    else:
        if not builtin:
            catalog.active_content.extend(_active_content(lesson, text))
        return lesson
    catalog.problems.append(problem)
    return None


def _active_content(lesson: Lesson, text: str) -> list[LessonProblem]:
    """Raw HTML and non-http(s) links in what an editor shows of a team lesson, by file line."""
    # A Markdown parser, loaded with the first team lesson: the built-in ones need none.
    from lessonlens.lessons.markup import active_content

    shown = [(lesson.title, lesson.line_of("title")), (lesson.summary, lesson.line_of("summary"))]
    if lesson.refresher is not None:
        question = "\n\n".join((lesson.refresher.question, *lesson.refresher.options))
        shown.append((question, lesson.line_of("refresher")))
    found = [(line, what) for markdown, line in shown for _, what in active_content(markdown)]
    raw_body = text.split("\n---\n", 1)[1]
    body_line = text[: len(text) - len(raw_body)].count("\n") + 1
    found += [(body_line + offset, what) for offset, what in active_content(raw_body)]
    return [LessonProblem(lesson.path, line, what) for line, what in found]


def _read_folder(folder: Path, builtin: bool, catalog: Catalog) -> None:
    if not folder.is_dir():
        catalog.problems.append(LessonProblem(str(folder), 0, "lesson folder not found"))
        return
    for file in _lesson_files(folder, catalog):
        lesson = _load_file(file, builtin, catalog)
        if lesson is None:
            continue
        previous = catalog.lessons.get(lesson.id)
        if previous is not None and previous.builtin == builtin:
            catalog.problems.append(
                LessonProblem(str(file), 2, f"duplicate lesson id '{lesson.id}' ({previous.path})")
            )
            continue
        catalog.lessons[lesson.id] = lesson


def builtin_folder() -> Path:
    return Path(str(resources.files("lessonlens.lessons").joinpath("builtin")))


# The built-in lessons are package data: read once per process (the language server loads the
# catalog at start, then again with the team folders on its lessons thread).
_BUILTIN: dict[Path, tuple[dict[str, Lesson], list[LessonProblem]]] = {}


def _builtin_lessons() -> tuple[dict[str, Lesson], list[LessonProblem]]:
    folder = builtin_folder()
    found = _BUILTIN.get(folder)
    if found is None:
        scratch = Catalog(skills={})
        _read_folder(folder, True, scratch)
        found = _BUILTIN[folder] = (scratch.lessons, scratch.problems)
    return found


def load_catalog(extra_dirs: Sequence[str | Path] = (), *, include_builtin: bool = True) -> Catalog:
    """Load built-in lessons, then team folders (a team lesson overrides a built-in one)."""
    catalog = Catalog(skills=load_skills())
    if include_builtin:
        lessons, problems = _builtin_lessons()
        catalog.lessons.update(lessons)
        catalog.problems.extend(problems)
    for folder in extra_dirs:
        _read_folder(Path(folder), False, catalog)
    return catalog


def cross_check(
    catalog: Catalog,
    rule_lessons: Mapping[str, str],
    detectors: Collection[str] = (),
    query_problem: Callable[[str, str], str | None] | None = None,
) -> list[LessonProblem]:
    """Check references: rules, skills, prerequisites (no cycles) and the gates of lessons.

    The gates are `applies-if` / `satisfied-if`. ``rule_lessons`` maps each rule id to the
    lesson id it links, ``detectors`` lists the evidence detectors' ids and ``query_problem``
    says what is wrong with a gate's query (plain data and a callable, so that this module
    needs nothing from the analyzers).
    """
    problems: list[LessonProblem] = []
    for lesson in catalog.lessons.values():
        for key, gates in (
            ("applies-if", lesson.applies_if),
            ("satisfied-if", lesson.satisfied_if),
        ):
            for gate in gates:
                wrong = None
                if gate.kind == "rule" and gate.value not in rule_lessons:
                    wrong = f"unknown rule '{gate.value}'"
                elif gate.kind == "evidence" and detectors and gate.value not in detectors:
                    wrong = f"unknown evidence detector '{gate.value}'"
                elif gate.kind == "query" and query_problem is not None:
                    found = query_problem(lesson.language, gate.value)
                    wrong = f"query {found}" if found else None
                if wrong is not None:
                    problems.append(
                        LessonProblem(lesson.path, lesson.line_of(key), f"{key}: {wrong}")
                    )
    explained = {rule for lesson in catalog.lessons.values() for rule in lesson.rules}
    for rule_id, lesson_id in sorted(rule_lessons.items()):
        if lesson_id not in catalog.lessons:
            problems.append(
                LessonProblem("rules", 0, f"rule {rule_id} links lesson '{lesson_id}', not found")
            )
        elif rule_id not in explained:
            problems.append(
                LessonProblem(
                    catalog.lessons[lesson_id].path,
                    catalog.lessons[lesson_id].line_of("rules"),
                    f"rule {rule_id} links this lesson, but its 'rules' do not name {rule_id}",
                    warning=True,
                )
            )
    for lesson in catalog.lessons.values():
        if lesson.skill_id not in catalog.skills:
            problems.append(
                LessonProblem(
                    lesson.path, lesson.line_of("skill"), f"unknown skill '{lesson.skill_id}'"
                )
            )
        for rule_id in lesson.rules:
            if rule_id not in rule_lessons:
                problems.append(
                    LessonProblem(lesson.path, lesson.line_of("rules"), f"unknown rule '{rule_id}'")
                )
        for prerequisite in lesson.prerequisites:
            if prerequisite not in catalog.lessons:
                problems.append(
                    LessonProblem(
                        lesson.path,
                        lesson.line_of("prerequisites"),
                        f"unknown prerequisite '{prerequisite}'",
                    )
                )
        if lesson.prose_words > MAX_PROSE_WORDS:
            problems.append(
                LessonProblem(
                    lesson.path,
                    1,
                    f"{lesson.prose_words} words of prose; aim for a 90-second read "
                    f"(at most {MAX_PROSE_WORDS})",
                    warning=True,
                )
            )
    problems.extend(_prerequisite_cycles(catalog.lessons))
    return problems


def _prerequisite_cycles(lessons: Mapping[str, Lesson]) -> Iterable[LessonProblem]:
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done
    found: list[LessonProblem] = []

    def visit(lesson_id: str, path: list[str]) -> None:
        state[lesson_id] = 1
        for nxt in lessons[lesson_id].prerequisites:
            if nxt not in lessons:
                continue
            if state.get(nxt) == 1:
                cycle = [*path[path.index(nxt) :], nxt] if nxt in path else [lesson_id, nxt]
                found.append(
                    LessonProblem(
                        lessons[lesson_id].path,
                        lessons[lesson_id].line_of("prerequisites"),
                        "prerequisite cycle: " + " -> ".join(cycle),
                    )
                )
            elif nxt not in state:
                visit(nxt, [*path, nxt])
        state[lesson_id] = 2

    for lesson_id in sorted(lessons):
        if lesson_id not in state:
            visit(lesson_id, [lesson_id])
    return found
