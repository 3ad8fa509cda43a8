"""The learner model: BKT arithmetic, hint fading, estimates from events, and per-skill defaults."""

from __future__ import annotations

import pytest

from lessonlens.lessons.skills import load_skills
from lessonlens.server.learner.mastery import (
    MASTERY,
    BktParams,
    SkillEstimate,
    Treatment,
    bkt_learning_only,
    bkt_update,
    estimate,
    params_for,
    predict_correct,
    treatment,
    why,
)
from lessonlens.server.learner.progress import Event, EventKind

DAY = 24 * 3600.0
NOW = 1_700_000_000.0
DEFAULTS = BktParams()
DEV = "d" * 32


def _defaults(_skill_id: str) -> BktParams:
    return DEFAULTS


def _event(kind: EventKind, time: float, skill: str = "python.loops", **extra: object) -> Event:
    return Event(kind=kind, developer=DEV, skill_id=skill, time=time, **extra)  # type: ignore[arg-type]


def _estimate(p_known: float, **changes: object) -> SkillEstimate:
    values: dict[str, object] = {
        "skill_id": "python.loops",
        "p_known": p_known,
        "opportunities": 0,
        "correct": 0,
        "incorrect": 0,
        "lessons_opened": 0,
        "last_seen": None,
        "claimed": False,
        "trend": 0.0,
    }
    values.update(changes)
    return SkillEstimate(**values)  # type: ignore[arg-type]


# --- BKT arithmetic, against values worked out by hand ---------------------------------------


def test_correct_observation_then_learning() -> None:
    # Posterior 0.2*0.9 / (0.2*0.9 + 0.8*0.2) = 9/17; then 9/17 + 8/17 * 0.15 = 10.2/17 = 0.6.
    assert bkt_update(0.2, DEFAULTS, True) == pytest.approx(0.6)


def test_incorrect_observation_then_learning() -> None:
    # Posterior 0.2*0.1 / (0.2*0.1 + 0.8*0.8) = 1/33; then 1/33 + 32/33 * 0.15 = 5.8/33.
    assert bkt_update(0.2, DEFAULTS, False) == pytest.approx(5.8 / 33)


def test_update_with_other_parameters() -> None:
    params = BktParams(prior=0.5, learn=0.1, guess=0.25, slip=0.2)
    # Correct: 0.5*0.8 / (0.4 + 0.125) = 0.4/0.525; learn: p + (1-p)*0.1.
    posterior = 0.4 / 0.525
    assert bkt_update(0.5, params, True) == pytest.approx(posterior + (1 - posterior) * 0.1)
    # Incorrect: 0.5*0.2 / (0.1 + 0.375) = 0.1/0.475.
    posterior = 0.1 / 0.475
    assert bkt_update(0.5, params, False) == pytest.approx(posterior + (1 - posterior) * 0.1)


def test_quick_fix_is_learning_without_evidence() -> None:
    assert bkt_learning_only(0.2, DEFAULTS) == pytest.approx(0.32)
    # Smaller than what a correct answer of one's own is worth.
    assert bkt_learning_only(0.2, DEFAULTS) < bkt_update(0.2, DEFAULTS, True)


def test_predicted_correctness() -> None:
    assert predict_correct(0.2, DEFAULTS) == pytest.approx(0.2 * 0.9 + 0.8 * 0.2)
    assert predict_correct(1 - 1e-12, DEFAULTS) == pytest.approx(0.9)
    assert predict_correct(1e-12, DEFAULTS) == pytest.approx(0.2)


def test_repeated_correct_work_reaches_mastery_and_mistakes_pull_back() -> None:
    p = DEFAULTS.prior
    steps = 0
    while p < MASTERY:
        p = bkt_update(p, DEFAULTS, True)
        steps += 1
    assert steps == 3  # 0.2 -> 0.6 -> 0.885 -> 0.978
    assert bkt_update(p, DEFAULTS, False) < MASTERY


@pytest.mark.parametrize(
    "changes",
    [
        {"prior": 0.0},
        {"learn": 1.0},
        {"guess": -0.1},
        {"slip": 1.5},
        {"guess": 0.6, "slip": 0.4},
    ],
)
def test_degenerate_parameters_are_refused(changes: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="BKT"):
        BktParams(**changes)


