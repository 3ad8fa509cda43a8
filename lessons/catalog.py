"""Load, validate and cross-check the lesson catalog and the skill taxonomy.

Lessons are Markdown files with YAML front matter (see ``lessons/FORMAT.md``). A broken lesson
never takes the catalog down: it is reported with its file and line and left out, and the rest
load. Team lesson folders are read after the built-in ones, and a team lesson replaces the
built-in lesson with the same id.
"""

from __future__ import annotations

import os
import re
import stat
import textwrap
import tomllib
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, NamedTuple

import yaml

from lessonlens.lessons.languages import (
    DEFAULT_LANGUAGE,
    LessonLanguage,
    lesson_language,
    lesson_languages,
)

LEVELS = ("beginner", "intermediate", "advanced")
MODALITIES = ("hint", "worked-example", "practice-challenge", "deep-dive")
CLAIMS = ("faster", "less-memory")
PRIORITIES = ("high", "medium", "low", "none")
BKT_PARAMETERS = ("prior", "learn", "guess", "slip")
SECTIONS = ("Why it matters", "Before and after", "Try it at work", "Learn more")
# About a 90-second read at ~230 words a minute, code blocks not counted.
MAX_PROSE_WORDS = 400

# Lesson folders come from the repository's config: what is read from them is bounded. A lesson
# is a 90-second read of a few kilobytes; the cap leaves room for long examples.
MAX_LESSON_BYTES = 256 * 1024
# A lesson folder holds at most this many lessons; past it the folder is cut short with a problem
# (a repository's folder of a million files must not stall the editor's start).
MAX_LESSON_FILES = 2000
# The deepest a lesson's front matter needs is 3 (a list of mappings holding a list).
MAX_NESTING = 8

_ID = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
# Both match at most once per line start and never backtrack over a line (a lazy title followed
# by `\s*$`, or a fence scanned to the end of the text for each opener, took seconds per file).
_HEADING = re.compile(r"^## +(?P<title>[^\n]*)$", re.MULTILINE)
_FENCE_LINE = re.compile(r"^```(?P<info>[^\n`]*)$", re.MULTILINE)
_REQUIRED = ("id", "title", "skill", "level", "modality", "summary", "rules", "links")
_OPTIONAL = (
    "claims",
    "requires",
    "prerequisites",
    "refresher",
    "situations",
    "applies-if",
    "satisfied-if",
    "language",
)
# What a gate of `applies-if` / `satisfied-if` can name: a rule's finding, a skill-evidence
# detector's match, or a tree-sitter query (in the lesson's language) matching in the unit.
GATE_KINDS = ("rule", "evidence", "query")
# Where a query's match must lie in the unit: in the body of a loop (a for or while statement,
# or the element or condition of a comprehension), or in the body of an `async def`.
GATE_WITHIN = ("loop", "async-function")
MAX_GATES = 12
MAX_QUERY_CHARS = 2000
# A situation is a short snippet, not a second example.
MAX_SITUATIONS = 12
MAX_SITUATION_LINES = 6
_REFRESHER_KEYS = ("question", "options", "answer")


class _Fence(NamedTuple):
    start: int
    end: int
    info: str
    code: str


def _fences(text: str) -> list[_Fence]:
    """The ```` ``` ```` code blocks of a text, in one pass over its fence lines.

    A block opens at a line of three backticks and an info string (no backtick in it) and
    closes at the next line of three backticks and nothing else.
    """
    found: list[_Fence] = []
    opener: re.Match[str] | None = None
    for line in _FENCE_LINE.finditer(text):
        if opener is None:
            opener = line
        elif not line["info"].strip(" \t"):
            code = text[opener.end() + 1 : line.start()]
            found.append(_Fence(opener.start(), line.end(), opener["info"], code))
            opener = None
    return found


@dataclass(frozen=True)
class Skill:
    id: str
    name: str
    description: str
    parent: str | None
    priority: str
    # Knowledge-tracing parameters that differ from the learner model's defaults, by name
    # ("prior", "learn", "guess", "slip"); empty means the defaults. Left out of the hash so that a
    # Skill stays hashable although a dict is not.
    bkt: Mapping[str, float] = field(default_factory=dict, hash=False)


@dataclass(frozen=True)
class Link:
    title: str
    url: str


