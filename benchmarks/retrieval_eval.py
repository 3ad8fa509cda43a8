"""Do code units find their lessons, and is the "Related lesson" lens right? BM25 vs the model.

    .venv/bin/python benchmarks/retrieval_eval.py             # figures on Python's test split
    .venv/bin/python benchmarks/retrieval_eval.py --language go   # ... on Go's (or javascript,
                                                  # with TypeScript; typescript; tsx; all)
    .venv/bin/python benchmarks/retrieval_eval.py --calibrate # refit model_runtime/calibration.json

The labelled set is tests/data/related_units.yaml (Python) and related_units_js_go.yaml
(JavaScript, TypeScript and Go). Every unit goes through the product's own path
(`server/related.py`): its code is parsed and analysed, its units and each lesson's
applicability (the lessons' `applies-if` / `satisfied-if` gates) come from `document_units`, and
the model's lens is `LessonIndex.relate` then `lens_for` at the variant's shipped calibration. So
what is measured here is what `check --related` and the editor show.

Calibration (`--calibrate`), per model variant (fp32, int8, fp16), on the development split only:
a logistic curve from cosine to relevance over the (unit, applicable lesson) pairs, and the lens
threshold: the lowest relevance at which the lens's precision on dev reaches `LENS_PRECISION`
(precision first); the hover's list starts where it reaches `LIST_PRECISION`. BM25's thresholds
are fitted on dev likewise. Figures come from the test split only.

One calibration serves every language: it is fitted on Python's development split (the shipped
curve and thresholds), and `--language` reports the chosen language's test split under it, as
the product shows it. `--split dev` reports the chosen language's development split instead:
that is where gates are tuned (the shipped head was trained on Python's dev units, so Python's
dev figures flatter the model).

Printed per system: MRR@5 and recall@3 over units that should get a lesson; the lens's precision
and coverage (the share of units that should get a lesson that get a right lens); lenses on near
misses (units that only resemble a lesson or already follow it: `near_miss` in the set, or the
lesson's `satisfied-if`); skill-tag F1. Then the same restricted to units where no rule fires
(where a rule fires, the product shows the rule's hint and no lens).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lessonlens.lessons.catalog import load_catalog
from lessonlens.lessons.skills import load_skills
from lessonlens.model_runtime.encoder import OnnxEncoder
from lessonlens.model_runtime.related import (
    Calibration,
    LessonIndex,
    embed_units,
    fit_logistic,
    lens_for,
    lesson_texts,
)
from lessonlens.model_runtime.store import ModelUnavailable, model_dir, open_model
from lessonlens.model_runtime.training.evalset import Item, load_items

ROOT = Path(__file__).resolve().parent.parent
CALIBRATION = ROOT / "model_runtime" / "calibration.json"
HEAD = ROOT / "model_runtime" / "head.npz"
HELD_OUT = ROOT / "model_runtime" / "held_out_scores.npz"
VARIANTS = ("fp32", "int8", "fp16")
# The lens shows from the lowest relevance at which its precision on dev reaches this.
LENS_PRECISION = 0.9
# The hover lists lessons from where the best one is right 3 times in 4.
LIST_PRECISION = 0.75
MIN_SHOWN = 10


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

    def lenses(self, items: Sequence[Item], threshold: float) -> list[str | None]:
        lessons, _ = self.scores(items)
        return [
            self.lesson_ids[int(np.argmax(row))] if row.max() >= threshold else None
            for row in lessons
        ]


class Model:
    """One variant of the built model, read through the product's `LessonIndex`."""

    def __init__(
        self, variant: str, calibration: Calibration | None = None, gated: bool = True
    ) -> None:
        self.variant = variant
        self.gated = gated
        self.name = f"model {variant}" + ("" if gated else " ungated")
        self.encoder = OnnxEncoder(open_model(model_dir(), variant))
        catalog = load_catalog([])
        self.index = LessonIndex(
            self.encoder,
            list(catalog.lessons.values()),
            load_skills(),
            calibration or Calibration.load(variant),
        )
        self.lesson_ids, _ = self.index.lesson_cosines(np.zeros((1, self.encoder.dim)))
        self.skill_ids, _ = self.index.skill_cosines(np.zeros((1, self.encoder.dim)))
        self._vectors: dict[str, np.ndarray] = {}

    def vectors(self, items: Sequence[Item]) -> list[np.ndarray]:
        missing = [i for i in items if i.id not in self._vectors]
        if missing:
            for item, vectors in zip(
                missing, embed_units(self.encoder.embed, [i.unit for i in missing]), strict=True
            ):
                self._vectors[item.id] = vectors
        return [self._vectors[i.id] for i in items]

    def scores(self, items: Sequence[Item]) -> tuple[np.ndarray, np.ndarray]:
        """Cosines per unit and lesson (-1 where the lesson's gates rule it out), and per skill."""
        verdicts = [i.verdicts for i in items] if self.gated else None
        return self.index.gated_scores(self.vectors(items), verdicts)

    def dev_scores(self, items: Sequence[Item]) -> tuple[np.ndarray, np.ndarray]:
        """Scores to fit the calibration on: held out from the head's training where it saw them.

        A head trained on the development units (train_head.py --labelled, one fold held out
        per training) leaves each unit's scores from the training that did not see it; the
        shipped head's own scores of those units are too good to set a threshold by.
        """
        if self.variant != "fp32" or not HELD_OUT.is_file():
            return self.scores(items)
        data = np.load(HELD_OUT)
        if str(data["head_sha256"]) != hashlib.sha256(HEAD.read_bytes()).hexdigest():
            print(f"{HELD_OUT.name} is for another head: retrain or delete it", file=sys.stderr)
            return self.scores(items)
        row = {str(unit_id): number for number, unit_id in enumerate(data["ids"])}
        lessons = data["lessons"][[row[i.id] for i in items]]
        if self.gated:
            for r, item in enumerate(items):
                for c, lesson_id in enumerate(self.lesson_ids):
                    verdict = item.verdicts.get(lesson_id)
                    if verdict is not None and not verdict.allowed:
                        lessons[r, c] = -1.0
        return lessons, data["skills"][[row[i.id] for i in items]]

    def lenses(self, items: Sequence[Item], threshold: float | None = None) -> list[str | None]:
        """The lens each unit shows, exactly as the product decides it (rules aside)."""
        cal = self.index.calibration
        limit = cal.lens_threshold if threshold is None else threshold
        relations = self.index.relate(
            [i.unit for i in items],
            self.vectors(items),
            verdicts=[i.verdicts for i in items] if self.gated else None,
        )
        out = []
        for relation in relations:
            lens = lens_for(relation, limit, [])
            out.append(lens.lesson_id if lens is not None else None)
        return out


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
    return float(np.mean(values)) if values else 0.0


