"""`check` over the running interpreter's standard library: real code nobody here wrote."""

from __future__ import annotations

import sysconfig
from pathlib import Path

import pytest

from lessonlens.analyzers import AnalysisOptions
from lessonlens.server.check.run import CheckOptions, discover, run_check

STDLIB = Path(sysconfig.get_paths()["stdlib"])


@pytest.mark.slow
def test_stdlib_checks_without_rule_failures_or_findings_in_error_regions():
    files = discover([STDLIB])
    assert len(files) > 1000
    options = CheckOptions(
        analysis=AnalysisOptions(language_options={"target-python": (3, 10)}),
        jobs=2,
        use_cache=False,
    )
    report = run_check([(f, str(f)) for f in files], options)
    failures = [p for f in report.files for p in f.problems if p.rule_id]
    assert not failures, failures[:5]
    with_errors = [f for f in report.files if f.analysis and f.analysis.error_ranges]
    # The standard library ships deliberately broken files (test data for its own tools).
    assert with_errors, "expected some files with syntax errors"
    for file in with_errors:
        for reported in file.findings:
            span = reported.finding.span
            assert not any(span.overlaps(a, b) for a, b in file.analysis.error_ranges), (
                file.path,
                reported.location,
            )
    assert len(report.findings) > 100
