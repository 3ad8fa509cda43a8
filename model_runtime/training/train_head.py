"""Train the small adaptation that teaches all-MiniLM-L6-v2 code idioms and lessons.

    python -m lessonlens.model_runtime.training.train_head   # writes model_runtime/head.npz

MiniLM was trained on sentence pairs, not on code against teaching text. The lessons are about
idioms that live in a line or two (`range(len(x))`, `x == None`, `.pop(0)` in a loop), so units
are also read as pairs of lines (`analyzers/python/units.py`) and compared with each lesson's
example lines. A head on frozen pooled embeddings could not see such idioms well (an `=[]` in a
long signature is a small part of the mean), so two small things are learned together:

- low-rank updates (LoRA, rank `RANK`) of the attention (query, value, output) and feed-forward
  maps of the transformer layers (the top `TRAIN_LAYERS`: all six), which let attention pick out
  the tokens an idiom is made of;
- one residual linear map on the pooled embedding (z = normalize(e + W e + b)).

Layers below `TRAIN_LAYERS` would be frozen, what they make of each text computed once
(`Frozen`), each step running and back-propagating only through the top layers: a knob that
trades score for time. Both ship in head.npz (about 1.7 MB).
The build merges the low-rank updates into the weights and puts the map in the graph, so
inference is still one `session.run` of the base model's shape.

It is trained on CPU (about 5 minutes on 2 cores, mining included), seeded, by distant
supervision: the rules are run over the standard library and the installed packages, and the two
lines where a rule fires are an example of its lesson; pairs of lines from places where nothing
fires are examples of no lesson. Each example is compared with every lesson's rows as the server
compares units (`lesson_texts`: title and summary, example lines, situations). No file that the
labelled set (tests/data/related_units.yaml) quotes is mined, and no line that appears in it, so
nothing evaluated is trained on. The development split only scores the checkpoints (`STEPS`),
as the product scores (lessons that a unit's gates rule out do not count); the test split is
never read. The model itself is always rebuilt from the base package.

The head this replaces (attention only, three seeded trainings averaged by `soup`, 100 steps
each) took 42 minutes; on the same development split it scores 0.907 gated MRR@5 against this
one's 0.913, and 0.768 ungated (as a team lesson without gates is ranked) against 0.751.

`--labelled` also trains on the development units themselves, each read whole with its lessons
(or none), to teach the situations no rule detects. `FOLDS` trainings then each hold out one
fold of them (`folds`), choose their steps on that fold, and keep that fold's scores
(`held_out_scores.npz`) for the calibration, since their average has seen every development
unit. With all six layers adapted it scored 0.804 MRR@5 on held-out folds against 0.795 for the
mined head on the same folds: within the noise of 25 units a fold, so the shipped head is the
simpler, mined one.
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import json
import os
import sys
import sysconfig
import time
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..build import LOW_RANK_PREFIX, _tokenizer, base_model_dir
from ..encoder import padded
from ..store import HEAD_FILE, TOKENIZER_NAME
from .evalset import DEFAULT_PATH, Item, load_items

SEED = 20261121
# Independent trainings, one seed each, averaged into one update ("model soup"). Three seeds'
# average of attention-only updates scored above each, at three times the time; with the
# feed-forward maps adapted too, one training scores as the three did (0.913 gated dev MRR@5
# against 0.907), so one is trained.
SOUP = 1
# With --labelled, one training per fold of the development units, each holding one out.
FOLDS = 3
RANK = 8
# The top layers adapted. The layers below them are frozen, so what they make of a text is
# computed once (`Frozen`) and each step runs and back-propagates through the top layers alone.
# Adapting only the top three took 5 minutes instead of 7.5 but scored lower (0.732 ungated dev
# MRR@5 against 0.751), so all six are.
TRAIN_LAYERS = 6
TARGETS = (
    "attention.self.query",
    "attention.self.value",
    "attention.output.dense",
    "intermediate.dense",
    "output.dense",
)
TEMPERATURE = 0.05
LEARNING_RATE = 1e-3
WEIGHT_DECAY = 1e-3
# Checkpoints scored on the development split; the best one is written.
STEPS = (40,)
BATCH = 48  # mined examples of a lesson per step
NEGATIVES_PER_STEP = 32  # and places where no rule fires
PAIR_TOKENS = 64
# Lesson rows are encoded with gradients every step, in chunks of similar length (padding all
# 120 rows to the longest doubled a step). Sampling a few rows per step and keeping stale copies
# of the others was faster but scored 0.04 lower on dev.
ROW_CHUNK = 40
# Mined examples: at most this many per lesson (a seeded sample) and this many of no lesson.
PER_LESSON = 300
NEGATIVES = 4000
# A negative's best lesson is pushed below this cosine, with this weight against the lesson loss:
# weighted 1, lines such as `if key not in self._values` kept matching a set-membership row.
NEGATIVE_MARGIN = 0.5
NEGATIVE_WEIGHT = 4.0
# Labelled development units per step (their whole rendering, as the server reads it), from the
# folds a training does not hold out, and the weight of their loss against the mined examples'.
UNIT_BATCH = 12
UNIT_WEIGHT = 1.0
HELD_OUT_FILE = "held_out_scores.npz"
SKIP_PARTS = {"test", "tests", "idlelib", "lib2to3", "torch"}


def mine(exclude: Sequence[Item]) -> tuple[list[tuple[str, str]], list[str]]:
    """(line pair, lesson id) where a rule fires, and line pairs where none does."""
    from lessonlens.analyzers.engine import AnalysisOptions, valid_utf8
    from lessonlens.analyzers.facade import Selection, analyse
    from lessonlens.analyzers.languages import language_for_id

    spec = language_for_id("python")
    assert spec is not None
    # 3.10: rules gated on the target version (a try block in a loop) speak too.
    options = AnalysisOptions(language_options={"target-python": (3, 10)})
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
            analysis = analyse(data, spec, options).selected(Selection())
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


class Frozen:
    """What the frozen layers make of each text, computed once and shared by every training."""

    def __init__(self) -> None:
        self._states: dict[tuple[str, int], Any] = {}

    def states(self, model: Adapted, texts: Sequence[str], max_tokens: int = 256) -> list[Any]:
        missing = sorted({t for t in texts if (t, max_tokens) not in self._states})
        if missing:
            for text, state in zip(missing, model.lower(missing, max_tokens), strict=True):
                self._states[(text, max_tokens)] = state
        return [self._states[(t, max_tokens)] for t in texts]


class Adapted:
    """MiniLM with trainable low-rank updates in its top layers and a residual head."""

    def __init__(
        self,
        rank: int = RANK,
        train_layers: int = TRAIN_LAYERS,
        targets: Sequence[str] = TARGETS,
    ) -> None:
        import torch
        from transformers import BertModel

        folder = base_model_dir()
        self.tokenizer = _tokenizer(folder / TOKENIZER_NAME)
        self.bert = BertModel.from_pretrained(str(folder), attn_implementation="eager")
        self.bert.eval()  # no dropout: the low-rank updates are small and the data is clean
        for parameter in self.bert.parameters():
            parameter.requires_grad_(False)
        layers = self.bert.encoder.layer
        self.split = len(layers) - train_layers  # the first adapted layer
        self.low_rank: dict[str, tuple[Any, Any]] = {}
        for index in range(self.split, len(layers)):
            for target in targets:
                linear = layers[index].get_submodule(target)
                a = torch.nn.Parameter(
                    torch.randn(rank, linear.in_features) / linear.in_features**0.5
                )
                b = torch.nn.Parameter(torch.zeros(linear.out_features, rank))
                self.low_rank[f"encoder.layer.{index}.{target}"] = (a, b)
                linear.register_forward_hook(_add_low_rank(a, b))
        dim = self.bert.config.hidden_size
        self.weight = torch.nn.Parameter(torch.zeros(dim, dim))
        self.bias = torch.nn.Parameter(torch.zeros(dim))

    def _tokens(self, texts: Sequence[str], max_tokens: int) -> tuple[Any, Any]:
        import torch

        encodings = self.tokenizer.encode_batch(list(texts))
        ids, mask = (
            torch.from_numpy(a)
            for a in padded([e.ids[: min(max_tokens, sum(e.attention_mask))] for e in encodings])
        )
        return ids, mask

    def lower(self, texts: Sequence[str], max_tokens: int = 256) -> list[Any]:
        """Each text's hidden states below the adapted layers (unpadded), without gradients."""
        import torch

        out: list[Any] = [None] * len(texts)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        with torch.no_grad():
            for start in range(0, len(order), 64):
                chunk = order[start : start + 64]
                ids, mask = self._tokens([texts[i] for i in chunk], max_tokens)
                hidden = self.bert.embeddings(input_ids=ids)
                extended = self.bert.get_extended_attention_mask(mask, ids.shape)
                for layer in self.bert.encoder.layer[: self.split]:
                    hidden = layer(hidden, attention_mask=extended)[0]
                for row, i in enumerate(chunk):
                    out[i] = hidden[row, : int(mask[row].sum())].clone()
        return out

    def upper(self, states: Sequence[Any]) -> Any:
        """Embeddings of texts from their `lower` states, through the adapted layers and head."""
        import torch

        width = max(int(s.shape[0]) for s in states)
        hidden = torch.zeros(len(states), width, states[0].shape[1])
        mask = torch.zeros(len(states), width, dtype=torch.long)
        for row, state in enumerate(states):
            hidden[row, : state.shape[0]] = state
            mask[row, : state.shape[0]] = 1
        extended = self.bert.get_extended_attention_mask(mask, mask.shape)
        for layer in self.bert.encoder.layer[self.split :]:
            hidden = layer(hidden, attention_mask=extended)[0]
        return self._pool(hidden, mask)

    def _pool(self, hidden: Any, mask: Any) -> Any:
        import torch

        m = mask.unsqueeze(-1).to(hidden.dtype)
        pooled = (hidden * m).sum(1) / m.sum(1).clamp(min=1e-9)
        return torch.nn.functional.normalize(pooled + pooled @ self.weight.T + self.bias, dim=1)

    @property
    def identity(self) -> str:
        return "training"

    @property
    def dim(self) -> int:
        return int(self.weight.shape[0])

    def parameters(self) -> list[Any]:
        return [p for pair in self.low_rank.values() for p in pair] + [self.weight, self.bias]

    def encode(self, texts: Sequence[str], max_tokens: int = 256) -> Any:
        ids, mask = self._tokens(texts, max_tokens)
        hidden = self.bert(input_ids=ids, attention_mask=mask).last_hidden_state
        return self._pool(hidden, mask)

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

    @classmethod
    def from_state(cls, arrays: dict[str, np.ndarray]) -> Adapted:
        """The model that `state()` (or `soup`) describes, to score it."""
        import torch

        rank = next(v.shape[0] for k, v in arrays.items() if k.startswith(LOW_RANK_PREFIX))
        paths = {k[len(LOW_RANK_PREFIX) :].rsplit("/", 1)[0] for k in arrays if "/" in k}
        layers = {p.split(".")[2] for p in paths}
        targets = sorted({p.split(".", 3)[3] for p in paths})
        model = cls(rank, len(layers), targets)
        with torch.no_grad():
            model.weight.copy_(torch.from_numpy(arrays["weight"]))
            model.bias.copy_(torch.from_numpy(arrays["bias"]))
            for path, (a, b) in model.low_rank.items():
                a.copy_(torch.from_numpy(arrays[f"{LOW_RANK_PREFIX}{path}/a"]))
                b.copy_(torch.from_numpy(arrays[f"{LOW_RANK_PREFIX}{path}/b"]))
        return model

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


