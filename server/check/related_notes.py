"""``check --related``: the lessons the model relates to code units where no rule fired.

One batched pass over every file of a report, as the editor's code lenses do for one document.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from lessonlens.lessons.catalog import Catalog
    from lessonlens.model_runtime.related import ModelService
    from lessonlens.server.check.run import CheckReport


def add_related(report: CheckReport, catalog: Catalog, service: ModelService) -> None:
    """Relate every unit without a finding to lessons, in one batched pass over all files.

    ``service`` is loaded (``service.load()`` returned true): a caller without a usable model
    says why and leaves the report as it was, so CI keeps its rule findings. Each file with a
    related lesson gets its notes in ``related``; other files are left unchanged.
    """
    from lessonlens.analyzers.engine import Analysis, valid_utf8
    from lessonlens.analyzers.facade import Analysed, Skipped, parse
    from lessonlens.analyzers.languages import language_for_path
    from lessonlens.model_runtime.related import document_units, lens_for
    from lessonlens.server.check.run import RelatedNote
    from lessonlens.server.workspace.config import DEFAULT_MAX_FILE_SIZE
    from lessonlens.server.workspace.sources import read_source

    work = []
    verdicts = []
    lessons = list(catalog.lessons.values())
    for index, file in enumerate(report.files):
        spec = language_for_path(file.path)
        if file.skipped or file.source_path is None or spec is None or spec.code_units is None:
            continue
        read = read_source(file.source_path, DEFAULT_MAX_FILE_SIZE, spec)
        if isinstance(read, Skipped):
            continue
        # The tree is parsed again; the analysis is the one the report already holds.
        data = valid_utf8(read.data)
        analysis = file.analysis or Analysis((), (), ())
        analysed = Analysed(spec, data, parse(spec, data), analysis)
        gates = service.gates(lessons, spec)
        units, allowed = document_units(gates, analysed)
        spans = [(r.finding.span.start_byte, r.finding.span.end_byte) for r in file.findings]
        # Where a rule already teaches, no lens: such units need not be embedded at all.
        for unit, verdict in zip(units, allowed, strict=True):
            if not any(unit.span.overlaps(a, b) for a, b in spans):
                work.append((index, unit, spans))
                verdicts.append(verdict)
    relations = service.relate(
        [unit for _, unit, _ in work], lessons, catalog.skills, verdicts=verdicts
    )
    notes: dict[int, list[RelatedNote]] = {}
    threshold = service.calibration.lens_threshold
    for (index, unit, spans), relation in zip(work, relations, strict=True):
        best = lens_for(relation, threshold, spans)
        if best is not None:
            notes.setdefault(index, []).append(
                RelatedNote(
                    unit.name,
                    unit.kind,
                    unit.span.start_row + 1,
                    unit.span.end_row + 1,
                    best.lesson_id,
                    best.title,
                    best.relevance,
                )
            )
    for index, found in notes.items():
        report.files[index] = replace(report.files[index], related=tuple(found))