@dataclass(frozen=True)
class Example:
    """The runnable before/after pair; both assign ``result`` and must agree."""

    setup: str
    before: str
    after: str


@dataclass(frozen=True)
class Gate:
    """One ingredient of a unit: a rule that fires in it, a detector, or a query that matches."""

    kind: str  # one of GATE_KINDS
    value: str  # the rule or detector id, or the query's text
    within: str = ""  # a query's: one of GATE_WITHIN, or anywhere in the unit

    @property
    def token(self) -> str:
        where = f" within:{self.within}" if self.within else ""
        return f"{self.kind}:{self.value}{where}"


@dataclass(frozen=True)
class RefresherQuestion:
    """The lesson's one-question check, asked when its spaced-repetition card falls due.

    ``answer`` is a 0-based index into ``options``.
    """

    question: str
    options: tuple[str, ...]
    answer: int


@dataclass(frozen=True)
class Lesson:
    id: str
    title: str
    skill_id: str
    level: str
    modality: str
    summary: str
    rules: tuple[str, ...]
    links: tuple[Link, ...]
    claims: tuple[str, ...]
    requires: tuple[str, ...]
    prerequisites: tuple[str, ...]
    body: str
    sections: Mapping[str, str]
    example: Example
    path: str
    builtin: bool = True
    # File line of each front-matter key, for errors found after parsing (cross-references).
    key_lines: Mapping[str, int] = field(default_factory=dict)
    refresher: RefresherQuestion | None = None
    # Short code snippets of places where the lesson applies, read by the model (not shown).
    situations: tuple[str, ...] = ()
    # The model relates a unit to this lesson only if the unit holds one of `applies_if` (when
    # any are given), and never if it holds one of `satisfied_if`: it already does what the
    # lesson teaches (a breadth-first walk that already uses a deque).
    applies_if: tuple[Gate, ...] = ()
    satisfied_if: tuple[Gate, ...] = ()
    # The programming language of its examples, situations and gates (``LanguageSpec.id``).
    language: str = DEFAULT_LANGUAGE

    def line_of(self, key: str) -> int:
        return self.key_lines.get(key, 2)

    @property
    def url(self) -> str:
        """Where to read more: the lesson's first official-documentation link."""
        return self.links[0].url

    @property
    def prose_words(self) -> int:
        prose, start = [], 0
        for fence in _fences(self.body):
            prose.append(self.body[start : fence.start])
            start = fence.end
        prose.append(self.body[start:])
        return len("".join(prose).split())


@dataclass(frozen=True)
class LessonProblem:
    path: str
    line: int
    message: str
    warning: bool = False

    def __str__(self) -> str:
        kind = "warning" if self.warning else "error"
        return f"{self.path}:{self.line}: {kind}: {self.message}"


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


class _Invalid(Exception):
    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


def load_skills(text: str | None = None, path: str = "skills.toml") -> dict[str, Skill]:
    """Parse the skill taxonomy; raises ``ValueError`` naming the file and skill on bad data."""
    if text is None:
        text = resources.files("lessonlens.lessons").joinpath("skills.toml").read_text("utf-8")
        # Each registered language's own skills (a plugin's ``LessonLanguage.skills``).
        text = "\n".join([text, *(language.skills for language in lesson_languages())])
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"{path}: {exc}") from exc
    skills: dict[str, Skill] = {}
    for skill_id, entry in data.get("skill", {}).items():
        where = f"{path}: skill {skill_id!r}"
        if not _ID.match(skill_id.replace(".", "-")):
            raise ValueError(f"{where}: ids are lowercase words joined by '.' and '-'")
        if not isinstance(entry.get("name"), str) or not isinstance(entry.get("description"), str):
            raise ValueError(f"{where}: needs a 'name' and a 'description'")
        priority = entry.get("priority", "medium")
        if priority not in PRIORITIES:
            raise ValueError(f"{where}: priority must be one of {', '.join(PRIORITIES)}")
        skills[skill_id] = Skill(
            skill_id,
            entry["name"],
            entry["description"],
            entry.get("parent"),
            priority,
            _bkt_params(entry, where),
        )
    for skill in skills.values():
        if skill.parent is not None and skill.parent not in skills:
            raise ValueError(f"{path}: skill {skill.id!r}: unknown parent {skill.parent!r}")
    return skills


