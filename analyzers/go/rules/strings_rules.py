"""Rules about strings: comparisons that copy, conversions that format."""

from __future__ import annotations

from lessonlens.analyzers.go import facts
from lessonlens.analyzers.match import Match, span_of
from lessonlens.analyzers.model import Applicability, Fix, Hit, Rule, Severity, TextEdit


def _fold_compare(m: Match) -> Hit | None:
    if m.text(m.node("lfn")) != m.text(m.node("rfn")):
        return None
    if not facts.imports_package(m, "strings", "strings"):
        return None
    finding = m.node("finding")
    negated = m.text(m.node("op")) == "!="
    call = f"strings.EqualFold({m.text(m.node('a'))}, {m.text(m.node('b'))})"
    fix = Fix(
        title="Use strings.EqualFold",
        edits=(TextEdit(span_of(finding), ("!" if negated else "") + call),),
        applicability=Applicability.UNSAFE,
        reason="case folding and lower-casing disagree on a few characters (the long s, U+017F, "
        "folds to 's' but does not lower-case to it; so do final sigma and 'Σ')",
    )
    return Hit(span_of(finding), fix=fix)


RULES = (
    Rule(
        id="GO007",
        name="tolower-compare",
        language="go",
        query="GO007.scm",
        message="`strings.EqualFold` compares ignoring case without building two new strings.",
        skill_id="go.strings",
        lesson_id="go-equal-fold",
        severity=Severity.INFORMATION,
        check=_fold_compare,
        noqa_codes=("SA6005", "staticcheck"),
        fix_title="Use strings.EqualFold",
        doc="""
## What it does
Flags `strings.ToLower(a) == strings.ToLower(b)` (and `ToUpper`, and `!=`).

## Why is this bad?
Each side may allocate a lower-cased copy (whenever it holds an upper-case letter), only to
compare the copies once. `strings.EqualFold` compares in place, stopping at the first
difference.

## Example
```go
if strings.ToLower(name) == strings.ToLower(want) {
```

## Use instead
```go
if strings.EqualFold(name, want) {
```

## References
- https://pkg.go.dev/strings#EqualFold
- https://staticcheck.dev/docs/checks/#SA6005
""",
        fix_safety="Unsafe: simple case folding and lower-casing disagree on a few characters "
        "(the long s, final sigma), so a comparison could change result.",
    ),
)
