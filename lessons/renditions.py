"""A lesson in each of its forms, as Markdown: nudge, worked example, practice and deep dive.

The forms (``lesson.FORMS``) are what the editor's hover and lesson view, and the terminal, show;
which one comes first is the learner's (``server/learner/forms.py``). Every form labels its code:
the example's blocks are **Before** and **After** (and **Given**, the shared setup), never three
unlabelled blocks.
"""

from __future__ import annotations

from lessonlens.lessons.lesson import FORMS, Lesson, fences

FORM_TITLES = {
    "nudge": "Nudge",
    "worked-example": "Worked example",
    "practice": "Practice challenge",
    "deep-dive": "Deep dive",
}


def _code(lesson: Lesson, code: str) -> str:
    fence = "````" if "```" in code else "```"
    return f"{fence}{lesson.language}\n{code.rstrip()}\n{fence}"


def _without_code(text: str) -> str:
    """``text`` with its fenced blocks removed (the example's are shown labelled instead)."""
    kept, start = [], 0
    for fence in fences(text):
        kept.append(text[start : fence.start])
        start = fence.end
    kept.append(text[start:])
    return "\n".join(part.strip() for part in kept if part.strip())


def example_markdown(lesson: Lesson) -> str:
    """The example labelled: Given (the setup), Before, the step that matters, After."""
    parts = []
    prose = _without_code(lesson.sections.get("Before and after", ""))
    if prose:
        parts.append(prose)
    if lesson.example.setup.strip():
        parts.append(f"**Given**\n\n{_code(lesson, lesson.example.setup)}")
    parts.append(f"**Before**\n\n{_code(lesson, lesson.example.before)}")
    if lesson.key_step:
        parts.append(f"**The step that matters:** {lesson.key_step}")
    parts.append(f"**After**\n\n{_code(lesson, lesson.example.after)}")
    return "\n\n".join(parts)


def _nudge(lesson: Lesson) -> str:
    line = lesson.nudge or lesson.summary
    return f"**{lesson.title}**: {line}"


def _worked_example(lesson: Lesson) -> str:
    return (
        f"# {lesson.title}\n\n> {lesson.summary}\n\n## Why it matters\n\n"
        f"{lesson.sections.get('Why it matters', '')}\n\n## Before and after\n\n"
        f"{example_markdown(lesson)}\n\n## Try it at work\n\n"
        f"{lesson.sections.get('Try it at work', '')}"
    )


def _practice(lesson: Lesson) -> str:
    practice = lesson.practice
    if practice is None:
        return _worked_example(lesson)
    return (
        f"# Practice: {lesson.title}\n\n{practice.task}\n\n**Starting code**\n\n"
        f"{_code(lesson, practice.starter)}\n\n"
        f"Run `lessonlens practice {lesson.id}` to write it to a folder with its checks, then "
        "`lessonlens practice --check` when you think it is done (the checks run your code)."
    )


def _deep_dive(lesson: Lesson) -> str:
    links = "\n".join(f"- [{link.title}]({link.url})" for link in lesson.links)
    deep = lesson.deep_dive
    return (
        f"# {lesson.title}: the deep dive\n\n> {lesson.summary}\n\n## Why it matters\n\n"
        f"{lesson.sections.get('Why it matters', '')}\n\n"
        + (f"## Going further\n\n{deep}\n\n" if deep else "")
        + f"## Before and after\n\n{example_markdown(lesson)}\n\n## Learn more\n\n"
        f"{lesson.sections.get('Learn more', links)}"
    )


_RENDER = {
    "nudge": _nudge,
    "worked-example": _worked_example,
    "practice": _practice,
    "deep-dive": _deep_dive,
}


def render(lesson: Lesson, form: str) -> str:
    """``lesson`` in ``form`` (one of ``FORMS``), as Markdown."""
    if form not in _RENDER:
        raise ValueError(f"unknown form {form!r} (one of {', '.join(FORMS)})")
    return _RENDER[form](lesson)


def other_forms(lesson: Lesson, form: str) -> tuple[str, ...]:
    """The forms besides ``form`` that this lesson has, in the usual order."""
    return tuple(f for f in FORMS if f != form and f not in lesson.missing_forms())