def _bkt_params(entry: Mapping[str, Any], where: str) -> dict[str, float]:
    """The ``bkt-*`` keys of one skill, checked so that the learner model cannot degenerate.

    Each is a probability strictly between 0 and 1 (0 or 1 would make one observation decide
    mastery for ever), and guess + slip < 1: otherwise a correct answer would be likelier from
    someone who does not know the skill than from someone who does, and evidence would count
    backwards. The sum is checked here only when both are given; the learner checks it again
    against its defaults.
    """
    params: dict[str, float] = {}
    for key, value in entry.items():
        if not key.startswith("bkt-"):
            continue
        name = key.removeprefix("bkt-")
        if name not in BKT_PARAMETERS:
            known = ", ".join(f"bkt-{p}" for p in BKT_PARAMETERS)
            raise ValueError(f"{where}: unknown key {key!r} (use {known})")
        # bool is an int; "bkt-learn = true" is a mistake, not 1.0.
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value < 1:
            raise ValueError(f"{where}: {key} must be a number strictly between 0 and 1")
        params[name] = float(value)
    if params.get("guess", 0.0) + params.get("slip", 0.0) >= 1:
        raise ValueError(f"{where}: bkt-guess + bkt-slip must be below 1")
    return params


def _split_front_matter(text: str) -> tuple[str, str, int]:
    """Return (front matter, body, line number of the body's first line)."""
    if not text.startswith("---\n"):
        raise _Invalid(1, "a lesson starts with '---' and YAML front matter")
    end = text.find("\n---\n", 3)
    if end == -1:
        raise _Invalid(1, "front matter is not closed by a '---' line")
    front = text[4 : end + 1]
    body = text[end + 5 :]
    return front, body, front.count("\n") + 3


def _yaml_loader(builtin: bool) -> Any:
    """The YAML loader for a lesson file: libyaml's for the built-in ones, where PyYAML has it.

    The built-in lessons are read on the language server's start-up path, and libyaml reads
    them in a sixth of the time. Team files keep PyYAML's own loader, whose error messages and
    lines the tests pin; from valid YAML both build the same data (``tests/test_lessons.py``).
    """
    return getattr(yaml, "CSafeLoader", yaml.SafeLoader) if builtin else yaml.SafeLoader


def _check_nesting(front: str, loader: Any = yaml.SafeLoader) -> None:
    """Refuse front matter nested deeper than ``MAX_NESTING`` before it is built.

    PyYAML's parser is a state machine, but building the data recurses once per level: a few
    kilobytes of ``[[[[...`` exhaust the stack. The events come from the parser, so this walk
    is linear and never recurses.
    """
    depth = 0
    for event in yaml.parse(front, Loader=loader):
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_NESTING:
                line = event.start_mark.line + 2 if event.start_mark else 2
                raise _Invalid(line, f"front matter is nested deeper than {MAX_NESTING} levels")
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1


def _front_matter_lines(front: str, loader: Any = yaml.SafeLoader) -> dict[str, int]:
    """File line of each top-level key, so that errors can point at it."""
    lines: dict[str, int] = {}
    node = yaml.compose(front, Loader=loader)
    if isinstance(node, yaml.MappingNode):
        for key, _value in node.value:
            lines[str(key.value)] = key.start_mark.line + 2
    return lines


def _string_list(data: Mapping[str, Any], key: str, line: int) -> tuple[str, ...]:
    value = data.get(key, [])
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _Invalid(line, f"'{key}' must be a list of strings")
    return tuple(value)


def _situations(data: Mapping[str, Any], line: int, language: LessonLanguage) -> tuple[str, ...]:
    """Validate ``situations``: a few short snippets of the lesson's language that parse alone.

    The model compares code with them as it is, so a snippet that does not parse (a paste
    with a stray indent, a half statement) would teach it nothing and is refused.
    """
    snippets = _string_list(data, "situations", line)
    if len(snippets) > MAX_SITUATIONS:
        raise _Invalid(line, f"'situations' lists at most {MAX_SITUATIONS} snippets")
    out = []
    for number, snippet in enumerate(snippets, start=1):
        code = textwrap.dedent(snippet).strip()
        if not code or len(code.splitlines()) > MAX_SITUATION_LINES:
            raise _Invalid(
                line, f"situation {number} must be 1 to {MAX_SITUATION_LINES} lines of code"
            )
        error = (language.parse_error or language.compile_error)(code)
        if error is not None:
            where, message = error
            raise _Invalid(
                line,
                f"situation {number} is not valid {language.id.capitalize()}: {message} "
                f"(its line {where})",
            )
        out.append(code)
    return tuple(out)


