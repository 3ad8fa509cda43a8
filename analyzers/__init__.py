"""Tree-sitter parsing, rules and skill-evidence detectors.

This layer reads source it is handed and returns plain values; it does no I/O of its own and
knows nothing of the server, the CLI or the wire protocol.
"""

from lessonlens.analyzers.engine import Analysis, AnalysisOptions, analyze, analyze_tree
from lessonlens.analyzers.languages import LanguageSpec, language_for_id, language_for_path
from lessonlens.analyzers.model import (
    Detector,
    Finding,
    Fix,
    Problem,
    Rule,
    Severity,
    SkillEvidence,
    Span,
    TextEdit,
)

__all__ = [
    "Analysis",
    "AnalysisOptions",
    "Detector",
    "Finding",
    "Fix",
    "LanguageSpec",
    "Problem",
    "Rule",
    "Severity",
    "SkillEvidence",
    "Span",
    "TextEdit",
    "analyze",
    "analyze_tree",
    "language_for_id",
    "language_for_path",
]
