"""Train the small adaptation that teaches all-MiniLM-L6-v2 code idioms and lessons.

    .venv/bin/python -m lessonlens.model_runtime.train_head   # writes model_runtime/head.npz

MiniLM was trained on sentence pairs, not on code against teaching text. The lessons are about
idioms that live in a line or two (`range(len(x))`, `x == None`, `.pop(0)` in a loop), so units
are also read as pairs of lines (`analyzers/python/units.py`) and compared with each lesson's
example lines. A head on frozen pooled embeddings could not see such idioms well (an `=[]` in a
long signature is a small part of the mean), so two small things are learned together:

- low-rank updates (LoRA, rank `RANK`) of the attention query and value layers of all six
  transformer layers, which let attention pick out the tokens an idiom is made of;
- one residual linear map on the pooled embedding (z = normalize(e + W e + b)).

Both ship in head.npz (about 1 MB). The build merges the low-rank updates into the weights and
puts the map in the graph, so inference is still one `session.run` of the base model's shape.

It is trained on CPU, in minutes, seeded, by distant supervision: the rules are run over the
standard library and the installed packages, and the two lines where a rule fires are an example
of its lesson; pairs of lines from places where nothing fires are examples of no lesson. No file
that the labelled set (tests/data/related_units.yaml) quotes is mined, and no line that appears in
it, so nothing evaluated is trained on. The development split only chooses the number of steps;
the test split is not read. The model itself is always rebuilt from the base package.
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import os
import sys
import sysconfig
import time
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .build import LOW_RANK_PREFIX, _tokenizer, base_model_dir
from .encoder import padded
from .evalset import DEFAULT_PATH, Item, load_items
from .store import HEAD_FILE, TOKENIZER_NAME

SEED = 20261121
RANK = 8
TARGETS = ("query", "value")
TEMPERATURE = 0.05
LEARNING_RATE = 1e-3
WEIGHT_DECAY = 1e-3
# Checkpoints scored on the development split; the best one is written.
STEPS = (60, 100)
BATCH = 48  # mined examples of a lesson per step, plus a third as many of no lesson
PAIR_TOKENS = 64
# Lesson rows are encoded with gradients every step, in chunks of similar length (padding all
# 120 rows to the longest doubled a step). Sampling a few rows per step and keeping stale copies
# of the others was faster but scored 0.04 lower on dev.
ROW_CHUNK = 40
# Mined examples: at most this many per lesson (a seeded sample) and this many of no lesson.
PER_LESSON = 300
NEGATIVES = 4000
# A negative's best lesson is pushed below this cosine.
NEGATIVE_MARGIN = 0.5
SKIP_PARTS = {"test", "tests", "idlelib", "lib2to3", "torch"}


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
    quoted = {item.source_file for item in exclude if item.source_file}
    positives: dict[str, set[str]] = defaultdict(set)
    negatives: set[str] = set()
    roots = [Path(sysconfig.get_paths()["stdlib"]), Path(sysconfig.get_paths()["purelib"])]
    for root in roots:
        for path in sorted(root.rglob("*.py")):
            relative = path.relative_to(root)
            if any(part in SKIP_PARTS for part in relative.parts) or str(relative) in quoted:
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
            if int(hashlib.sha256(str(relative).encode()).hexdigest(), 16) % 7:
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


class Adapted:
    """MiniLM with trainable low-rank updates and a residual head; the rest frozen."""

    def __init__(self) -> None:
        import torch
        from transformers import BertModel

        folder = base_model_dir()
        self.tokenizer = _tokenizer(folder / TOKENIZER_NAME)
        self.bert = BertModel.from_pretrained(str(folder), attn_implementation="eager")
        self.bert.eval()  # no dropout: the low-rank updates are small and the data is clean
        for parameter in self.bert.parameters():
            parameter.requires_grad_(False)
        self.low_rank: dict[str, tuple[Any, Any]] = {}
        for index, layer in enumerate(self.bert.encoder.layer):
            for target in TARGETS:
                linear = getattr(layer.attention.self, target)
                a = torch.nn.Parameter(
                    torch.randn(RANK, linear.in_features) / linear.in_features**0.5
                )
                b = torch.nn.Parameter(torch.zeros(linear.out_features, RANK))
                self.low_rank[f"encoder.layer.{index}.attention.self.{target}"] = (a, b)
                linear.register_forward_hook(_add_low_rank(a, b))
        dim = self.bert.config.hidden_size
        self.weight = torch.nn.Parameter(torch.zeros(dim, dim))
        self.bias = torch.nn.Parameter(torch.zeros(dim))

    def parameters(self) -> list[Any]:
        return [p for pair in self.low_rank.values() for p in pair] + [self.weight, self.bias]

    def encode(self, texts: Sequence[str], max_tokens: int = 256) -> Any:
        import torch

        encodings = self.tokenizer.encode_batch(list(texts))
        ids, mask = (
            torch.from_numpy(a)
            for a in padded([e.ids[: min(max_tokens, sum(e.attention_mask))] for e in encodings])
        )
        hidden = self.bert(input_ids=ids, attention_mask=mask).last_hidden_state
        m = mask.unsqueeze(-1).to(hidden.dtype)
        pooled = (hidden * m).sum(1) / m.sum(1).clamp(min=1e-9)
        return torch.nn.functional.normalize(pooled + pooled @ self.weight.T + self.bias, dim=1)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Embeddings without gradients, in batches of similar length."""
        import torch

        out = np.empty((len(texts), self.weight.shape[0]), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        with torch.no_grad():
            for start in range(0, len(order), 64):
                chunk = order[start : start + 64]
                out[chunk] = self.encode([texts[i] for i in chunk]).numpy()
        return out

    def state(self) -> dict[str, np.ndarray]:
        arrays = {
            "weight": self.weight.detach().numpy().copy(),
            "bias": self.bias.detach().numpy().copy(),
        }
        for path, (a, b) in self.low_rank.items():
            arrays[f"{LOW_RANK_PREFIX}{path}/a"] = a.detach().numpy().copy()
            arrays[f"{LOW_RANK_PREFIX}{path}/b"] = b.detach().numpy().copy()
        return arrays


def _add_low_rank(a: Any, b: Any) -> Any:
    def hook(module: Any, inputs: tuple[Any, ...], output: Any) -> Any:
        return output + (inputs[0] @ a.T) @ b.T

    return hook


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


def train(
    rows: list[tuple[str, int]],
    positives: list[tuple[str, int]],
    negatives: list[str],
    score: Any,
    log: Any = print,
) -> tuple[int, float, dict[str, np.ndarray]]:
    """Train; return the best checkpoint (steps, dev MRR@5, arrays) by `score(model)`."""
    import torch

    torch.manual_seed(SEED)
    torch.set_num_threads(os.cpu_count() or 1)
    rng = np.random.default_rng(SEED)
    model = Adapted()
    optimiser = torch.optim.AdamW(model.parameters(), lr=LEARNING_RATE, weight_decay=WEIGHT_DECAY)
    row_texts = [text for text, _ in rows]
    owners = torch.tensor([owner for _, owner in rows])
    owner_mask = torch.zeros(len(rows), int(owners.max()) + 1, dtype=torch.bool)
    owner_mask[torch.arange(len(rows)), owners] = True
    by_length = sorted(range(len(rows)), key=lambda i: len(row_texts[i]))
    chunks = [by_length[i : i + ROW_CHUNK] for i in range(0, len(rows), ROW_CHUNK)]
    unsort = torch.from_numpy(np.argsort(np.concatenate(chunks)))
    order = rng.permutation(len(positives))
    negative_order = rng.permutation(len(negatives))
    taken = negatives_taken = 0
    best: tuple[int, float, dict[str, np.ndarray]] | None = None
    started = time.monotonic()
    for step in range(1, max(STEPS) + 1):
        if taken + BATCH > len(order):
            order, taken = rng.permutation(len(positives)), 0
        batch = [positives[i] for i in order[taken : taken + BATCH]]
        taken += BATCH
        count = BATCH // 3
        if negatives_taken + count > len(negative_order):
            negatives_taken = 0
        negative = [negatives[i] for i in negative_order[negatives_taken : negatives_taken + count]]
        negatives_taken += count
        encoded = [model.encode([row_texts[i] for i in chunk]) for chunk in chunks]
        lesson_rows = torch.cat(encoded)[unsort]
        z = model.encode([text for text, _ in batch] + negative, PAIR_TOKENS)
        scores = z @ lesson_rows.T
        per_lesson = scores.unsqueeze(2).masked_fill(~owner_mask.unsqueeze(0), -2.0)
        best_per_lesson = per_lesson.max(dim=1).values
        target = torch.tensor([lesson for _, lesson in batch])
        loss = torch.nn.functional.cross_entropy(
            best_per_lesson[: len(batch)] / TEMPERATURE, target
        )
        loss = (
            loss
            + torch.relu(best_per_lesson[len(batch) :].max(dim=1).values - NEGATIVE_MARGIN).mean()
        )
        optimiser.zero_grad()
        loss.backward()  # type: ignore[no-untyped-call]
        optimiser.step()
        if step in STEPS:
            value = score(model)
            log(
                f"{step:4d} steps: loss {loss.item():.3f}, dev MRR@5 {value:.3f} "
                f"({time.monotonic() - started:.0f} s)"
            )
            if best is None or value > best[1]:
                best = (step, value, copy.deepcopy(model.state()))
    assert best is not None
    return best


def main(argv: Sequence[str] | None = None) -> int:
    from lessonlens.lessons.catalog import load_catalog
    from lessonlens.server.related import embed_units, lesson_texts

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_PATH)
    parser.add_argument("--out", type=Path, default=Path(__file__).with_name(HEAD_FILE))
    args = parser.parse_args(argv)
    items = load_items(args.data)
    dev = [i for i in items if i.split == "dev" and i.lessons]
    catalog = load_catalog([])
    lesson_ids = sorted(catalog.lessons)
    rows = [
        (text, lesson_ids.index(i)) for i in lesson_ids for text in lesson_texts(catalog.lessons[i])
    ]
    mined, negatives = mine(items)
    positives = [(text, lesson_ids.index(lesson)) for text, lesson in mined]
    print(
        f"mined {len(positives)} examples of {len({lesson for _, lesson in mined})} lessons, "
        f"{len(negatives)} of none"
    )
    owners = np.array([owner for _, owner in rows])
    truth = [{lesson_ids.index(x) for x in i.lessons} for i in dev]

    def score(model: Adapted) -> float:
        units = embed_units(model.embed, [i.unit for i in dev])
        return dev_mrr5(units, truth, model.embed([text for text, _ in rows]), owners)

    steps, value, arrays = train(rows, positives, negatives, score)
    named: dict[str, Any] = dict(arrays)  # names with "/" in them: keywords only by unpacking
    np.savez_compressed(args.out, **named)
    print(
        f"wrote {args.out} ({args.out.stat().st_size / 1000:.0f} kB): "
        f"{steps} steps, dev MRR@5 {value:.3f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
