"""How well do code units find their lessons and skills? BM25 against the model (fp32, int8).

    .venv/bin/python benchmarks/retrieval_eval.py             # figures on the test split
    .venv/bin/python benchmarks/retrieval_eval.py --calibrate # refit model_runtime/calibration.json

The labelled set is tests/data/related_units.yaml. Every system gets its thresholds from the
development split (the lens threshold maximises F0.5, a precision-leaning F score, over units that
should get a lesson or nothing; the skill threshold maximises F1); the figures come from the test
split only. Each unit goes through the same renderer the product uses (analyzers' code units).
Where the head was trained on the development units (model_runtime/train_head.py), the model's
thresholds and calibration are fitted on each unit's scores from the training that held it out
(model_runtime/held_out_scores.npz), not on the shipped head's own scores of units it has seen.

Printed per system: MRR@5 and recall@3 over units that should get a lesson, precision and
coverage of the "Related lesson" code lens at its threshold, and micro F1 of skill tags.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lessonlens.lessons.catalog import load_catalog, load_skills
from lessonlens.model_runtime.encoder import OnnxEncoder
from lessonlens.model_runtime.evalset import Item, load_items
from lessonlens.model_runtime.store import model_dir, open_model
from lessonlens.server.related import (
    Calibration,
    LessonIndex,
    embed_units,
    fit_logistic,
    lesson_texts,
)

ROOT = Path(__file__).resolve().parent.parent
CALIBRATION = ROOT / "model_runtime" / "calibration.json"
HEAD = ROOT / "model_runtime" / "head.npz"
HELD_OUT = ROOT / "model_runtime" / "held_out_scores.npz"


# ----------------------------------------------------------------------------- scoring systems

_WORD = re.compile(r"[A-Za-z][a-z]+|[A-Z]+(?![a-z])|\d+")


def tokens(text: str) -> list[str]:
    """Identifiers split at snake and camel case, lower-cased: `maxCount_2` -> max, count, 2."""
    return [w.lower() for w in _WORD.findall(text)]


class Bm25:
    name = "BM25"

    def __init__(self) -> None:
        from rank_bm25 import BM25Okapi

        catalog = load_catalog([])
        self.lesson_ids = sorted(catalog.lessons)
        docs = [
            tokens(" ".join([*lesson_texts(catalog.lessons[i]), catalog.lessons[i].body]))
            for i in self.lesson_ids
        ]
        self._lessons = BM25Okapi(docs)
        skills = {k: v for k, v in load_skills().items() if v.parent is not None}
        self.skill_ids = sorted(skills)
        skill_docs = []
        for skill_id in self.skill_ids:
            text = f"{skills[skill_id].name} {skills[skill_id].description}"
            text += " ".join(
                " ".join(lesson_texts(lesson))
                for lesson in catalog.lessons.values()
                if lesson.skill_id == skill_id
            )
            skill_docs.append(tokens(text))
        self._skills = BM25Okapi(skill_docs)

    def scores(self, items: Sequence[Item]) -> tuple[np.ndarray, np.ndarray]:
        lesson = np.array([self._lessons.get_scores(tokens(i.unit.text)) for i in items])
        skill = np.array([self._skills.get_scores(tokens(i.unit.text)) for i in items])
        return lesson, skill


class Model:
    def __init__(self, variant: str, calibration: Calibration | None = None) -> None:
        self.name = f"model {variant}"
        self.encoder = OnnxEncoder(open_model(model_dir(), variant))
        catalog = load_catalog([])
        self.index = LessonIndex(
            self.encoder, list(catalog.lessons.values()), load_skills(), calibration
        )
        self.lesson_ids, _ = self.index.lesson_cosines(np.zeros((1, self.encoder.dim)))
        self.skill_ids, _ = self.index.skill_cosines(np.zeros((1, self.encoder.dim)))

    def scores(self, items: Sequence[Item]) -> tuple[np.ndarray, np.ndarray]:
        vectors = embed_units(self.encoder.embed, [i.unit for i in items])
        return self.index.unit_scores(vectors)

    def dev_scores(self, items: Sequence[Item]) -> tuple[np.ndarray, np.ndarray]:
        """Scores to fit thresholds on: held out from the head's training where it saw them.

        A head trained on the development units (train_head.py, one fold held out per
        training) leaves each unit's scores from the training that did not see it; the shipped
        head's own scores of those units are too good to set a threshold by.
        """
        if not HELD_OUT.is_file():
            return self.scores(items)
        data = np.load(HELD_OUT)
        if str(data["head_sha256"]) != hashlib.sha256(HEAD.read_bytes()).hexdigest():
            print(f"{HELD_OUT.name} is for another head: retrain or delete it", file=sys.stderr)
            return self.scores(items)
        row = {str(unit_id): number for number, unit_id in enumerate(data["ids"])}
        picked = [row[i.id] for i in items]
        return data["lessons"][picked], data["skills"][picked]


# ----------------------------------------------------------------------------- metrics


def ranks(scores: np.ndarray, ids: Sequence[str]) -> list[list[str]]:
    return [[ids[j] for j in np.argsort(-row, kind="stable")] for row in scores]


def mrr_at(ranked: list[list[str]], items: Sequence[Item], k: int) -> float:
    values = []
    for order, item in zip(ranked, items, strict=True):
        if not item.lessons:
            continue
        rr = 0.0
        for pos, lesson in enumerate(order[:k], start=1):
            if lesson in item.lessons:
                rr = 1.0 / pos
                break
        values.append(rr)
    return float(np.mean(values))


def recall_at(ranked: list[list[str]], items: Sequence[Item], k: int) -> float:
    values = [
        len(set(order[:k]) & set(item.lessons)) / len(item.lessons)
        for order, item in zip(ranked, items, strict=True)
        if item.lessons
    ]
    return float(np.mean(values))


def lens(
    scores: np.ndarray, ids: Sequence[str], items: Sequence[Item], threshold: float
) -> tuple[float, float, float]:
    """Precision, coverage (share of units with lessons that get a right lens) and F0.5."""
    shown = right = 0
    for row, item in zip(scores, items, strict=True):
        best = int(np.argmax(row))
        if row[best] >= threshold:
            shown += 1
            right += ids[best] in item.lessons
    wanted = sum(1 for i in items if i.lessons)
    precision = right / shown if shown else 1.0
    coverage = right / wanted if wanted else 0.0
    beta2 = 0.25
    denominator = beta2 * precision + coverage
    f05 = (1 + beta2) * precision * coverage / denominator if denominator else 0.0
    return precision, coverage, f05


def skill_f1(
    scores: np.ndarray, ids: Sequence[str], items: Sequence[Item], threshold: float
) -> float:
    tp = fp = fn = 0
    for row, item in zip(scores, items, strict=True):
        tagged = {ids[j] for j in np.flatnonzero(row >= threshold)}
        truth = set(item.skills)
        tp += len(tagged & truth)
        fp += len(tagged - truth)
        fn += len(truth - tagged)
    return 2 * tp / (2 * tp + fp + fn) if tp else 0.0


def best_threshold(values: np.ndarray, objective: Callable[[float], float]) -> float:
    candidates = np.unique(np.round(values.ravel(), 4))
    if len(candidates) > 400:
        candidates = np.quantile(values.ravel(), np.linspace(0.5, 0.999, 400))
    return float(max(candidates, key=objective))


@dataclass
class Figures:
    name: str
    mrr5: float
    recall3: float
    lens_precision: float
    lens_coverage: float
    skill_f1: float
    lens_threshold: float
    skill_threshold: float


def evaluate(system: Bm25 | Model, dev: list[Item], test: list[Item]) -> Figures:
    dev_lessons, dev_skills = (
        system.dev_scores(dev) if isinstance(system, Model) else system.scores(dev)
    )
    lens_t = best_threshold(
        dev_lessons.max(axis=1), lambda t: lens(dev_lessons, system.lesson_ids, dev, t)[2]
    )
    skill_t = best_threshold(dev_skills, lambda t: skill_f1(dev_skills, system.skill_ids, dev, t))
    lessons, skills = system.scores(test)
    ranked = ranks(lessons, system.lesson_ids)
    precision, coverage, _ = lens(lessons, system.lesson_ids, test, lens_t)
    return Figures(
        system.name,
        mrr_at(ranked, test, 5),
        recall_at(ranked, test, 3),
        precision,
        coverage,
        skill_f1(skills, system.skill_ids, test, skill_t),
        lens_t,
        skill_t,
    )


def calibrate(model: Model, dev: list[Item]) -> Calibration:
    """Fit the logistic curves and thresholds that ship in model_runtime/calibration.json."""
    lessons, skills = model.dev_scores(dev)
    x = lessons.ravel().tolist()
    y = [int(lid in item.lessons) for item in dev for lid in model.lesson_ids]
    lesson_a, lesson_b = fit_logistic(x, y)
    sx = skills.ravel().tolist()
    sy = [int(sid in item.skills) for item in dev for sid in model.skill_ids]
    skill_a, skill_b = fit_logistic(sx, sy)

    def prob(a: float, b: float, values: np.ndarray) -> np.ndarray:
        return np.asarray(1 / (1 + np.exp(-(a * values + b))))

    lesson_p = prob(lesson_a, lesson_b, lessons)
    skill_p = prob(skill_a, skill_b, skills)
    lens_t = best_threshold(
        lesson_p.max(axis=1), lambda t: lens(lesson_p, model.lesson_ids, dev, t)[2]
    )
    skill_t = best_threshold(skill_p, lambda t: skill_f1(skill_p, model.skill_ids, dev, t))
    return Calibration(
        lesson_a=round(lesson_a, 4),
        lesson_b=round(lesson_b, 4),
        lens_threshold=round(lens_t, 4),
        list_threshold=round(min(lens_t, 0.5 * lens_t + 0.5 * float(np.median(lesson_p))), 4),
        skill_a=round(skill_a, 4),
        skill_b=round(skill_b, 4),
        skill_threshold=round(skill_t, 4),
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--calibrate", action="store_true", help="Refit calibration.json (fp32).")
    args = parser.parse_args(argv)
    items = load_items()
    dev = [i for i in items if i.split == "dev"]
    test = [i for i in items if i.split == "test"]
    print(f"{len(items)} units: {len(dev)} dev, {len(test)} test")
    if args.calibrate:
        cal = calibrate(Model("fp32"), dev)
        CALIBRATION.write_text(json.dumps(cal.__dict__, indent=2) + "\n")
        print(f"wrote {CALIBRATION}: {cal}")
    rows = [evaluate(system, dev, test) for system in (Bm25(), Model("fp32"), Model("int8"))]
    print(
        f"{'system':12} {'MRR@5':>7} {'recall@3':>9} {'lens prec':>10} {'lens cov':>9} "
        f"{'skill F1':>9}"
    )
    for f in rows:
        print(
            f"{f.name:12} {f.mrr5:7.3f} {f.recall3:9.3f} {f.lens_precision:10.3f} "
            f"{f.lens_coverage:9.3f} {f.skill_f1:9.3f}"
        )
    bm25, fp32, int8 = rows
    print(
        f"fp32 MRR@5 above BM25: {fp32.mrr5 - bm25.mrr5:+.3f}; "
        f"int8 - fp32: {int8.mrr5 - fp32.mrr5:+.3f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