def recall_at(ranked: list[list[str]], items: Sequence[Item], k: int) -> float:
    values = [
        len(set(order[:k]) & set(item.lessons)) / len(item.lessons)
        for order, item in zip(ranked, items, strict=True)
        if item.lessons
    ]
    return float(np.mean(values)) if values else 0.0


@dataclass
class LensFigures:
    shown: int
    right: int
    wanted: int  # units that should get a lesson
    near_miss_lenses: int  # lenses naming a lesson the unit only resembles or already follows
    follows_lenses: int  # of those, lenses naming a lesson whose satisfied-if gate holds

    @property
    def precision(self) -> float:
        return self.right / self.shown if self.shown else 1.0

    @property
    def coverage(self) -> float:
        return self.right / self.wanted if self.wanted else 0.0


def lens_figures(lenses: Sequence[str | None], items: Sequence[Item]) -> LensFigures:
    shown = right = near = follows = 0
    for lesson, item in zip(lenses, items, strict=True):
        if lesson is None:
            continue
        shown += 1
        right += lesson in item.lessons
        near += lesson in item.near_miss or lesson in item.followed
        follows += lesson in item.followed
    return LensFigures(shown, right, sum(1 for i in items if i.lessons), near, follows)


def top_lenses(scores: np.ndarray, ids: Sequence[str], threshold: float) -> list[str | None]:
    return [ids[int(np.argmax(row))] if row.max() >= threshold else None for row in scores]


