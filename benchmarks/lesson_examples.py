"""Times every lesson's before/after examples on their own input, and checks "faster" claims.

For each lesson, runs `setup` once, then times `before` and `after` (each in a fresh copy of the
setup namespace), best of N, and prints the ratio before/after twice: with the example's code as
the body of a function (as real code mostly runs: names are fast locals, and CPython's in-place
`s += t` applies) and at module level (names are dict lookups). A lesson that claims `faster`
must show at least MIN_SPEEDUP *inside a function*, the conservative case; the script exits 1 if
any claim does not hold.

A lesson in another language is timed by its language's own timer (``LessonLanguage.time``:
Node for JavaScript, ``go run`` for Go), each side repeated to at least 20 ms, best of N; the
"module level" column is blank for them.

    python benchmarks/lesson_examples.py [--repeat N] [--lesson ID] [--language go]
"""

from __future__ import annotations

import argparse
import sys
import textwrap
import time

from lessonlens.lessons.catalog import load_catalog
from lessonlens.lessons.languages import lesson_language
from lessonlens.lessons.lesson import Lesson

MIN_SPEEDUP = 1.2


def best_time(code: object, setup: dict[str, object], repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        namespace = dict(setup)
        start = time.perf_counter()
        exec(code, namespace)
        best = min(best, time.perf_counter() - start)
    return best


def as_function(code: str) -> str:
    """The example as a function body, called once: its names become locals."""
    body = textwrap.indent(code, "    ")
    return f"def _example():\n{body}\n    return result\n\nresult = _example()\n"


def measure(lesson: Lesson, repeat: int, *, in_function: bool) -> tuple[float, float]:
    setup: dict[str, object] = {"__name__": "lesson_example"}
    exec(compile(lesson.example.setup, f"{lesson.id}:setup", "exec"), setup)
    times = []
    for role, code in (("before", lesson.example.before), ("after", lesson.example.after)):
        text = as_function(code) if in_function else code
        times.append(best_time(compile(text, f"{lesson.id}:{role}", "exec"), setup, repeat))
    return times[0], times[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--lesson", action="append", default=[])
    parser.add_argument("--language", action="append", default=[])
    args = parser.parse_args()
    catalog = load_catalog()
    failed = []
    print(
        f"{'lesson':<24} {'claims':<18} {'before ms':>10} {'after ms':>10} "
        f"{'in function':>12} {'module level':>13}"
    )
    for lesson in sorted(catalog.lessons.values(), key=lambda x: x.id):
        if args.lesson and lesson.id not in args.lesson:
            continue
        if args.language and lesson.language not in args.language:
            continue
        language = lesson_language(lesson.language)
        if language is not None and language.time is not None:
            example = lesson.example
            before, after = language.time(
                example.setup, example.before, example.after, lesson.id, args.repeat
            )
            module_before = module_after = float("nan")
        else:
            before, after = measure(lesson, args.repeat, in_function=True)
            module_before, module_after = measure(lesson, args.repeat, in_function=False)
        ratio = before / after if after else float("inf")
        module_ratio = module_before / module_after if module_after else float("inf")
        verdict = ""
        if "faster" in lesson.claims:
            verdict = "ok" if ratio >= MIN_SPEEDUP else f"CLAIM NOT MET (< {MIN_SPEEDUP}x)"
            if ratio < MIN_SPEEDUP:
                failed.append(lesson.id)
        claims = ",".join(lesson.claims) or "-"
        print(
            f"{lesson.id:<24} {claims:<18} {before * 1e3:10.2f} {after * 1e3:10.2f} "
            f"{ratio:11.2f}x {module_ratio:12.2f}x {verdict}"
        )
    if failed:
        print(f"\nclaims not met: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