def _gates(data: Mapping[str, Any], key: str, line: int) -> tuple[Gate, ...]:
    """Validate a gate list: each item one of `rule: ID`, `evidence: ID` or `query: TEXT`.

    Whether the ids exist and the queries compile is checked against the analyzers by
    ``cross_check`` (this module needs nothing from them).
    """
    value = data.get(key)
    if value is None:
        return ()
    if not isinstance(value, list) or not value:
        raise _Invalid(line, f"'{key}' must be a list of gates (rule:, evidence: or query:)")
    if len(value) > MAX_GATES:
        raise _Invalid(line, f"'{key}' lists at most {MAX_GATES} gates")
    gates = []
    for number, item in enumerate(value, start=1):
        kinds = [k for k in item if k in GATE_KINDS] if isinstance(item, dict) else []
        if not isinstance(item, dict) or len(kinds) != 1:
            raise _Invalid(line, f"{key} gate {number} must be one of rule:, evidence: or query:")
        kind = kinds[0]
        unknown = sorted(set(item) - {kind, "within"})
        if unknown:
            raise _Invalid(line, f"{key} gate {number}: unknown key '{unknown[0]}'")
        text, within = item[kind], item.get("within", "")
        if not isinstance(text, str) or not text.strip() or len(text) > MAX_QUERY_CHARS:
            raise _Invalid(
                line,
                f"{key} gate {number}: '{kind}' needs a non-empty string (at most "
                f"{MAX_QUERY_CHARS} characters)",
            )
        if within and (kind != "query" or within not in GATE_WITHIN):
            raise _Invalid(
                line,
                f"{key} gate {number}: 'within' goes with a query and is one of "
                f"{', '.join(GATE_WITHIN)}",
            )
        gates.append(Gate(kind, text.strip(), within))
    return tuple(gates)


def _refresher(value: object, line: int) -> RefresherQuestion | None:
    """Validate the optional ``refresher`` block; ``refresher: null`` (a team opting out) is none.

    Every error points at the ``refresher:`` line: the block is a few lines long, and YAML nodes
    below the top level carry no line numbers in the parsed data.
    """
    if value is None:
        return None
    if not isinstance(value, dict):
        raise _Invalid(line, "'refresher' must map 'question', 'options' and 'answer'")
    for key in value:
        if key not in _REFRESHER_KEYS:
            raise _Invalid(
                line, f"unknown key '{key}' in 'refresher' (use {', '.join(_REFRESHER_KEYS)})"
            )
    question = value.get("question")
    if not isinstance(question, str) or not question.strip():
        raise _Invalid(line, "the refresher's 'question' must be a non-empty string")
    options = value.get("options")
    # YAML reads unquoted `yes`, `1` or `null` as non-strings: insist on strings so that what the
    # editor shows is exactly what the author wrote.
    if (
        not isinstance(options, list)
        or not 2 <= len(options) <= 4
        or not all(isinstance(option, str) and option.strip() for option in options)
    ):
        raise _Invalid(line, "the refresher's 'options' must list 2 to 4 non-empty strings")
    choices = tuple(option.strip() for option in options)
    if len(set(choices)) != len(choices):
        raise _Invalid(line, "the refresher's 'options' must all differ")
    answer = value.get("answer")
    # bool is an int subclass: `answer: true` must not silently mean option 1.
    if isinstance(answer, bool) or not isinstance(answer, int) or not 0 <= answer < len(choices):
        raise _Invalid(
            line,
            "the refresher's 'answer' must be the 0-based index of the right option "
            f"(0 to {len(choices) - 1})",
        )
    return RefresherQuestion(question.strip(), choices, answer)