def lowest_precise_threshold(
    values: np.ndarray,
    lenses_at: Callable[[float], Sequence[str | None]],
    items: Sequence[Item],
    target: float = LENS_PRECISION,
) -> float:
    """The lowest threshold at which the lens's precision on ``items`` reaches ``target``.

    Only thresholds that show at least MIN_SHOWN lenses count: above them, one unit decides.
    """
    candidates = sorted(set(np.round(values[values > 0].ravel(), 4).tolist()))
    for t in candidates:
        figures = lens_figures(lenses_at(t), items)
        if figures.shown >= MIN_SHOWN and figures.precision >= target:
            return float(t)
    return float(candidates[-1] + 1e-4) if candidates else 1.0


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
    lens: LensFigures
    quiet_lens: LensFigures  # units where no rule fires
    quiet_mrr5: float
    skill_f1: float


def evaluate(system: Bm25 | Model, dev: list[Item], test: list[Item]) -> Figures:
    if isinstance(system, Model):
        dev_skills = system.dev_scores(dev)[1]
        lenses = system.lenses(test)
        skill_t = system.index.calibration.skill_threshold
        skill_a, skill_b = system.index.calibration.skill_a, system.index.calibration.skill_b
        skill_p = 1 / (1 + np.exp(-(skill_a * system.scores(test)[1] + skill_b)))
        f1 = skill_f1(skill_p, system.skill_ids, test, skill_t)
    else:
        dev_lessons, dev_skills = system.scores(dev)
        lens_t = lowest_precise_threshold(
            dev_lessons.max(axis=1),
            lambda t: top_lenses(dev_lessons, system.lesson_ids, t),
            dev,
        )
        skill_t = best_threshold(
            dev_skills, lambda t: skill_f1(dev_skills, system.skill_ids, dev, t)
        )
        lenses = system.lenses(test, lens_t)
        f1 = skill_f1(system.scores(test)[1], system.skill_ids, test, skill_t)
    lessons, _ = system.scores(test)
    ranked = ranks(lessons, system.lesson_ids)
    quiet = [n for n, item in enumerate(test) if not item.rules]
    return Figures(
        system.name,
        mrr_at(ranked, test, 5),
        recall_at(ranked, test, 3),
        lens_figures(lenses, test),
        lens_figures([lenses[n] for n in quiet], [test[n] for n in quiet]),
        mrr_at([ranked[n] for n in quiet], [test[n] for n in quiet], 5),
        f1,
    )


def calibrate(model: Model, dev: list[Item]) -> Calibration:
    """Fit one variant's curves and thresholds (model_runtime/calibration.json) on dev."""
    lessons, skills = model.dev_scores(dev)
    applicable = lessons > -1.0
    x = lessons[applicable].tolist()
    truth = np.array([[lid in item.lessons for lid in model.lesson_ids] for item in dev])
    lesson_a, lesson_b = fit_logistic(x, truth[applicable].astype(int).tolist())
    sx = skills.ravel().tolist()
    sy = [int(sid in item.skills) for item in dev for sid in model.skill_ids]
    skill_a, skill_b = fit_logistic(sx, sy)

    def prob(a: float, b: float, values: np.ndarray) -> np.ndarray:
        return np.asarray(1 / (1 + np.exp(-(a * values + b))))

    lesson_p = np.where(applicable, prob(lesson_a, lesson_b, lessons), 0.0)
    skill_p = prob(skill_a, skill_b, skills)
    lens_t = lowest_precise_threshold(
        lesson_p.max(axis=1), lambda t: top_lenses(lesson_p, model.lesson_ids, t), dev
    )
    list_t = lowest_precise_threshold(
        lesson_p.max(axis=1),
        lambda t: top_lenses(lesson_p, model.lesson_ids, t),
        dev,
        LIST_PRECISION,
    )
    skill_t = best_threshold(skill_p, lambda t: skill_f1(skill_p, model.skill_ids, dev, t))
    return Calibration(
        lesson_a=round(lesson_a, 4),
        lesson_b=round(lesson_b, 4),
        lens_threshold=round(lens_t, 4),
        list_threshold=round(min(lens_t, list_t), 4),
        skill_a=round(skill_a, 4),
        skill_b=round(skill_b, 4),
        skill_threshold=round(skill_t, 4),
    )


def in_language(item: Item, language: str) -> bool:
    """Whether ``item`` is reported under ``--language``: its language, or its lessons' language
    (``javascript`` takes TypeScript and TSX too), or ``all``."""
    return language in ("all", item.language, item.lesson_language)


