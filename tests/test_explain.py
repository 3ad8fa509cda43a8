"""``lessonlens explain RULE``: the rule's documentation, its Fix safety section, its lesson."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from lessonlens.analyzers import language_for_id
from lessonlens.analyzers.engine import rule_set
from lessonlens.server.cli import main

PYTHON = language_for_id("python")
assert PYTHON is not None
RULES = {rule.id: rule for rule in rule_set(PYTHON).rules}


def explain(rule_id: str) -> str:
    """The rendered page as plain words: Markdown's code marks and line wrapping dropped."""
    result = CliRunner().invoke(main, ["explain", rule_id], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return plain(result.stdout)


def plain(text: str) -> str:
    return " ".join(text.replace("`", "").split())


def test_explain_has_a_fix_safety_section(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    rule = RULES["PY001"]
    out = explain("PY001")
    assert "Fix safety" in out
    assert f"Offers a fix: {rule.fix_title}." in out
    assert "--unsafe-fixes" in out
    if rule.fix_safety:
        assert plain(rule.fix_safety) in out
    no_fix = next(r for r in RULES.values() if r.fix_title is None and not r.fix_safety)
    out = explain(no_fix.id)
    assert "Fix safety" in out
    assert "This rule offers no automatic fix." in out


def test_explain_prints_the_rules_fix_safety_text(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    rule = RULES["PY022"]
    saved = rule.fix_safety
    text = "Unsafe: a class may define equality to answer True when compared with None."
    object.__setattr__(rule, "fix_safety", text)
    try:
        out = explain("PY022")
    finally:
        object.__setattr__(rule, "fix_safety", saved)
    assert text in out


def test_explain_takes_the_rule_names_that_rules_prints() -> None:
    assert plain(explain("String-Concat-In-Loop")) == plain(explain("py002"))


def test_explain_of_an_unknown_name_exits_2_with_a_suggestion() -> None:
    result = CliRunner().invoke(main, ["explain", "strin-join"], catch_exceptions=False)
    assert result.exit_code == 2
    assert "did you mean 'str-join'?" in result.output


def test_explain_labels_the_example_and_offers_the_other_forms():
    from click.testing import CliRunner

    from lessonlens.server.cli import main

    result = CliRunner().invoke(main, ["explain", "set-membership"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    lines = [line.strip() for line in result.output.splitlines()]
    assert "Before" in lines and "After" in lines
    assert "The step that matters" in result.output
    assert "--form deep-dive" in result.output
    deep = CliRunner().invoke(main, ["explain", "PY001", "--form", "deep-dive"])
    assert deep.exit_code == 0 and "Going further" in deep.output
    practice = CliRunner().invoke(main, ["explain", "set-membership", "--form", "practice"])
    assert "lessonlens practice set-membership" in practice.output