def _parse_body(
    body: str, first_line: int, language: LessonLanguage
) -> tuple[dict[str, str], Example]:
    headings = list(_HEADING.finditer(body))
    titles = [h["title"].strip() for h in headings]
    if titles != list(SECTIONS):
        missing = [s for s in SECTIONS if s not in titles]
        detail = f"missing {missing}" if missing else f"found {titles}"
        # Point at the first heading that is not the expected one (or the end of the body).
        wrong = next(
            (h for h, t, want in zip(headings, titles, SECTIONS, strict=False) if t != want), None
        )
        offset = wrong.start() if wrong is not None else len(body.rstrip())
        line = first_line + body[:offset].count("\n")
        raise _Invalid(line, f"body sections must be {list(SECTIONS)} in order; {detail}")
    sections: dict[str, str] = {}
    for index, (heading, title) in enumerate(zip(headings, titles, strict=True)):
        end = headings[index + 1].start() if index + 1 < len(headings) else len(body)
        sections[title] = body[heading.end() : end].strip()
    example_start = headings[1].end()
    blocks: dict[str, str] = {}
    fence_word = language.fence
    for fence in _fences(sections["Before and after"]):
        words = fence.info.split()
        if len(words) >= 2 and words[0] == fence_word and words[1] in ("setup", "before", "after"):
            if words[1] in blocks:
                line = first_line + body[:example_start].count("\n")
                raise _Invalid(line, f"more than one '{fence_word} {words[1]}' block")
            blocks[words[1]] = fence.code
    for role in ("before", "after"):
        if role not in blocks:
            line = first_line + body[:example_start].count("\n")
            raise _Invalid(line, f"'Before and after' needs a ```{fence_word} {role} block")
    for role, code in blocks.items():
        error = language.compile_error(code)
        if error is not None:
            where, message = error
            offset = body.find(code)
            line = first_line + body[:offset].count("\n") + where - 1
            raise _Invalid(line, f"the {role} example does not compile: {message}")
    return sections, Example(blocks.get("setup", ""), blocks["before"], blocks["after"])


def parse_lesson(text: str, path: str, *, builtin: bool = True) -> Lesson:
    """Parse and validate one lesson file; raises ``LessonParseError`` naming file and line."""
    try:
        return _parse_lesson(text, path, builtin)
    except _Invalid as exc:
        raise LessonParseError(LessonProblem(path, exc.line, exc.message)) from None
    except RecursionError:
        # Nesting is bounded before building; this is the net under whatever else recurses.
        raise LessonParseError(LessonProblem(path, 1, "too deeply nested to read")) from None


class LessonParseError(Exception):
    def __init__(self, problem: LessonProblem) -> None:
        super().__init__(str(problem))
        self.problem = problem