def _models(variants: Sequence[str], calibrations: Mapping[str, Calibration]) -> list[Model]:
    out = []
    for variant in variants:
        try:
            out.append(Model(variant, calibrations.get(variant)))
        except (ModelUnavailable, Exception) as exc:  # fp16 needs a provider that runs it
            print(f"model {variant}: not evaluated ({exc})", file=sys.stderr)
    return out


def _row(name: str, mrr5: float, recall3: float, lens: LensFigures, f1: str) -> str:
    return (
        f"{name:20} {mrr5:7.3f} {recall3:9.3f} {lens.precision:10.3f} {lens.coverage:9.3f} "
        f"{lens.right:>4}/{lens.shown:<4} {lens.near_miss_lenses:>11} {lens.follows_lenses:>7} "
        f"{f1:>9}"
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--calibrate", action="store_true", help="Refit calibration.json for every variant."
    )
    parser.add_argument("--variants", default=",".join(VARIANTS), help="Model variants.")
    parser.add_argument(
        "--language",
        default="python",
        help="Report on this language's units: python (the default), javascript (TypeScript "
        "included), typescript, tsx, go, or all.",
    )
    parser.add_argument(
        "--split",
        choices=("test", "dev"),
        default="test",
        help="The split reported (dev: for tuning gates; figures come from test).",
    )
    args = parser.parse_args(argv)
    items = load_items()
    known = sorted({i.language for i in items} | {i.lesson_language for i in items})
    if args.language != "all" and args.language not in known:
        parser.error(f"--language: one of {', '.join(known)} or all")
    # Calibration and BM25's thresholds: fitted on Python's development split, for every language.
    dev = [i for i in items if i.split == "dev" and i.language == "python"]
    chosen = [i for i in items if in_language(i, args.language)]
    test = [i for i in chosen if i.split == args.split]
    empty = [i for i in test if not i.lessons]
    print(
        f"{len(chosen)} {args.language} units: "
        f"{sum(1 for i in chosen if i.split == 'dev')} dev, "
        f"{sum(1 for i in chosen if i.split == 'test')} test. Reported: {args.split}, "
        f"{len(test)} units ({len(test) - len(empty)} with lessons, "
        f"{sum(1 for i in empty if i.near_miss)} near misses, "
        f"{sum(1 for i in empty if not i.near_miss)} ordinary; "
        f"{sum(1 for i in test if not i.rules)} where no rule fires). "
        f"Calibrated on {len(dev)} Python dev units."
    )
    variants = [v for v in args.variants.split(",") if v]
    calibrations: dict[str, Calibration] = {}
    if args.calibrate:
        for model in _models(variants, {}):
            calibrations[model.variant] = calibrate(model, dev)
            print(f"{model.variant}: {calibrations[model.variant]}")
        stored = {v: c.__dict__ for v, c in calibrations.items()}
        CALIBRATION.write_text(json.dumps(stored, indent=2) + "\n")
        print(f"wrote {CALIBRATION}")
    systems: list[Bm25 | Model] = [Bm25()]
    models = _models(variants, calibrations)
    systems += models
    if models:
        systems.append(Model(models[0].variant, calibrations.get(models[0].variant), gated=False))
    rows = [evaluate(system, dev, test) for system in systems]
    header = (
        f"{'system':20} {'MRR@5':>7} {'recall@3':>9} {'lens prec':>10} {'lens cov':>9} "
        f"{'right/shown':>11} {'near misses':>11} {'follows':>7} {'skill F1':>9}"
    )
    split = args.split.capitalize()
    print(f"\n{split} split, every unit (the lens as if no rule fired):")
    print(header)
    for f in rows:
        print(_row(f.name, f.mrr5, f.recall3, f.lens, f"{f.skill_f1:.3f}"))
    print(f"\n{split} split, units where no rule fires (where the lens is what the product shows):")
    print(header)
    for f in rows:
        print(_row(f.name, f.quiet_mrr5, float("nan"), f.quiet_lens, ""))
    print(
        "\nnear misses = lenses naming a lesson the unit only resembles or already follows "
        "(near_miss labels, satisfied-if gates); follows = of those, lenses on a unit that "
        "already follows the lesson (its satisfied-if gate holds); lens thresholds: "
        + ", ".join(f"{m.variant} {m.index.calibration.lens_threshold:.3f}" for m in models)
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
