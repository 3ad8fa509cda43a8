"""Throughput of `lessonlens check` over a folder (the running interpreter's standard library).

Prints files, lines, lines/s, and the ratio of analysis time to a raw tree-sitter parse of the
same files (the floor: each file parsed once by its own grammar), for a cold cache and a warm
cache, with one job. ``--language`` keeps the files of one language (``javascript`` takes in
TypeScript and TSX, whose lessons it shares; ``go``; ``python``).

    python benchmarks/check_throughput.py [--repeat N] [--language L] [PATH]
"""

from __future__ import annotations

import argparse
import sysconfig
import tempfile
import time
from pathlib import Path

from lessonlens.analyzers import AnalysisOptions, language_for_path, parsing
from lessonlens.analyzers.engine import rule_set
from lessonlens.server.check.run import CheckOptions, discover, run_check
from lessonlens.server.workspace.sources import Source, read_source


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("path", nargs="?", default=sysconfig.get_paths()["stdlib"])
    parser.add_argument("--repeat", type=int, default=3, help="best of N for each measurement")
    parser.add_argument("--language", help="only this language's files (its lesson language)")
    args = parser.parse_args()

    files = [
        f
        for f in discover([Path(args.path)])
        if (spec := language_for_path(f)) is not None
        and (args.language is None or args.language in (spec.id, spec.lessons))
    ]
    read = [(f, language_for_path(f)) for f in files]
    sources = [
        (spec, s)
        for f, spec in read
        if spec is not None and isinstance(s := read_source(f, 1_000_000, spec), Source)
    ]
    lines = sum(s.data.count(b"\n") for _, s in sources)
    # Compile every language's rules and grammar before timing anything.
    parsers = {spec.id: parsing.new_parser(rule_set(spec).grammar) for spec, _ in sources}

    def parse_all() -> float:
        start = time.perf_counter()
        for spec, source in sources:
            parsing.parse(parsers[spec.id], source.data)
        return time.perf_counter() - start

    floor = min(parse_all() for _ in range(args.repeat))
    pairs = [(f, str(f)) for f in files]
    analysis = AnalysisOptions(language_options={"target-python": (3, 11)})
    colds, warms, findings = [], [], 0
    for _ in range(args.repeat):
        with tempfile.TemporaryDirectory() as cache_dir:
            options = CheckOptions(analysis=analysis, jobs=1, cache_dir=Path(cache_dir))
            start = time.perf_counter()
            report = run_check(pairs, options)
            colds.append(time.perf_counter() - start)
            findings = len(report.findings)
            start = time.perf_counter()
            warm_report = run_check(pairs, options)
            warms.append(time.perf_counter() - start)
            assert warm_report.cache_hits == len(sources)
            assert len(warm_report.findings) == findings
    cold, warm = min(colds), min(warms)

    print(f"path            {args.path} ({args.language or 'every language'})")
    print(f"files           {len(files)} ({len(files) - len(sources)} skipped)")
    print(f"lines           {lines:,}")
    print(f"findings        {findings:,}")
    print(f"parse floor     {floor:7.2f} s   {lines / floor:12,.0f} lines/s")
    print(
        f"check, cold     {cold:7.2f} s   {lines / cold:12,.0f} lines/s   "
        f"ratio to parse {cold / floor:.2f}"
    )
    print(
        f"check, warm     {warm:7.2f} s   {lines / warm:12,.0f} lines/s   "
        f"ratio to parse {warm / floor:.2f}"
    )
    print(f"warm speed-up   {cold / warm:.1f}x over cold")


if __name__ == "__main__":
    main()