def _parse_lesson(text: str, path: str, builtin: bool) -> Lesson:
    front, body, body_line = _split_front_matter(text)
    try:
        loader = _yaml_loader(builtin)
        _check_nesting(front, loader)
        data = yaml.load(front, Loader=loader)  # a safe loader, either way
        key_lines = _front_matter_lines(front, loader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 2 if mark is not None else 1
        problem = getattr(exc, "problem", None) or str(exc)
        raise _Invalid(line, f"front matter is not valid YAML: {problem}") from None
    if not isinstance(data, dict):
        raise _Invalid(2, "front matter must be a mapping of keys to values")

    def line_of(key: str) -> int:
        return key_lines.get(key, 2)

    for key in data:
        if key not in _REQUIRED and key not in _OPTIONAL:
            raise _Invalid(line_of(str(key)), f"unknown key '{key}'")
    for key in _REQUIRED:
        if key not in data:
            raise _Invalid(2, f"missing required key '{key}'")
    for key in ("id", "title", "skill", "level", "modality", "summary"):
        if not isinstance(data[key], str) or not data[key].strip():
            raise _Invalid(line_of(key), f"'{key}' must be a non-empty string")
    lesson_id = data["id"]
    if not _ID.match(lesson_id):
        raise _Invalid(line_of("id"), "'id' is lowercase letters, digits and dashes")
    if Path(path).stem != lesson_id:
        raise _Invalid(line_of("id"), f"the file of lesson '{lesson_id}' must be {lesson_id}.md")
    if data["level"] not in LEVELS:
        raise _Invalid(line_of("level"), f"'level' must be one of {', '.join(LEVELS)}")
    if data["modality"] not in MODALITIES:
        raise _Invalid(line_of("modality"), f"'modality' must be one of {', '.join(MODALITIES)}")
    if "\n" in data["summary"].strip() or len(data["summary"]) > 200:
        raise _Invalid(line_of("summary"), "'summary' is one line of at most 200 characters")
    links = data["links"]
    if not isinstance(links, list) or not links:
        raise _Invalid(line_of("links"), "'links' must list at least one documentation link")
    parsed_links = []
    for link in links:
        if (
            not isinstance(link, dict)
            or not isinstance(link.get("title"), str)
            or not isinstance(link.get("url"), str)
            or not link["url"].startswith(("https://", "http://"))
        ):
            raise _Invalid(line_of("links"), "each link needs a 'title' and an http(s) 'url'")
        parsed_links.append(Link(link["title"], link["url"]))
    claims = _string_list(data, "claims", line_of("claims"))
    for claim in claims:
        if claim not in CLAIMS:
            raise _Invalid(line_of("claims"), f"unknown claim '{claim}' (use {', '.join(CLAIMS)})")
    language = _language(data, line_of("language"))
    sections, example = _parse_body(body, body_line, language)
    return Lesson(
        id=lesson_id,
        title=data["title"].strip(),
        skill_id=data["skill"],
        level=data["level"],
        modality=data["modality"],
        summary=data["summary"].strip(),
        rules=_string_list(data, "rules", line_of("rules")),
        links=tuple(parsed_links),
        claims=claims,
        requires=_string_list(data, "requires", line_of("requires")),
        prerequisites=_string_list(data, "prerequisites", line_of("prerequisites")),
        body=body.strip(),
        sections=sections,
        example=example,
        path=path,
        builtin=builtin,
        key_lines=key_lines,
        refresher=_refresher(data.get("refresher"), line_of("refresher")),
        situations=_situations(data, line_of("situations"), language),
        applies_if=_gates(data, "applies-if", line_of("applies-if")),
        satisfied_if=_gates(data, "satisfied-if", line_of("satisfied-if")),
        language=language.id,
    )


def _language(data: Mapping[str, Any], line: int) -> LessonLanguage:
    """The lesson's ``language``: a registered one (``lessons/languages.py``), Python by default."""
    name = data.get("language", DEFAULT_LANGUAGE)
    found = lesson_language(name) if isinstance(name, str) else None
    if found is None:
        known = ", ".join(sorted(language.id for language in lesson_languages()))
        raise _Invalid(line, f"'language' must be one of {known}")
    return found


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


def _read_lesson(file: Path) -> str:
    """The text of a lesson file: a regular file of at most ``MAX_LESSON_BYTES``, in UTF-8.

    A named pipe would block ``open`` until a writer comes and a device (a link to /dev/zero)
    never ends: so ``stat`` first (opening some devices acts), open without blocking, check the
    opened file again (it may have been swapped) and never read past the cap.
    """
    if not stat.S_ISREG(os.stat(file).st_mode):
        raise _Invalid(0, "not a regular file (a named pipe, a device or a folder): not read")
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    with os.fdopen(os.open(file, flags), "rb") as handle:
        if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
            raise _Invalid(0, "not a regular file (a named pipe, a device or a folder): not read")
        data = handle.read(MAX_LESSON_BYTES + 1)
    if len(data) > MAX_LESSON_BYTES:
        raise _Invalid(
            0, f"larger than {MAX_LESSON_BYTES // 1024} KiB (a lesson is a 90-second read)"
        )
    return data.decode("utf-8")


def _load_file(file: Path, builtin: bool, catalog: Catalog) -> Lesson | None:
    """One lesson, or ``None`` with the reason in ``catalog.problems``.

    Whatever is wrong with a file costs that file only.
    """
    try:
        text = _read_lesson(file)
        lesson = parse_lesson(text, str(file), builtin=builtin)
    except LessonParseError as exc:
        problem = exc.problem
    except _Invalid as exc:
        problem = LessonProblem(str(file), exc.line, exc.message)
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


def load_catalog(extra_dirs: Sequence[str | Path] = (), *, include_builtin: bool = True) -> Catalog:
    """Load built-in lessons, then team folders (a team lesson overrides a built-in one)."""
    catalog = Catalog(skills=load_skills())
    if include_builtin:
        _read_folder(builtin_folder(), True, catalog)
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
