"""Edit -> diagnostics in another language against Python's, as issue 16 states its target.

Runs ``lessonlens serve`` as ``lsp_latency.py`` does (push diagnostics, single-character edits
typed 120-200 ms apart) on ``--file`` (a large TypeScript, JavaScript or Go file) and on the
standard library's largest Python module, alternating the two ``--rounds`` times so that a
slow minute of the machine hits both, and prints each round's p50 and p95, each round's p95
ratio, and the ratio of the two medians of p95 against the target (1.3x).

    python benchmarks/edit_ratio.py --file big.ts [--rounds 5] [--edits 150] [--seed 0]

One round's p95 over 150 edits is its eighth-slowest edit: on a shared machine a single run
moves by a third either way, which is why the verdict reads the medians.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
from pathlib import Path

import lsp_latency

TARGET_RATIO = 1.3


async def _one(path: Path, edits: int, seed: int, model_device: str) -> tuple[float, float]:
    document = path.read_text(encoding="utf-8").replace("\r\n", "\n").replace("\r", "\n")
    planned = lsp_latency.plan_edits(document, edits, random.Random(seed), path)
    with tempfile.TemporaryDirectory(prefix="edit-ratio-") as folder:
        workspace = Path(folder)
        (workspace / f"large{path.suffix}").write_text(document, encoding="utf-8")
        (workspace / "ready.py").write_text(lsp_latency.SMALL_DOCUMENT, encoding="utf-8")
        figures = await lsp_latency.measure(
            "lessonlens",
            [sys.executable, "-m", "lessonlens", "serve"],
            workspace,
            document,
            planned,
            0,
            random.Random(seed),
            {"modelDevice": model_device},
        )
    for message in figures.messages:
        if "hover" not in message:  # no hovers are asked for here
            print(f"  {path.name}: {message}")
    if not figures.edit_ms:
        raise SystemExit(f"no edit of {path} was timed")
    return lsp_latency.percentile(figures.edit_ms, 0.50), lsp_latency.percentile(
        figures.edit_ms, 0.95
    )


async def run(args: argparse.Namespace) -> int:
    other, python = Path(args.file), lsp_latency.largest_stdlib_module()
    print(f"{other} ({other.read_text(encoding='utf-8').count(chr(10)):,} lines) against")
    print(f"{python} ({python.read_text(encoding='utf-8').count(chr(10)):,} lines)")
    print(f"{args.edits} edits a round, model {args.model_device}\n")
    print(f"{'round':>5} {'p50':>7} {'p95':>7} {'py p50':>7} {'py p95':>7} {'ratio':>6}")
    theirs: list[float] = []
    ours: list[float] = []
    for round_ in range(1, args.rounds + 1):
        p50, p95 = await _one(other, args.edits, args.seed, args.model_device)
        py50, py95 = await _one(python, args.edits, args.seed, args.model_device)
        ours.append(p95)
        theirs.append(py95)
        print(f"{round_:>5} {p50:7.1f} {p95:7.1f} {py50:7.1f} {py95:7.1f} {p95 / py95:6.2f}")
    ratio = statistics.median(ours) / statistics.median(theirs)
    verdict = "pass" if ratio <= TARGET_RATIO else "FAIL"
    print(
        f"\nmedian p95 {statistics.median(ours):.1f} ms against {statistics.median(theirs):.1f}"
        f" ms: {ratio:.2f}x (target <= {TARGET_RATIO}x) {verdict}"
    )
    return 0 if verdict == "pass" else 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--file", required=True, help="the document in the other language")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--edits", type=int, default=150)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--model-device", default="off", choices=["auto", "cpu", "cuda", "off"])
    sys.exit(asyncio.run(run(parser.parse_args())))


if __name__ == "__main__":
    main()
