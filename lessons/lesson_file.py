"""Read and validate one lesson file: its front matter, its four sections, its gates.

Errors name the file and line. Team lesson files are untrusted input, so what is read is
bounded: only regular files, at most ``MAX_LESSON_BYTES``, front matter nested at most
``MAX_NESTING`` deep, and every regular expression is linear in the text.
"""

from __future__ import annotations

import os
import re
import stat
import textwrap
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import yaml

from lessonlens.lessons.languages import (
    DEFAULT_LANGUAGE,
    LessonLanguage,
    lesson_language,
    lesson_languages,
)
from lessonlens.lessons.lesson import (
    CLAIMS,
    GATE_KINDS,
    GATE_WITHIN,
    ID_PATTERN,
    LEVELS,
    MODALITIES,
    SECTION_ORDER,
    SECTIONS,
    Example,
    Gate,
    Lesson,
    LessonProblem,
    Link,
    Practice,
    RefresherQuestion,
    fences,
    words,
)

# Lesson folders come from the repository's config: what is read from them is bounded. A lesson
# is a 90-second read of a few kilobytes; the cap leaves room for long examples.
MAX_LESSON_BYTES = 256 * 1024
# The deepest a lesson's front matter needs is 3 (a list of mappings holding a list).
MAX_NESTING = 8
# Matches at most once per line start and never backtracks over a line (a lazy title followed
# by `\s*$` took seconds per file).
_HEADING = re.compile(r"^## +(?P<title>[^\n]*)$", re.MULTILINE)
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
    "nudge",
    "key-step",
)
# The one-line nudge is a hint's length; the step that matters, a sentence or two.
MAX_NUDGE_CHARS = 140
MAX_KEY_STEP_CHARS = 320
# A deep dive is the longer why: a few minutes' read, not a chapter.
MAX_DEEP_DIVE_WORDS = 450
_PRACTICE_ROLES = ("starter", "solution", "check")
MAX_GATES = 12
MAX_QUERY_CHARS = 2000
# A situation is a short snippet, not a second example.
MAX_SITUATIONS = 12
MAX_SITUATION_LINES = 6
_REFRESHER_KEYS = ("question", "options", "answer")


class _Invalid(Exception):
    """What is wrong with a lesson, at a file line: a ``LessonProblem`` once the file is known."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


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
    # The four sections in order, and the optional ones ("Practice", "Deep dive") in their place.
    expected = [t for t in SECTION_ORDER if t in SECTIONS or t in titles]
    if titles != expected:
        missing = [s for s in SECTIONS if s not in titles]
        detail = f"missing {missing}" if missing else f"found {titles}"
        # Point at the first heading that is not the expected one (or the end of the body).
        wrong = next(
            (h for h, t, want in zip(headings, titles, expected, strict=False) if t != want), None
        )
        offset = wrong.start() if wrong is not None else len(body.rstrip())
        line = first_line + body[:offset].count("\n")
        raise _Invalid(
            line,
            f"body sections must be {list(SECTIONS)} in order (with 'Practice' and 'Deep dive', "
            f"when there, before 'Learn more'); {detail}",
        )
    sections: dict[str, str] = {}
    for index, (heading, title) in enumerate(zip(headings, titles, strict=True)):
        end = headings[index + 1].start() if index + 1 < len(headings) else len(body)
        sections[title] = body[heading.end() : end].strip()
    example_start = headings[titles.index("Before and after")].end()
    blocks: dict[str, str] = {}
    fence_word = language.fence
    for fence in fences(sections["Before and after"]):
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


def _practice(
    sections: Mapping[str, str], body: str, first_line: int, language: LessonLanguage
) -> Practice | None:
    """The "Practice" section: the task (its prose), and ```<fence> starter / solution / check.

    Each block must compile; that the check passes against the solution and fails against the
    starter is run by the tests (``tests/test_renditions.py``).
    """
    text = sections.get("Practice")
    if text is None:
        return None
    line = first_line + body[: body.find("## Practice")].count("\n")
    blocks: dict[str, str] = {}
    task: list[str] = []
    start = 0
    for fence in fences(text):
        task.append(text[start : fence.start])
        start = fence.end
        parts = fence.info.split()
        if len(parts) >= 2 and parts[0] == language.fence and parts[1] in _PRACTICE_ROLES:
            if parts[1] in blocks:
                raise _Invalid(line, f"more than one '{language.fence} {parts[1]}' block")
            blocks[parts[1]] = fence.code
    task.append(text[start:])
    for role in _PRACTICE_ROLES:
        if role not in blocks:
            raise _Invalid(line, f"'Practice' needs a ```{language.fence} {role} block")
        error = language.compile_error(blocks[role])
        if error is not None:
            raise _Invalid(line, f"the practice {role} does not compile: {error[1]}")
    prose = "".join(task).strip()
    if not prose:
        raise _Invalid(line, "'Practice' starts with the task, in a sentence or two")
    return Practice(prose, blocks["starter"], blocks["solution"], blocks["check"])