# --- fading ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("priority", "p_known", "expected"),
    [
        ("medium", 0.0, Treatment.FULL),
        ("medium", 0.599, Treatment.FULL),
        ("medium", 0.6, Treatment.QUIET),
        ("medium", 0.949, Treatment.QUIET),
        ("medium", 0.95, Treatment.SILENT),
        ("medium", 1.0, Treatment.SILENT),
        ("high", 0.65, Treatment.FULL),
        ("high", 0.7, Treatment.QUIET),
        ("high", 0.97, Treatment.QUIET),
        ("high", 0.98, Treatment.SILENT),
        ("low", 0.49, Treatment.FULL),
        ("low", 0.5, Treatment.QUIET),
        ("low", 0.9, Treatment.SILENT),
        ("none", 0.0, Treatment.SILENT),
    ],
)
def test_thresholds_by_priority(priority: str, p_known: float, expected: Treatment) -> None:
    assert treatment(_estimate(p_known, correct=5, opportunities=5), priority) is expected


def test_silence_needs_evidence_not_only_a_high_estimate() -> None:
    """Three lucky guesses can lift BKT past 0.95; silence needs three correct opportunities."""
    assert treatment(_estimate(0.97, correct=2, opportunities=2), "medium") is Treatment.QUIET
    assert treatment(_estimate(0.97, correct=3, opportunities=3), "medium") is Treatment.SILENT


def test_no_evidence_gets_the_full_treatment_unless_not_a_priority() -> None:
    assert treatment(None, "medium") is Treatment.FULL
    assert treatment(None, "high") is Treatment.FULL
    assert treatment(None, "none") is Treatment.SILENT


def test_i_know_this_is_honoured_at_any_estimate() -> None:
    for priority in ("high", "medium", "low"):
        assert treatment(_estimate(0.05, claimed=True), priority) is Treatment.SILENT


def test_unknown_priority_is_an_error() -> None:
    with pytest.raises(ValueError, match="urgent"):
        treatment(_estimate(0.5), "urgent")


# --- estimates from events -------------------------------------------------------------------


def test_estimate_replays_opportunities_in_time_order() -> None:
    t0 = NOW - 2 * DAY
    events = [
        # Recorded out of order (two editor windows); replay must sort by time.
        _event(EventKind.SKILL_EVIDENCE, t0 + 30),
        _event(EventKind.ANTIPATTERN_INTRODUCED, t0 + 10),
        _event(EventKind.FIX_APPLIED, t0 + 20),
        _event(EventKind.HINT_SHOWN, t0 + 11),
        _event(EventKind.LESSON_OPENED, t0 + 12),
        _event(EventKind.LESSON_OPENED, t0 + 13),
        _event(EventKind.HINT_DISMISSED, t0 + 14),
        _event(EventKind.MASTERED, t0 + 15),
        _event(EventKind.ANTIPATTERN_FIXED, t0 + 40),
        _event(EventKind.REVIEW_ANSWERED, t0 + 50, correct=False),
        _event(EventKind.REVIEW_ANSWERED, t0 + 55),  # no answer recorded: no evidence
        _event(EventKind.SKILL_EVIDENCE, t0 + 60, skill="python.strings"),
    ]
    result = estimate(events, _defaults, NOW)
    assert set(result) == {"python.loops", "python.strings"}
    loops = result["python.loops"]
    p = DEFAULTS.prior
    p = bkt_update(p, DEFAULTS, False)
    p = bkt_learning_only(p, DEFAULTS)
    p = bkt_update(p, DEFAULTS, True)
    p = bkt_update(p, DEFAULTS, True)
    p = bkt_update(p, DEFAULTS, False)
    assert loops.p_known == pytest.approx(p)
    assert (loops.opportunities, loops.correct, loops.incorrect) == (5, 2, 2)
    assert loops.fixes_applied == 1
    assert loops.lessons_opened == 2
    assert loops.last_seen == t0 + 50
    assert not loops.claimed
    assert loops.trend == 0.0  # nothing was known of the skill a week ago
    strings = result["python.strings"]
    assert strings.p_known == pytest.approx(bkt_update(DEFAULTS.prior, DEFAULTS, True))
    assert strings.opportunities == 1


def test_reading_lessons_is_not_evidence() -> None:
    events = [_event(EventKind.LESSON_OPENED, NOW - i) for i in range(10)]
    result = estimate(events, _defaults, NOW)["python.loops"]
    assert result.p_known == DEFAULTS.prior
    assert result.opportunities == 0
    assert result.last_seen is None
    assert result.lessons_opened == 10


def test_i_know_this_claims_the_skill_without_moving_the_estimate() -> None:
    events = [
        _event(EventKind.ANTIPATTERN_INTRODUCED, NOW - 100),
        _event(EventKind.I_KNOW_THIS, NOW - 50),
    ]
    result = estimate(events, _defaults, NOW)["python.loops"]
    assert result.claimed
    assert result.p_known == pytest.approx(bkt_update(DEFAULTS.prior, DEFAULTS, False))
    assert treatment(result, "medium") is Treatment.SILENT


