"""Train the small projection head that adapts all-MiniLM-L6-v2 to code idioms and lessons.

    .venv/bin/python -m lessonlens.model_runtime.train_head   # writes model_runtime/head.npz

MiniLM was trained on sentence pairs, not on code against teaching text. The lessons are about
idioms that live in a line or two (`range(len(x))`, `x == None`, `.pop(0)` in a loop), so units
are also read as pairs of lines (`analyzers/python/units.py`) and compared with each lesson's
example lines. The head is one residual linear map on the pooled embedding
(z = normalize(e + W e + b)), applied inside the exported graph to units and lessons alike, so
inference stays one `session.run`.

It is trained on frozen base embeddings, on CPU, in a few minutes, seeded, by distant
supervision: the rules are run over the standard library and the installed packages, and the two
lines where a rule fires are an example of its lesson; pairs of lines from places where nothing
fires are examples of no lesson. Any line that also appears in the labelled set
(tests/data/related_units.yaml, development or test) is left out, so nothing evaluated is
trained on. The development split only chooses the number of steps; the test split is not read.
The output is small (about 550 kB) and committed; the model itself is always rebuilt from the
base package.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import sysconfig
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .build import _batch, _tokenizer, _torch_model, base_model_dir
from .evalset import DEFAULT_PATH, Item, load_items
from .store import HEAD_FILE, TOKENIZER_NAME

SEED = 20261121
TEMPERATURE = 0.05
WEIGHT_DECAY = 1e-3
LEARNING_RATE = 2e-3
STEPS = (50, 100, 150, 200, 300)
# Mined examples: at most this many per lesson (a seeded sample) and this many of no lesson.
PER_LESSON = 300
NEGATIVES = 1500
# A negative's best lesson is pushed below this cosine.
NEGATIVE_MARGIN = 0.5
SKIP_PARTS = {"test", "tests", "idlelib", "lib2to3", "torch"}


def base_embeddings(texts: Sequence[str], cache: Path | None = None) -> np.ndarray:
    """Embeddings from the base model without any head (what the head is trained on).

    Sorted by length into batches (as the runtime does); kept in `cache` by the texts' hash, so
    that trying other settings does not embed the same texts again.
    """
    import hashlib

    import torch

    digest = hashlib.sha256("\0".join(texts).encode()).hexdigest()[:16]
    cached = cache / f"base-{digest}.npy" if cache is not None else None
    if cached is not None and cached.is_file():
        return np.asarray(np.load(cached))
    folder = base_model_dir()
    model = _torch_model(folder, None)
    tokenizer = _tokenizer(folder / TOKENIZER_NAME)
    out = np.empty((len(texts), 384), dtype=np.float32)
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    with torch.inference_mode():
        for start in range(0, len(order), 32):
            chunk = order[start : start + 32]
            ids, mask = _batch(tokenizer, [texts[i] for i in chunk])
            out[chunk] = model(torch.from_numpy(ids), torch.from_numpy(mask)).numpy()
    if cached is not None:
        cached.parent.mkdir(parents=True, exist_ok=True)
        np.save(cached, out)
    return out


def mine(exclude: Sequence[Item]) -> tuple[list[tuple[str, str]], list[str]]:
    """(line pair, lesson id) where a rule fires, and line pairs where none does."""
    from lessonlens.analyzers import parsing
    from lessonlens.analyzers.engine import AnalysisOptions, analyze_tree, rule_set, valid_utf8
    from lessonlens.analyzers.languages import language_for_id

    spec = language_for_id("python")
    assert spec is not None
    parser = parsing.new_parser(rule_set(spec).grammar)
    # 3.10: rules gated on the target version (a try block in a loop) speak too.
    options = AnalysisOptions(target_python=(3, 10))
    seen = {
        line.strip()
        for item in exclude
        for line in item.unit.text.splitlines() + list(item.unit.windows)
        if len(line.strip()) >= 8
    }
    positives: dict[str, set[str]] = defaultdict(set)
    negatives: set[str] = set()
    roots = [Path(sysconfig.get_paths()["stdlib"]), Path(sysconfig.get_paths()["purelib"])]
    for root in roots:
        for path in sorted(root.rglob("*.py")):
            if any(part in SKIP_PARTS for part in path.relative_to(root).parts):
                continue
            try:
                data = valid_utf8(path.read_bytes())
            except OSError:
                continue
            if len(data) > 300_000:
                continue
            analysis = analyze_tree(parsing.parse(parser, data), data, spec, options)
            lines = [line.strip() for line in data.decode("utf-8", "replace").split("\n")]
            fired: set[int] = set()
            for finding in analysis.findings:
                row = finding.span.start_row
                pair = [line for line in lines[row : row + 2] if line]
                fired.update(range(row - 1, row + 2))
                if pair and not any(line in seen for line in pair):
                    positives[finding.lesson_id].add("\n".join(pair))
            # A fixed sample of places where nothing fires, from a fixed share of the files.
            if int(hashlib.sha256(str(path.relative_to(root)).encode()).hexdigest(), 16) % 7:
                continue
            for row in range(0, len(lines) - 1, 37):
                pair = [line for line in lines[row : row + 2] if line and not line.startswith("#")]
                if len(pair) == 2 and row not in fired and not any(x in seen for x in pair):
                    negatives.add("\n".join(pair))
    rng = np.random.default_rng(SEED)
    chosen: list[tuple[str, str]] = []
    for lesson in sorted(positives):
        pairs = sorted(positives[lesson])
        rng.shuffle(pairs)
        chosen.extend((pair, lesson) for pair in pairs[:PER_LESSON])
    negative = sorted(negatives)
    rng.shuffle(negative)
    return chosen, negative[:NEGATIVES]


def fit(
    base: np.ndarray, rows: int, owners: np.ndarray, labels: np.ndarray, steps: int
) -> tuple[np.ndarray, np.ndarray]:
    """The head after `steps` of AdamW.

    `base` holds the lesson rows first, then the positives (with `labels`, a lesson column
    each), then the negatives.
    """
    import torch

    torch.manual_seed(SEED)
    e = torch.from_numpy(base)
    owner = torch.zeros(rows, int(owners.max()) + 1, dtype=torch.bool)
    owner[torch.arange(rows), torch.from_numpy(owners)] = True
    target = torch.from_numpy(labels)
    weight = torch.zeros(e.shape[1], e.shape[1], requires_grad=True)
    bias = torch.zeros(e.shape[1], requires_grad=True)
    optimiser = torch.optim.AdamW([weight, bias], lr=LEARNING_RATE, weight_decay=WEIGHT_DECAY)
    for _ in range(steps):
        optimiser.zero_grad()
        z = torch.nn.functional.normalize(e + e @ weight.T + bias, dim=1)
        scores = z[rows:] @ z[:rows].T
        best = scores.unsqueeze(2).masked_fill(~owner.unsqueeze(0), -2.0).max(dim=1).values
        positive, negative = best[: len(labels)], best[len(labels) :]
        loss = torch.nn.functional.cross_entropy(positive / TEMPERATURE, target)
        loss = loss + torch.relu(negative.max(dim=1).values - NEGATIVE_MARGIN).mean()
        loss.backward()  # type: ignore[no-untyped-call]
        optimiser.step()
    return weight.detach().numpy().copy(), bias.detach().numpy().copy()


def project(base: np.ndarray, weight: np.ndarray, bias: np.ndarray) -> np.ndarray:
    z = base + base @ weight.T + bias
    return np.asarray(z / np.linalg.norm(z, axis=1, keepdims=True))


def dev_mrr5(
    units: list[np.ndarray], truth: list[set[int]], lesson_rows: np.ndarray, owners: np.ndarray
) -> float:
    """MRR@5 of the development units, each scored by its best text against each lesson."""
    columns = int(owners.max()) + 1
    values = []
    for vectors, lessons in zip(units, truth, strict=True):
        best = np.full(columns, -2.0)
        np.maximum.at(best, owners, (vectors @ lesson_rows.T).max(axis=0))
        order = list(np.argsort(-best, kind="stable")[:5])
        hit = next((pos for pos, col in enumerate(order, start=1) if col in lessons), None)
        values.append(1.0 / hit if hit else 0.0)
    return float(np.mean(values))


def main(argv: Sequence[str] | None = None) -> int:
    from lessonlens.lessons.catalog import load_catalog
    from lessonlens.server.related import embed_units, lesson_texts

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_PATH)
    parser.add_argument("--out", type=Path, default=Path(__file__).with_name(HEAD_FILE))
    parser.add_argument("--cache", type=Path, help="Keep base embeddings here between runs.")
    args = parser.parse_args(argv)
    items = load_items(args.data)
    dev = [i for i in items if i.split == "dev" and i.lessons]
    catalog = load_catalog([])
    lesson_ids = sorted(catalog.lessons)
    rows = [
        (text, lesson_ids.index(i)) for i in lesson_ids for text in lesson_texts(catalog.lessons[i])
    ]
    positives, negatives = mine(items)
    print(
        f"mined {len(positives)} examples of {len({lesson for _, lesson in positives})} lessons, "
        f"{len(negatives)} of none"
    )
    texts = [t for t, _ in rows] + [t for t, _ in positives] + negatives
    base = base_embeddings(texts, args.cache).astype(np.float32)
    owners = np.array([c for _, c in rows])
    labels = np.array([lesson_ids.index(lesson) for _, lesson in positives])
    dev_base = embed_units(
        lambda texts: base_embeddings(texts, args.cache).astype(np.float32), [i.unit for i in dev]
    )
    truth = [{lesson_ids.index(x) for x in i.lessons} for i in dev]

    def score(weight: np.ndarray, bias: np.ndarray) -> float:
        units = [project(group, weight, bias) for group in dev_base]
        return dev_mrr5(units, truth, project(base[: len(rows)], weight, bias), owners)

    zero = np.zeros((base.shape[1], base.shape[1]), dtype=np.float32)
    print(f"no head: dev MRR@5 {score(zero, np.zeros(base.shape[1], dtype=np.float32)):.3f}")
    heads: dict[int, tuple[np.ndarray, np.ndarray]] = {}
    results: dict[int, float] = {}
    for steps in STEPS:
        heads[steps] = fit(base, len(rows), owners, labels, steps)
        results[steps] = score(*heads[steps])
        print(f"{steps:4d} steps: dev MRR@5 {results[steps]:.3f}")
    best = max(results, key=lambda s: (results[s], -s))
    weight, bias = heads[best]
    np.savez_compressed(args.out, weight=weight.astype(np.float32), bias=bias.astype(np.float32))
    print(f"wrote {args.out} ({args.out.stat().st_size / 1000:.0f} kB), {best} steps")
    return 0


if __name__ == "__main__":
    sys.exit(main())