def _one_line(data: Mapping[str, Any], key: str, limit: int, line: int) -> str:
    value = data.get(key, "")
    if value is None:
        return ""
    if not isinstance(value, str) or "\n" in value.strip() or len(value) > limit:
        raise _Invalid(line, f"'{key}' is one line of at most {limit} characters")
    return value.strip()


def parse_lesson(text: str, path: str, *, builtin: bool = True, check_code: bool = True) -> Lesson:
    """Parse and validate one lesson file; raises ``LessonParseError`` naming file and line.

    ``check_code`` False skips the syntax checks of the examples, situations and practice
    blocks: the built-in lessons, checked by the test suite, are read on the editor's start-up
    path, where those checks (a parse per block) cost more than the rest of the reading.
    """
    try:
        return _parse_lesson(text, path, builtin, check_code)
    except _Invalid as exc:
        raise LessonParseError(LessonProblem(path, exc.line, exc.message)) from None
    except RecursionError:
        # Nesting is bounded before building; this is the net under whatever else recurses.
        raise LessonParseError(LessonProblem(path, 1, "too deeply nested to read")) from None


class LessonParseError(Exception):
    def __init__(self, problem: LessonProblem) -> None:
        super().__init__(str(problem))
        self.problem = problem


def _no_error(code: str) -> tuple[int, str] | None:
    return None


def _parse_lesson(text: str, path: str, builtin: bool, check_code: bool = True) -> Lesson:
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
    if not ID_PATTERN.match(lesson_id):
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
    if not check_code:
        language = replace(language, compile_error=_no_error, parse_error=None)
    sections, example = _parse_body(body, body_line, language)
    practice = _practice(sections, body, body_line, language)
    if words(sections.get("Deep dive", "")) > MAX_DEEP_DIVE_WORDS:
        line = body_line + body[: body.find("## Deep dive")].count("\n")
        raise _Invalid(line, f"'Deep dive' is at most {MAX_DEEP_DIVE_WORDS} words of prose")
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
        nudge=_one_line(data, "nudge", MAX_NUDGE_CHARS, line_of("nudge")),
        key_step=_one_line(data, "key-step", MAX_KEY_STEP_CHARS, line_of("key-step")),
        practice=practice,
    )


def _language(data: Mapping[str, Any], line: int) -> LessonLanguage:
    """The lesson's ``language``: a registered one (``lessons/languages.py``), Python by default."""
    name = data.get("language", DEFAULT_LANGUAGE)
    found = lesson_language(name) if isinstance(name, str) else None
    if found is None:
        known = ", ".join(sorted(language.id for language in lesson_languages()))
        raise _Invalid(line, f"'language' must be one of {known}")
    return found


def read_lesson_file(file: Path) -> str:
    """The text of a lesson file; raises ``LessonParseError`` naming the file if it is not read.

    ``OSError`` and ``UnicodeDecodeError`` say that it could not be.
    """
    try:
        return _read_bounded(file)
    except _Invalid as exc:
        raise LessonParseError(LessonProblem(str(file), exc.line, exc.message)) from None


def _read_bounded(file: Path) -> str:
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