def test_trend_compares_with_the_estimate_a_week_ago() -> None:
    old = [_event(EventKind.ANTIPATTERN_INTRODUCED, NOW - 10 * DAY)]
    recent = [_event(EventKind.SKILL_EVIDENCE, NOW - DAY - i) for i in range(3)]
    result = estimate(old + recent, _defaults, NOW)["python.loops"]
    week_ago = bkt_update(DEFAULTS.prior, DEFAULTS, False)
    assert result.trend == pytest.approx(result.p_known - week_ago)
    assert result.trend > 0.5
    # Nothing new in the last week: steady.
    assert estimate(old, _defaults, NOW)["python.loops"].trend == 0.0


def test_estimate_uses_each_skills_parameters() -> None:
    fast = BktParams(learn=0.5)
    events = [
        _event(EventKind.SKILL_EVIDENCE, NOW - 10, skill="fast"),
        _event(EventKind.SKILL_EVIDENCE, NOW - 10, skill="slow"),
    ]
    result = estimate(events, lambda s: fast if s == "fast" else DEFAULTS, NOW)
    assert result["fast"].p_known == pytest.approx(bkt_update(0.2, fast, True))
    assert result["fast"].p_known > result["slow"].p_known


def test_empty_history() -> None:
    assert estimate([], _defaults, NOW) == {}


# --- why -------------------------------------------------------------------------------------


def test_why_gives_the_estimate_and_the_evidence() -> None:
    shown = _estimate(0.42, opportunities=6, correct=3, incorrect=2, lessons_opened=1)
    text = why(shown, Treatment.FULL)
    assert "\n" not in text
    assert "42%" in text
    assert "3 correct" in text
    assert "2 incorrect" in text
    assert "1 quick fix" in text
    assert "1 lesson opened" in text
    assert text.startswith("Full lesson")
    assert why(_estimate(0.7), Treatment.QUIET).startswith("Quiet hint")


def test_why_names_the_reason_for_silence() -> None:
    assert "mastered" in why(_estimate(0.97, opportunities=4, correct=4), Treatment.SILENT)
    assert "know this" in why(_estimate(0.3, claimed=True), Treatment.SILENT)
    assert "not a team priority" in why(_estimate(0.3), Treatment.SILENT, priority="none")


def test_why_without_evidence() -> None:
    assert "no evidence yet" in why(None, Treatment.FULL)


# --- per-skill defaults from the taxonomy ----------------------------------------------------

TAXONOMY = """
[skill."a"]
name = "A"
description = "d"
bkt-learn = 0.3
bkt-slip = 0.05

[skill."a.b"]
name = "B"
description = "d"
parent = "a"
bkt-guess = 0.35

[skill."a.b.c"]
name = "C"
description = "d"
parent = "a.b"
bkt-learn = 0.1
"""


def test_built_in_taxonomy_parameters_are_valid() -> None:
    skills = load_skills()
    lookup = params_for(skills)
    assert any(skill.bkt for skill in skills.values())
    for skill_id in skills:
        params = lookup(skill_id)
        # A skill never seen must still get the full treatment (see treatment()).
        assert params.prior < 0.6, skill_id
    assert lookup("python.strings").learn > lookup("python.algorithms").learn
    assert lookup("no.such.skill") == BktParams()


def test_skills_stay_hashable() -> None:
    skills = load_skills(TAXONOMY)
    assert len({skills["a"], skills["a.b"]}) == 2


def test_parameters_inherit_key_by_key_from_ancestors() -> None:
    lookup = params_for(load_skills(TAXONOMY))
    assert lookup("a") == BktParams(learn=0.3, slip=0.05)
    assert lookup("a.b") == BktParams(learn=0.3, slip=0.05, guess=0.35)
    assert lookup("a.b.c") == BktParams(learn=0.1, slip=0.05, guess=0.35)


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("bkt-learn = 1.0", "strictly between 0 and 1"),
        ("bkt-prior = 0", "strictly between 0 and 1"),
        ("bkt-guess = true", "strictly between 0 and 1"),
        ('bkt-slip = "0.1"', "strictly between 0 and 1"),
        ("bkt-forget = 0.1", "unknown key 'bkt-forget'"),
        ("bkt-guess = 0.6\nbkt-slip = 0.5", "guess \\+ bkt-slip must be below 1"),
    ],
)
def test_bad_taxonomy_parameters_name_the_skill(line: str, message: str) -> None:
    text = f'[skill."x.y"]\nname = "X"\ndescription = "d"\n{line}\n'
    with pytest.raises(ValueError, match=message) as info:
        load_skills(text)
    assert "'x.y'" in str(info.value)


def test_an_inherited_combination_that_degenerates_names_the_skill() -> None:
    text = TAXONOMY.replace("bkt-slip = 0.05", "bkt-slip = 0.7")
    with pytest.raises(ValueError, match=r"'a\.b'"):
        params_for(load_skills(text))