def soup(states: Sequence[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """The average of several trainings' updates, still in the form the build merges.

    The mean of the updates B_i A_i is [B_1 .. B_n] / n times [A_1; ..; A_n]: the low-rank
    factors are stacked (rank n x RANK) and the residual map is averaged.
    """
    n = len(states)
    out = {key: np.mean([s[key] for s in states], axis=0) for key in ("weight", "bias")}
    for key in states[0]:
        if key.endswith("/a"):
            out[key] = np.concatenate([s[key] for s in states], axis=0)
        elif key.endswith("/b"):
            out[key] = np.concatenate([s[key] for s in states], axis=1) / n
    return {key: value.astype(np.float32) for key, value in out.items()}


def index_scores(
    model: Adapted, items: Sequence[Item], gated: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """Lesson and skill cosines of each unit (row), scored by the server's own `LessonIndex`.

    Columns are the sorted lesson ids and the sorted skill ids. ``gated``: as the product scores
    them, -1 for a lesson whose `applies-if` / `satisfied-if` gates rule it out for the unit.
    """
    from lessonlens.lessons.catalog import load_catalog
    from lessonlens.lessons.skills import load_skills
    from lessonlens.model_runtime.related import LessonIndex, embed_units

    index = LessonIndex(model, list(load_catalog([]).lessons.values()), load_skills())
    vectors = embed_units(model.embed, [i.unit for i in items])
    return index.gated_scores(vectors, [i.verdicts for i in items] if gated else None)


def dev_mrr5(lesson_scores: np.ndarray, truth: Sequence[set[int]]) -> float:
    """MRR@5 of units (rows of `index_scores`) against the columns of their lessons."""
    values = []
    for row, lessons in zip(lesson_scores, truth, strict=True):
        order = list(np.argsort(-row, kind="stable")[:5])
        hit = next((pos for pos, col in enumerate(order, start=1) if col in lessons), None)
        values.append(1.0 / hit if hit else 0.0)
    return float(np.mean(values))


def train(
    rows: list[tuple[str, int]],
    positives: list[tuple[str, int]],
    negatives: list[str],
    score: Any,
    seed: int = SEED,
    log: Any = print,
    units: Sequence[tuple[str, frozenset[int]]] = (),
    frozen: Frozen | None = None,
) -> tuple[int, float, dict[str, np.ndarray]]:
    """Train; return the best checkpoint (steps, dev MRR@5, arrays) by `score(model)`.

    `units` are labelled units (rendering, lesson columns; none = no lesson applies) trained on
    alongside the mined examples; `frozen` keeps the frozen layers' states between trainings.
    """
    import torch

    torch.manual_seed(seed)
    torch.set_num_threads(os.cpu_count() or 1)
    rng = np.random.default_rng(seed)
    started = time.monotonic()
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
    unit_order = rng.permutation(len(units))
    taken = negatives_taken = units_taken = 0
    # The frozen layers' view of every text a step can draw, once: rows, pairs and units.
    frozen = frozen if frozen is not None else Frozen()
    row_states = frozen.states(model, row_texts)
    pair_texts = [text for text, _ in positives] + list(negatives)
    pair_states = dict(zip(pair_texts, frozen.states(model, pair_texts, PAIR_TOKENS), strict=True))
    unit_states = frozen.states(model, [text for text, _ in units]) if units else []
    log(
        f"frozen layers read {len(row_states) + len(pair_states) + len(unit_states)} texts "
        f"({time.monotonic() - started:.0f} s)"
    )
    best: tuple[int, float, dict[str, np.ndarray]] | None = None
    for step in range(1, max(STEPS) + 1):
        if taken + BATCH > len(order):
            order, taken = rng.permutation(len(positives)), 0
        batch = [positives[i] for i in order[taken : taken + BATCH]]
        taken += BATCH
        count = NEGATIVES_PER_STEP
        if negatives_taken + count > len(negative_order):
            negatives_taken = 0
        negative = [negatives[i] for i in negative_order[negatives_taken : negatives_taken + count]]
        negatives_taken += count
        encoded = [model.upper([row_states[i] for i in chunk]) for chunk in chunks]
        lesson_rows = torch.cat(encoded)[unsort]
        z = model.upper(
            [pair_states[text] for text, _ in batch] + [pair_states[t] for t in negative]
        )
        scores = z @ lesson_rows.T
        per_lesson = scores.unsqueeze(2).masked_fill(~owner_mask.unsqueeze(0), -2.0)
        best_per_lesson = per_lesson.max(dim=1).values
        target = torch.tensor([lesson for _, lesson in batch])
        loss = torch.nn.functional.cross_entropy(
            best_per_lesson[: len(batch)] / TEMPERATURE, target
        )
        worst_negative = best_per_lesson[len(batch) :].max(dim=1).values
        loss = loss + NEGATIVE_WEIGHT * torch.relu(worst_negative - NEGATIVE_MARGIN).mean()
        if units:
            if units_taken + UNIT_BATCH > len(unit_order):
                unit_order, units_taken = rng.permutation(len(units)), 0
            picked = unit_order[units_taken : units_taken + UNIT_BATCH]
            chosen = [units[i] for i in picked]
            units_taken += UNIT_BATCH
            loss = loss + UNIT_WEIGHT * _unit_loss(
                model.upper([unit_states[i] for i in picked]) @ lesson_rows.T,
                owner_mask,
                [lessons for _, lessons in chosen],
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


def _unit_loss(scores: Any, owner_mask: Any, truth: Sequence[frozenset[int]]) -> Any:
    """The loss of labelled units, each read whole.

    A unit's lessons go above the others (softmax over lessons, each of its lessons counting as
    right); a unit that should get nothing is pushed below the negative margin.
    """
    import torch

    best = scores.unsqueeze(2).masked_fill(~owner_mask.unsqueeze(0), -2.0).max(dim=1).values
    terms = []
    for row, lessons in enumerate(truth):
        if lessons:
            logits = best[row] / TEMPERATURE
            right = logits[sorted(lessons)]
            terms.append(torch.logsumexp(logits, 0) - torch.logsumexp(right, 0))
        else:
            terms.append(NEGATIVE_WEIGHT * torch.relu(best[row].max() - NEGATIVE_MARGIN))
    return torch.stack(terms).mean()


def held_out_scores(
    arrays: dict[str, np.ndarray], items: Sequence[Item]
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Per unit id, its lesson and skill cosines as the server scores them.

    `arrays` is a training that held these units out.
    """
    lesson, skill = index_scores(Adapted.from_state(arrays), items, gated=False)
    return {item.id: (lesson[row], skill[row]) for row, item in enumerate(items)}


def write_held_out_scores(head: Path, scores: dict[str, tuple[np.ndarray, np.ndarray]]) -> None:
    """Write, next to the head, the held-out scores the calibration is fitted on.

    The averaged head has seen every development unit and scores them too well;
    `benchmarks/retrieval_eval.py --calibrate` reads these instead.
    """
    ids = sorted(scores)
    np.savez_compressed(
        head.with_name(HELD_OUT_FILE),
        head_sha256=np.array(hashlib.sha256(head.read_bytes()).hexdigest()),
        ids=np.array(ids),
        lessons=np.stack([scores[i][0] for i in ids]),
        skills=np.stack([scores[i][1] for i in ids]),
    )


def folds(items: Sequence[Item], count: int) -> dict[str, int]:
    """Each development unit's fold: round robin within each lesson, so every fold has them all."""
    ordered = sorted(items, key=lambda i: (i.lessons[:1], i.id))
    return {item.id: number % count for number, item in enumerate(ordered)}


def main(argv: Sequence[str] | None = None) -> int:
    from lessonlens.lessons.catalog import load_catalog
    from lessonlens.model_runtime.related import lesson_texts

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_PATH)
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parents[1] / HEAD_FILE)
    parser.add_argument(
        "--mined", type=Path, help="Keep the mined examples in this file and reuse them."
    )
    parser.add_argument(
        "--labelled",
        action="store_true",
        help="Also train on the labelled development units, one fold held out per training.",
    )
    args = parser.parse_args(argv)
    started = time.monotonic()
    items = load_items(args.data)
    dev = [i for i in items if i.split == "dev"]
    catalog = load_catalog([])
    lesson_ids = sorted(catalog.lessons)
    rows = [
        (text, lesson_ids.index(i)) for i in lesson_ids for text in lesson_texts(catalog.lessons[i])
    ]
    if args.mined is not None and args.mined.is_file():
        mined, negatives = json.loads(args.mined.read_text())
        mined = [tuple(pair) for pair in mined]
    else:
        mined, negatives = mine(items)
        if args.mined is not None:
            args.mined.write_text(json.dumps([mined, negatives]))
    positives = [(text, lesson_ids.index(lesson)) for text, lesson in mined]
    print(
        f"mined {len(positives)} examples of {len({lesson for _, lesson in mined})} lessons, "
        f"{len(negatives)} of none"
    )
    trainings = FOLDS if args.labelled else SOUP
    fold = folds(dev, trainings)

    def scorer(held: list[Item]) -> Any:
        truth = [{lesson_ids.index(x) for x in i.lessons} for i in held]
        return lambda model: dev_mrr5(index_scores(model, held)[0], truth)

    frozen = Frozen()
    states = []
    held_out = []
    scores: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for number in range(trainings):
        held = [i for i in dev if i.lessons and (not args.labelled or fold[i.id] == number)]
        labelled = [
            (i.unit.text, frozenset(lesson_ids.index(x) for x in i.lessons))
            for i in dev
            if fold[i.id] != number and args.labelled
        ]
        steps, value, arrays = train(
            rows,
            positives,
            negatives,
            scorer(held),
            seed=SEED + number,
            units=labelled,
            frozen=frozen,
        )
        scored = "held-out dev" if args.labelled else "dev"
        print(f"training {number + 1}/{trainings}: {steps} steps, {scored} MRR@5 {value:.3f}")
        states.append(arrays)
        held_out.append((value, len(held)))
        if args.labelled:
            scores.update(held_out_scores(arrays, [i for i in dev if fold[i.id] == number]))
    averaged = soup(states)
    named: dict[str, Any] = dict(averaged)  # names with "/" in them: keywords only by unpacking
    np.savez_compressed(args.out, **named)
    if args.labelled:
        write_held_out_scores(args.out, scores)
        value = sum(v * n for v, n in held_out) / sum(n for _, n in held_out)
        scored = "on held-out folds"
    else:
        args.out.with_name(HELD_OUT_FILE).unlink(missing_ok=True)  # it was for another head
        value = scorer([i for i in dev if i.lessons])(Adapted.from_state(averaged))
        scored = "of the average"
    print(
        f"wrote {args.out} ({args.out.stat().st_size / 1000:.0f} kB): the average of "
        f"{trainings} training{'s' if trainings > 1 else ''}; dev MRR@5 {scored} {value:.3f} "
        f"({time.monotonic() - started:.0f} s)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
