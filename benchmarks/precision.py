"""Precision of the rules on real code that nobody here wrote, judged finding by finding.

The corpora are public repositories pinned by commit in ``benchmarks/precision/corpora.yaml``;
their code is never committed, only references to it (repository, commit, path, line) and the
verdicts in ``benchmarks/precision/round-*.yaml``. Criteria (see the folder's README.md):

- CORRECT: a good reviewer would endorse acting on it here;
- NOISE: true, but not worth the reader's time;
- WRONG: false, or its fix would change what the program does.

One command re-runs ``lessonlens check`` over every corpus, prints hints per 100 lines, and
scores every judgement file against today's findings (a judged finding that no longer fires is
counted apart, so a rule change shows up as findings gone, never as a silent re-score)::

    python benchmarks/precision.py --root CORPORA

Drawing a fresh sample to judge (every rule that fired at least once gets one finding, the rest
of the sample is shared out in proportion to how often each rule fired)::

    python benchmarks/precision.py sample --root CORPORA --n 60 --seed 2 --out round-2.yaml

Other languages have their own corpora and rounds: ``--corpora corpora-javascript.yaml`` (its
rounds are ``javascript-round-*.yaml``), ``--corpora corpora-go.yaml`` (``go-round-*.yaml``)::

    python benchmarks/precision.py --corpora corpora-go.yaml --root CORPORA

prints each sampled finding with 8 lines of context either side and writes a judgement file
with empty verdicts. Corpora come from a fetched snapshot's git directory (``extract``, which
reads blobs one by one: a snapshot may lack large ones) or from a source distribution on PyPI;
each lives in ``CORPORA/owner+name``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).resolve().parent / "precision"
VERDICTS = ("CORRECT", "NOISE", "WRONG")
CONTEXT = 8


@dataclass(frozen=True)
class Corpus:
    repository: str
    commit: str
    kind: str
    mature: bool

    def folder(self, root: Path) -> Path:
        return root / self.repository.replace("/", "+")


@dataclass(frozen=True)
class Found:
    repository: str
    commit: str
    path: str
    line: int
    end_line: int
    rule: str
    message: str
    fix: str  # "none", "safe" or "unsafe"

    @property
    def key(self) -> tuple[str, str, int, str]:
        return (self.repository, self.path, self.line, self.rule)


def corpora_file(name: str) -> Path:
    """A corpora file by name (in benchmarks/precision/) or path."""
    path = Path(name)
    return path if path.exists() else HERE / name


def rounds_prefix(corpora: Path) -> str:
    """``corpora.yaml`` -> "" (round-*.yaml); ``corpora-go.yaml`` -> "go-" (go-round-*.yaml)."""
    stem = corpora.stem
    return "" if stem == "corpora" else stem.removeprefix("corpora-") + "-"


def load_corpora(path: Path = HERE / "corpora.yaml") -> list[Corpus]:
    entries = yaml.safe_load(path.read_text("utf-8"))["corpora"]
    return [
        Corpus(e["repository"], str(e["commit"]), e["kind"], bool(e.get("mature", False)))
        for e in entries
    ]


def _fix_kind(fix: dict[str, Any] | None) -> str:
    if not fix:
        return "none"
    return str(fix.get("applicability", "safe"))


def run_check(corpus: Corpus, root: Path, jobs: int) -> tuple[list[Found], int]:
    """Every finding of ``lessonlens check`` over one corpus, and its number of lines."""
    folder = corpus.folder(root)
    if not folder.is_dir():
        sys.exit(f"{folder}: missing; fetch {corpus.repository} at {corpus.commit} (see --help)")
    command = [sys.executable, "-m", "lessonlens", "check", str(folder), "--format", "json"]
    command += ["--no-cache", "--jobs", str(jobs)]
    done = subprocess.run(command, capture_output=True, check=False)
    if done.returncode not in (0, 1):
        sys.exit(f"check failed on {folder}: {done.stderr.decode(errors='replace')[-2000:]}")
    report = json.loads(done.stdout)
    found: list[Found] = []
    lines = 0
    for file in report["files"]:
        relative = Path(file["path"]).resolve().relative_to(folder.resolve()).as_posix()
        if file.get("skipped"):
            continue
        lines += (folder / relative).read_bytes().count(b"\n")
        for f in file["findings"]:
            found.append(
                Found(
                    corpus.repository,
                    corpus.commit,
                    relative,
                    int(f["line"]),
                    int(f["end_line"]),
                    f["rule"],
                    f["message"],
                    _fix_kind(f.get("fix")),
                )
            )
    return found, lines


def stratified(found: list[Found], n: int, seed: int) -> list[Found]:
    """One finding of every rule that fired, the rest in proportion to each rule's count.

    Largest remainders share out what proportions leave over; within a rule the draw is
    uniform. The same findings and seed always give the same sample.
    """
    rng = random.Random(seed)
    by_rule: dict[str, list[Found]] = defaultdict(list)
    for f in sorted(found, key=lambda f: (f.rule, f.repository, f.path, f.line)):
        by_rule[f.rule].append(f)
    quota = {rule: 1 for rule in by_rule}
    left = n - len(quota)
    spare = {rule: len(items) - 1 for rule, items in by_rule.items()}
    total_spare = sum(spare.values())
    if left > 0 and total_spare > 0:
        shares = {rule: left * count / total_spare for rule, count in spare.items()}
        for rule, share in shares.items():
            quota[rule] += min(int(share), spare[rule])
        remaining = n - sum(quota.values())
        order = sorted(shares, key=lambda r: (-(shares[r] - int(shares[r])), r))
        for rule in order:
            if remaining <= 0:
                break
            if quota[rule] < len(by_rule[rule]):
                quota[rule] += 1
                remaining -= 1
    sample: list[Found] = []
    for rule in sorted(by_rule):
        sample.extend(rng.sample(by_rule[rule], min(quota[rule], len(by_rule[rule]))))
    rng.shuffle(sample)
    return sample


def context(root: Path, corpus_folder: str, f: Found) -> str:
    text = (root / corpus_folder / f.path).read_text("utf-8", errors="replace").splitlines()
    start = max(1, f.line - CONTEXT)
    end = min(len(text), f.end_line + CONTEXT)
    out = []
    for number in range(start, end + 1):
        mark = ">" if f.line <= number <= f.end_line else " "
        out.append(f"{mark}{number:5d} | {text[number - 1]}")
    return "\n".join(out)


def _entry(f: Found) -> dict[str, Any]:
    return {
        "repository": f.repository,
        "commit": f.commit,
        "path": f.path,
        "line": f.line,
        "rule": f.rule,
        "fix": f.fix,
        "verdict": "",
        "reason": "",
    }


def cmd_sample(args: argparse.Namespace) -> None:
    root = Path(args.root)
    corpora = load_corpora(corpora_file(args.corpora))
    found: list[Found] = []
    for corpus in corpora:
        found.extend(run_check(corpus, root, args.jobs)[0])
    sample = stratified(found, args.n, args.seed)
    for index, f in enumerate(sample, 1):
        print(f"=== #{index} {f.rule} fix={f.fix} {f.repository} {f.path}:{f.line}")
        print(f"    {f.message}")
        print(context(root, f.repository.replace("/", "+"), f))
        print()
    document = {
        "round": args.round,
        "seed": args.seed,
        "sample_size": len(sample),
        "findings_in_population": len(found),
        "findings": [_entry(f) for f in sample],
    }
    Path(args.out).write_text(yaml.safe_dump(document, sort_keys=False, width=100), "utf-8")
    print(f"wrote {args.out}: {len(sample)} findings drawn from {len(found)}", file=sys.stderr)


def score(judged: list[dict[str, Any]], current: set[tuple[str, str, int, str]] | None) -> None:
    """Print precision overall, by rule and by rule family, and the wrong fixes."""
    counts: Counter[str] = Counter()
    by_rule: dict[str, Counter[str]] = defaultdict(Counter)
    gone = 0
    wrong_with_fix = 0
    for entry in judged:
        verdict = entry.get("verdict", "")
        if verdict not in VERDICTS:
            sys.exit(f"unjudged or bad verdict {verdict!r} at {entry['path']}:{entry['line']}")
        key = (entry["repository"], entry["path"], int(entry["line"]), entry["rule"])
        if current is not None and key not in current:
            gone += 1
            by_rule[entry["rule"]]["gone"] += 1
            continue
        counts[verdict] += 1
        by_rule[entry["rule"]][verdict] += 1
        if verdict == "WRONG" and entry.get("fix", "none") != "none":
            wrong_with_fix += 1
    total = sum(counts.values())
    share = counts["CORRECT"] / total if total else 0.0
    print(
        f"  judged and still firing: {total}; CORRECT {counts['CORRECT']} ({share:.0%}), "
        f"NOISE {counts['NOISE']}, WRONG {counts['WRONG']}; WRONG with a fix: {wrong_with_fix}"
    )
    if current is not None:
        print(f"  judged but no longer firing: {gone}")
    for rule in sorted(by_rule):
        c = by_rule[rule]
        parts = [f"{v} {c[v]}" for v in (*VERDICTS, "gone") if c[v]]
        print(f"    {rule}: " + ", ".join(parts))


def cmd_report(args: argparse.Namespace) -> None:
    root = Path(args.root)
    current: set[tuple[str, str, int, str]] = set()
    print("hints per 100 lines (check over each corpus, no cache):")
    corpora = corpora_file(args.corpora)
    for corpus in load_corpora(corpora):
        found, lines = run_check(corpus, root, args.jobs)
        current.update(f.key for f in found)
        rate = 100 * len(found) / lines if lines else 0.0
        label = "mature" if corpus.mature else corpus.kind
        rules = Counter(f.rule for f in found)
        name = corpus.repository
        print(f"  {name:28s} {lines:8d} lines {len(found):5d} hints {rate:.3f}  ({label})")
        print("      " + ", ".join(f"{r} {n}" for r, n in sorted(rules.items())))
    for path in sorted(HERE.glob(f"{rounds_prefix(corpora)}round-*.yaml")):
        document = yaml.safe_load(path.read_text("utf-8"))
        print(f"{path.name} (seed {document['seed']}, {len(document['findings'])} judged):")
        print("  as judged:")
        score(document["findings"], None)
        print("  against today's findings:")
        score(document["findings"], current)


def cmd_extract(args: argparse.Namespace) -> None:
    """Materialise the Python files of a snapshot's commit, blob by blob (never git archive)."""
    git_dir, out = args.git_dir, Path(args.out)
    commit = (
        args.commit
        or subprocess.run(
            ["git", "--git-dir", git_dir, "rev-parse", "HEAD"], capture_output=True, text=True
        ).stdout.strip()
    )
    listing = subprocess.run(
        ["git", "--git-dir", git_dir, "ls-tree", "-r", "-z", commit],
        capture_output=True,
        check=True,
    ).stdout.split(b"\0")
    written = 0
    for row in filter(None, listing):
        meta, _, name = row.partition(b"\t")
        _mode, kind, sha = meta.split()
        path = os.fsdecode(name)
        if kind != b"blob" or not path.endswith(tuple(args.extensions)):
            continue
        blob = subprocess.run(
            ["git", "--git-dir", git_dir, "cat-file", "blob", sha.decode()], capture_output=True
        )
        if blob.returncode != 0:
            continue  # a large blob the snapshot lacks
        target = out / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(blob.stdout)
        written += 1
    print(f"{out}: {written} files ({', '.join(args.extensions)}) of {commit}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--root", default="corpora", help="folder holding owner+name corpora")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--corpora", default="corpora.yaml", help="corpora file (see above)")
    parser.set_defaults(run=cmd_report)
    commands = parser.add_subparsers()
    sample = commands.add_parser("sample", help="draw a seeded stratified sample to judge")
    sample.add_argument("--root", default="corpora")
    sample.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    sample.add_argument("--n", type=int, default=60)
    sample.add_argument("--seed", type=int, required=True)
    sample.add_argument("--round", type=int, default=0)
    sample.add_argument("--out", required=True)
    sample.add_argument("--corpora", default="corpora.yaml", help="corpora file (see above)")
    sample.set_defaults(run=cmd_sample)
    extract = commands.add_parser("extract", help="write a snapshot's source files to a folder")
    extract.add_argument("--git-dir", required=True)
    extract.add_argument("--commit")
    extract.add_argument("--out", required=True)
    extract.add_argument(
        "--extensions", nargs="+", default=[".py"], help="file endings to write (.ts .tsx .go ...)"
    )
    extract.set_defaults(run=cmd_extract)
    args = parser.parse_args()
    args.run(args)


if __name__ == "__main__":
    main()
