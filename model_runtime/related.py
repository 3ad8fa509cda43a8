"""Contextual lessons and skill tags from the sentence encoder.

Rules find anti-patterns; this finds the lessons that matter where no rule fires. Every lesson
(built-in or a team's) is embedded once per catalog version as a few rows of one matrix: its title
and summary, its "before" example (the code a developer would be writing when it applies) and its
situations (short snippets of other code where it applies). A code unit's relevance to a lesson is
its cosine with the lesson's best row, averaged over the unit's two best texts (`over_texts`),
mapped through a calibrated logistic curve (fitted on
the development split of tests/data/related_units.yaml by benchmarks/retrieval_eval.py --calibrate)
to a probability. Ranking multiplies that by (1 - mastery) and the team's priority weight, so what
the developer already knows, or the team does not care about, sinks.

Skills are tagged the same way against rows made of each skill's name and description and its
lessons' rows.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import logging
import math
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import platformdirs

from lessonlens.analyzers.facade import Analysed, code_units
from lessonlens.analyzers.languages import LanguageSpec, language_for_id
from lessonlens.analyzers.model import CodeUnit
from lessonlens.analyzers.windows import line_pairs
from lessonlens.lessons.lesson import Lesson
from lessonlens.lessons.skills import Skill
from lessonlens.model_runtime.applicability import Applicability, Verdict
from lessonlens.model_runtime.encoder import (
    BatchingEncoder,
    CachedEncoder,
    Encoder,
    default_threads,
    load_encoder,
)
from lessonlens.model_runtime.store import ModelUnavailable

log = logging.getLogger(__name__)

PRIORITY_WEIGHT = {"high": 1.0, "medium": 0.8, "low": 0.5, "none": 0.0}


@dataclass(frozen=True)
class Calibration:
    """relevance = sigmoid(a * cosine + b); thresholds are on that probability."""

    lesson_a: float = 20.0
    lesson_b: float = -10.0
    # A "Related lesson" code lens needs this relevance: chosen for precision on the dev split.
    lens_threshold: float = 0.6
    # Hover and `check --related` list lessons from this relevance.
    list_threshold: float = 0.4
    skill_a: float = 20.0
    skill_b: float = -10.0
    skill_threshold: float = 0.5

    @classmethod
    def load(cls, variant: str | None = None) -> Calibration:
        """The committed calibration of a model variant (fp32, int8, fp16); defaults without one.

        Each variant scores a little differently (int8 rounds the weights), so each has its own
        curve and thresholds, fitted on the development split (benchmarks/retrieval_eval.py).
        """
        try:
            data = json.loads(
                resources.files("lessonlens.model_runtime").joinpath("calibration.json").read_text()
            )
        except (FileNotFoundError, ValueError):
            return cls()
        if not isinstance(data, dict):
            return cls()
        # One entry per variant; a flat file (one calibration for all) is read as it is.
        entry = data if "lesson_a" in data else data.get(variant or "fp32", data.get("fp32", {}))
        if not isinstance(entry, dict):
            return cls()
        known = {
            k: float(v)
            for k, v in entry.items()
            if k in cls.__dataclass_fields__ and isinstance(v, int | float)
        }
        return cls(**known)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return np.asarray(1.0 / (1.0 + np.exp(-x)), dtype=np.float32)


def lesson_texts(lesson: Lesson) -> list[str]:
    """The rows a lesson contributes to the matrix: what it is about, and the code it is about.

    Its title and summary match units by topic (a team's lesson about its own client library);
    its "before" example, whole and as pairs of lines, matches the idiom where it appears; its
    `situations` (other short snippets of code where it applies, in other shapes and domains)
    match the idiom where the example's own names and shape are far from the unit's.
    """
    texts = [f"{lesson.title}. {lesson.summary}"]
    before = lesson.example.before.strip()
    if before:
        texts.append(before)
        spec = language_for_id(lesson.language)
        texts.extend(line_pairs(before, spec.line_comments if spec is not None else ()))
    texts.extend(lesson.situations)
    return list(dict.fromkeys(texts))


def unit_texts(unit: CodeUnit) -> list[str]:
    """What the model reads of a unit: the whole rendering, then its line pairs."""
    return [unit.text, *unit.windows]


def embed_units(
    embed: Callable[[list[str]], np.ndarray], units: Sequence[CodeUnit]
) -> list[np.ndarray]:
    """The embeddings of each unit's texts, from one call for all of them (shared batches)."""
    groups = [unit_texts(u) for u in units]
    flat = embed([t for group in groups for t in group])
    bounds = np.cumsum([0] + [len(group) for group in groups])
    return [flat[a:b] for a, b in itertools.pairwise(bounds)]


def skill_texts(skill: Skill) -> list[str]:
    return [f"{skill.name}. {skill.description}"]


@dataclass(frozen=True)
class RelatedLesson:
    lesson_id: str
    title: str
    cosine: float
    relevance: float  # calibrated probability that the lesson fits the unit
    score: float  # relevance x (1 - mastery) x priority weight
    # Why: the unit's line pair closest to the lesson, and the code that made the lesson
    # applicable (what its `applies-if` gate matched), when it has one.
    matched: str = ""
    because: str = ""


@dataclass(frozen=True)
class SkillTag:
    skill_id: str
    confidence: float


@dataclass(frozen=True)
class UnitRelations:
    unit: CodeUnit
    lessons: tuple[RelatedLesson, ...]  # above the list threshold, best score first
    skills: tuple[SkillTag, ...]  # above the skill threshold, most confident first

    def lens(self, threshold: float) -> RelatedLesson | None:
        confident = [r for r in self.lessons if r.relevance >= threshold and r.score > 0]
        return confident[0] if confident else None


class LessonIndex:
    """Lesson and skill embeddings for one catalog and one model, as two matrices."""

    def __init__(
        self,
        encoder: Encoder,
        lessons: Sequence[Lesson],
        skills: Mapping[str, Skill],
        calibration: Calibration | None = None,
    ):
        self.calibration = calibration or Calibration.load()
        self.lessons = {lesson.id: lesson for lesson in lessons}
        rows: list[str] = []
        owners: list[str] = []
        for lesson in lessons:
            for text in lesson_texts(lesson):
                rows.append(text)
                owners.append(lesson.id)
        skill_rows: list[str] = []
        skill_owners: list[str] = []
        for skill_id, skill in skills.items():
            if skill.parent is None:
                continue  # the root ("Python") says nothing about a unit
            for text in skill_texts(skill):
                skill_rows.append(text)
                skill_owners.append(skill_id)
        matrix = encoder.embed(rows + skill_rows)
        self._lesson_matrix = matrix[: len(rows)]
        self._lesson_owners = owners
        self._lesson_ids = sorted(set(owners))
        # A skill is also described by its lessons: their rows count for it.
        self._skill_matrix = np.vstack([matrix[len(rows) :], self._lesson_matrix])
        self._skill_owners = skill_owners + [self.lessons[o].skill_id for o in owners]
        self._skill_ids = sorted(set(self._skill_owners))
        self.version = hashlib.sha256(
            "\n".join([encoder.identity, *rows, *skill_rows]).encode()
        ).hexdigest()[:16]

    def lesson_cosines(self, vectors: np.ndarray) -> tuple[list[str], np.ndarray]:
        """Best cosine of each unit (row) against each lesson (column)."""
        return self._lesson_ids, _best_per_owner(
            vectors @ self._lesson_matrix.T, self._lesson_owners, self._lesson_ids
        )

    def skill_cosines(self, vectors: np.ndarray) -> tuple[list[str], np.ndarray]:
        return self._skill_ids, _best_per_owner(
            vectors @ self._skill_matrix.T, self._skill_owners, self._skill_ids
        )

    def gated_scores(
        self,
        vectors: Sequence[np.ndarray],
        verdicts: Sequence[Mapping[str, Verdict]] | None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """`unit_scores`, with -1 for every lesson a unit's verdicts rule out."""
        lesson_cos, skill_cos = self.unit_scores(vectors)
        if verdicts is not None:
            for row, allowed in enumerate(verdicts):
                for col, lesson_id in enumerate(self._lesson_ids):
                    verdict = allowed.get(lesson_id)
                    if verdict is not None and not verdict.allowed:
                        lesson_cos[row, col] = -1.0
        return lesson_cos, skill_cos

    def unit_scores(self, vectors: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        """Cosine per unit and lesson, and per unit and skill, over each unit's texts."""
        lesson_cos = np.full((len(vectors), len(self._lesson_ids)), -1.0, dtype=np.float32)
        skill_cos = np.full((len(vectors), len(self._skill_ids)), -1.0, dtype=np.float32)
        for row, unit_vectors in enumerate(vectors):
            if len(unit_vectors):
                lesson_cos[row] = over_texts(self.lesson_cosines(unit_vectors)[1])
                skill_cos[row] = over_texts(self.skill_cosines(unit_vectors)[1])
        return lesson_cos, skill_cos

    def relate(
        self,
        units: Sequence[CodeUnit],
        vectors: Sequence[np.ndarray],
        mastery: Callable[[str], float] = lambda _skill: 0.0,
        priority: Callable[[str], str] = lambda _skill: "medium",
        verdicts: Sequence[Mapping[str, Verdict]] | None = None,
    ) -> list[UnitRelations]:
        """`vectors[i]` holds the embeddings of `unit_texts(units[i])`.

        With ``verdicts`` (from `applicability.Applicability`), a lesson whose ingredients the
        unit lacks, or that the unit already follows, is never related to it.
        """
        cal = self.calibration
        lesson_ids, skill_ids = self._lesson_ids, self._skill_ids
        lesson_cos, skill_cos = self.gated_scores(vectors, verdicts)
        relevance = _sigmoid(cal.lesson_a * lesson_cos + cal.lesson_b)
        confidence = _sigmoid(cal.skill_a * skill_cos + cal.skill_b)
        weights = {}
        for lesson_id in lesson_ids:
            skill_id = self.lessons[lesson_id].skill_id
            weights[lesson_id] = (1.0 - mastery(skill_id)) * PRIORITY_WEIGHT.get(
                priority(skill_id), 0.8
            )
        out: list[UnitRelations] = []
        for row, unit in enumerate(units):
            texts = unit_texts(unit)
            per_text = self.lesson_cosines(vectors[row])[1] if len(vectors[row]) else None
            related = []
            for col, lesson_id in enumerate(lesson_ids):
                if relevance[row, col] < cal.list_threshold:
                    continue
                matched = ""
                if per_text is not None and len(per_text) == len(texts) > 1:
                    # The line pair closest to the lesson (the whole unit is texts[0]).
                    matched = texts[1 + int(np.argmax(per_text[1:, col]))]
                verdict = verdicts[row].get(lesson_id) if verdicts is not None else None
                because = verdict.code if verdict is not None else ""
                related.append(
                    RelatedLesson(
                        lesson_id,
                        self.lessons[lesson_id].title,
                        float(lesson_cos[row, col]),
                        float(relevance[row, col]),
                        float(relevance[row, col]) * weights[lesson_id],
                        matched,
                        because,
                    )
                )
            related.sort(key=lambda r: (-r.score, -r.relevance, r.lesson_id))
            tags = [
                SkillTag(skill_id, float(confidence[row, col]))
                for col, skill_id in enumerate(skill_ids)
                if confidence[row, col] >= cal.skill_threshold
            ]
            tags.sort(key=lambda t: (-t.confidence, t.skill_id))
            out.append(UnitRelations(unit, tuple(related), tuple(tags)))
        return out


def over_texts(per_text: np.ndarray) -> np.ndarray:
    """A unit's cosine per lesson (column) from its texts' (rows): the mean of the best two.

    Every line of a unit is in two overlapping line pairs, and in the unit's whole text, so an
    idiom that is really there matches in two texts at least. A pair that matches alone is often
    a coincidence of its other line (`if key not in table` next to a list literal); on the
    development split, the best two scored higher MRR@5 than the best one for every head tried.
    """
    if len(per_text) < 2:
        return np.asarray(per_text.max(axis=0))
    return np.asarray(np.partition(per_text, -2, axis=0)[-2:].mean(axis=0))


def _best_per_owner(scores: np.ndarray, owners: Sequence[str], ids: Sequence[str]) -> np.ndarray:
    best = np.full((scores.shape[0], len(ids)), -1.0, dtype=np.float32)
    column = {owner: i for i, owner in enumerate(ids)}
    for j, owner in enumerate(owners):
        col = column[owner]
        np.maximum(best[:, col], scores[:, j], out=best[:, col])
    return best


def fit_logistic(x: Sequence[float], y: Sequence[int], iterations: int = 50) -> tuple[float, float]:
    """One-feature logistic regression by Newton's method (a tiny ridge keeps it finite)."""
    xs = np.asarray(x, dtype=np.float64)
    ys = np.asarray(y, dtype=np.float64)
    a, b = 1.0, 0.0
    for _ in range(iterations):
        p = 1.0 / (1.0 + np.exp(-(a * xs + b)))
        w = p * (1 - p) + 1e-9
        grad = np.array([np.sum((p - ys) * xs) + 1e-3 * a, np.sum(p - ys)])
        hess = np.array([[np.sum(w * xs * xs) + 1e-3, np.sum(w * xs)], [np.sum(w * xs), np.sum(w)]])
        step = np.linalg.solve(hess, grad)
        a, b = a - float(step[0]), b - float(step[1])
        if not (math.isfinite(a) and math.isfinite(b)):
            raise ValueError("logistic fit diverged (the classes are separable?)")
    return a, b


def embedding_cache_dir() -> Path:
    return Path(platformdirs.user_cache_dir("lessonlens")) / "embeddings"


class ModelService:
    """The encoder as the product uses it: loaded once, batched, cached, never required.

    `load()` is blocking and is called off the editor's event loop; until it finishes (and
    forever, if the model is missing or broken) `ready` is false and every caller carries on
    with rules, lessons and progress alone. `message` says why the model is not there.
    """

    def __init__(
        self,
        device: str = "auto",
        folder: Path | None = None,
        cache_dir: Path | None = None,
        loader: Callable[[str, Path | None], Encoder] | None = None,
        interactive: bool = False,
    ):
        self.device = device
        self.folder = folder
        self.cache_dir = cache_dir if cache_dir is not None else embedding_cache_dir()
        self._loader = loader or partial(_load_onnx, interactive=interactive)
        self.calibration = Calibration.load()
        self._lock = threading.Lock()
        self._encoder: Any = None
        self._index: LessonIndex | None = None
        self._index_key: tuple[int, int] | None = None
        self._gates: dict[tuple[str, int], Applicability] = {}
        self.message = "not loaded"
        self.description = ""

    @property
    def ready(self) -> bool:
        return self._encoder is not None

    def load(self) -> bool:
        try:
            encoder = self._loader(self.device, self.folder)
        except ModelUnavailable as exc:
            self.message = str(exc)
            log.warning("model unavailable: %s", exc)
            return False
        except Exception as exc:  # a broken install must not take the product down
            self.message = f"model failed to load: {exc}"
            log.exception("model failed to load")
            return False
        self.description = (
            f"{getattr(encoder, 'variant', '?')} on {getattr(encoder, 'provider', '?')}, "
            f"sha256 {encoder.identity[:12]}"
        )
        self.calibration = Calibration.load(getattr(encoder, "variant", None))
        batching = BatchingEncoder(encoder)
        with self._lock:
            self._index = None  # its relevance curve is the variant's
            self._encoder = CachedEncoder(batching, self.cache_dir)
        self.message = f"model ready ({self.description})"
        return True

    def index(self, lessons: Sequence[Lesson], skills: Mapping[str, Skill]) -> LessonIndex | None:
        """The lesson matrix for this catalog, rebuilt only when the catalog changes."""
        if self._encoder is None:
            return None
        # The catalog's version: what the rows are made of (team lessons change it).
        key = (
            hash(tuple((x.id, x.skill_id, *lesson_texts(x)) for x in lessons)),
            hash(tuple(sorted(skills))),
        )
        with self._lock:
            if self._index is None or self._index_key != key:
                self._index = LessonIndex(self._encoder, lessons, skills, self.calibration)
                self._index_key = key
            return self._index

    def gates(self, lessons: Sequence[Lesson], spec: LanguageSpec) -> Applicability:
        """The catalog's `applies-if` / `satisfied-if` gates, compiled once per catalog."""
        key = (spec.id, hash(tuple((x.id, x.applies_if, x.satisfied_if) for x in lessons)))
        with self._lock:
            gates = self._gates.get(key)
            if gates is None:
                gates = self._gates[key] = Applicability(lessons, spec)
            return gates

    def relate(
        self,
        units: Sequence[CodeUnit],
        lessons: Sequence[Lesson],
        skills: Mapping[str, Skill],
        mastery: Callable[[str], float] = lambda _skill: 0.0,
        priority: Callable[[str], str] = lambda _skill: "medium",
        verdicts: Sequence[Mapping[str, Verdict]] | None = None,
    ) -> list[UnitRelations]:
        index = self.index(lessons, skills)
        if index is None or not units:
            return []
        vectors = embed_units(self._encoder.embed, units)
        return index.relate(units, vectors, mastery, priority, verdicts)


def document_units(
    gates: Applicability, analysed: Analysed
) -> tuple[list[CodeUnit], list[Mapping[str, Verdict]]]:
    """A document's units and, per unit, whether each lesson may be related to it.

    The one path for every caller: `check --related`, the editor's lens and hover, the
    retrieval benchmark and the head trainer all take units and applicability from here, from
    the same tree, analysis and gates, then `relate` and `lens_for`; so they cannot disagree.
    """
    units = code_units(analysed)
    if not units:
        return [], []
    root = analysed.tree.root_node
    return units, gates.allowed(gates.unit_ingredients(root, analysed.analysis, units))


def lens_for(
    relations: UnitRelations, threshold: float, rule_spans: Sequence[tuple[int, int]]
) -> RelatedLesson | None:
    """The "Related lesson" a unit shows, or None: none where a rule already teaches in it."""
    unit = relations.unit
    if any(unit.span.overlaps(start, end) for start, end in rule_spans):
        return None
    return relations.lens(threshold)


def _load_onnx(device: str, folder: Path | None, *, interactive: bool) -> Encoder:
    return load_encoder(device, folder, threads=default_threads(interactive=interactive))
