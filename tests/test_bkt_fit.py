"""Fitting the learner's BKT parameters to a team's history, keeping them, and using them."""

from __future__ import annotations

import json
import os
import random
import subprocess
from pathlib import Path

import pytest

from lessonlens.lessons.catalog import load_catalog
from lessonlens.lessons.skills import load_skills
from lessonlens.server.learner import fitting
from lessonlens.server.learner.coach import Coach
from lessonlens.server.learner.fitted import (
    FITTED_NAME,
    MAX_BYTES,
    fitted_for,
    read_fitted,
    write_fitted,
)
from lessonlens.server.learner.fitting import BOUNDS, MAX_GUESS_PLUS_SLIP, fit, fit_events, refit
from lessonlens.server.learner.mastery import BktParams, Learner, estimate, outcome, params_for
from lessonlens.server.learner.profile import build_profile
from lessonlens.server.learner.progress import DATABASE_NAME, Event, EventKind, SqliteProgressStore
from lessonlens.server.learner.pseudonym import repository_id
from lessonlens.server.team.baseline import run_baseline
from lessonlens.server.workspace.config import Config

SKILLS = load_skills()
DEFAULTS = params_for(SKILLS)
REPO = "r" * 32
NOW = 1_700_000_000.0


def _simulate(truth: BktParams, developers: int, length: int, seed: int) -> list[list[int]]:
    """Outcome sequences drawn from BKT itself: what EM must recover."""
    rng = random.Random(seed)
    found = []
    for _ in range(developers):
        known = rng.random() < truth.prior
        codes = []
        for _ in range(length):
            correct = rng.random() >= truth.slip if known else rng.random() < truth.guess
            codes.append(int(correct))
            known = known or rng.random() < truth.learn
        found.append(codes)
    return found


def _events(sequences: dict[str, list[list[int]]]) -> list[Event]:
    kinds = {0: EventKind.ANTIPATTERN_INTRODUCED, 1: EventKind.SKILL_EVIDENCE}
    return [
        Event(kinds[code], f"dev{index:04}", skill, NOW + step, repository=REPO)
        for skill, seqs in sequences.items()
        for index, codes in enumerate(seqs)
        for step, code in enumerate(codes)
    ]


# --- the fit ----------------------------------------------------------------------------------


def test_em_recovers_the_parameters_that_made_the_data() -> None:
    truth = {
        "python.loops": BktParams(prior=0.3, learn=0.15, guess=0.2, slip=0.1),
        "python.strings": BktParams(prior=0.1, learn=0.3, guess=0.4, slip=0.05),
    }
    data = {skill: _simulate(p, 300, 20, seed) for seed, (skill, p) in enumerate(truth.items())}
    fits = fit(data, DEFAULTS)
    for skill, expected in truth.items():
        got = fits[skill]
        assert got.source == "skill"
        assert got.observations == 300 * 20
        for name in ("prior", "learn", "guess", "slip"):
            assert getattr(got.params, name) == pytest.approx(getattr(expected, name), abs=0.06)


def test_events_are_read_as_the_learner_reads_them() -> None:
    truth = BktParams(prior=0.3, learn=0.15, guess=0.2, slip=0.1)
    data = {"python.loops": _simulate(truth, 100, 10, 7)}
    events = _events(data)
    # Hints shown and lessons opened are no opportunities; the fit must not see them.
    events += [Event(EventKind.HINT_SHOWN, "dev0001", "python.loops", NOW + 0.5)] * 50
    assert fitting.sequences(events) == data
    assert fit_events(events, DEFAULTS) == fit(data, DEFAULTS)


def test_every_kind_means_to_the_fit_what_it_means_to_the_learner() -> None:
    for kind in EventKind:
        for correct in (None, True, False):
            event = Event(kind, "dev", "python.loops", NOW, correct=correct)
            learner = Learner(DEFAULTS)
            learner.apply(event)
            found = learner.snapshot("python.loops", NOW)
            seen = outcome(event)
            moved = found is not None and found.opportunities == 1
            assert moved == (seen is not None), kind
            if isinstance(seen, bool):
                assert found is not None and (found.correct, found.incorrect) == (seen, not seen)


@pytest.mark.parametrize(
    "codes",
    [
        [1] * 12,  # nothing but correct outcomes: guess and prior want to reach 1
        [0] * 12,  # nothing but incorrect ones
        [0, 1] * 6,  # alternating: no learning to be seen
        [0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1],  # learning in one step, as a step function
    ],
)
def test_fitted_parameters_stay_in_bounds(codes: list[int]) -> None:
    found = fit({"python.loops": [codes] * 8}, DEFAULTS)["python.loops"]
    for name, (low, high) in BOUNDS.items():
        assert low - 1e-12 <= getattr(found.params, name) <= high + 1e-12, name
    assert found.params.guess + found.params.slip <= MAX_GUESS_PLUS_SLIP + 1e-12
    assert found.params.prior < 0.6


def test_the_fit_is_deterministic() -> None:
    data = {"python.loops": _simulate(BktParams(0.4, 0.1, 0.3, 0.1), 60, 12, 3)}
    assert fit(data, DEFAULTS) == fit(dict(data), DEFAULTS)


def test_too_little_history_takes_the_team_fit_or_keeps_the_defaults() -> None:
    plenty = _simulate(BktParams(0.3, 0.15, 0.2, 0.1), 200, 10, 5)
    few = [[1, 1, 0], [1, 1]]  # two developers: too few for a fit of its own
    fits = fit({"python.loops": plenty, "python.strings": few, "python.regex": [[2, 2]]}, DEFAULTS)
    assert fits["python.loops"].source == "skill"
    assert fits["python.strings"].source == "team"
    assert fits["python.strings"].observations == 5
    # The team's fit: every skill's sequences pooled, which here is nearly python.loops'.
    assert fits["python.strings"].params.learn == pytest.approx(
        fits["python.loops"].params.learn, abs=0.05
    )
    # Practice alone (quick fixes) shows no outcome: nothing to fit, the defaults stay.
    assert "python.regex" not in fits
    # A whole history too small for any fit leaves every skill to the taxonomy.
    assert fit({"python.strings": few}, DEFAULTS) == {}


# --- keeping the fit --------------------------------------------------------------------------


def test_the_kept_file_round_trips_and_other_repositories_stay(tmp_path: Path) -> None:
    loops = BktParams(prior=0.45, learn=0.2, guess=0.6, slip=0.05)
    write_fitted(tmp_path, "other", {"python.strings": BktParams()})
    write_fitted(tmp_path, REPO, {"python.loops": loops}, {"python.loops": {"observations": 9}})
    assert read_fitted(tmp_path, REPO) == {"python.loops": loops}
    assert read_fitted(tmp_path, "other") == {"python.strings": BktParams()}
    assert read_fitted(tmp_path, "nobody") == {}
    assert read_fitted(tmp_path, None) == {}
    kept = json.loads((tmp_path / FITTED_NAME).read_text())
    assert kept["repositories"][REPO]["skills"]["python.loops"]["observations"] == 9


@pytest.mark.parametrize(
    "text",
    [
        "not json at all {",
        '["a list"]',
        '{"format": 99, "repositories": {}}',
        '{"format": 1, "repositories": []}',
        '{"format": 1, "repositories": {"REPO": {"skills": "python.loops"}}}',
        '{"format": 1, "repositories": {"REPO": ' + "[" * 5000 + "]" * 5000 + "}}",
        "\xff\xfe garbage",
    ],
)
def test_a_corrupt_file_costs_only_the_fit(tmp_path: Path, text: str) -> None:
    (tmp_path / FITTED_NAME).write_text(text.replace("REPO", REPO), "utf-8")
    assert read_fitted(tmp_path, REPO) == {}
    assert params_for(SKILLS, read_fitted(tmp_path, REPO))("python.loops") == DEFAULTS(
        "python.loops"
    )


def test_each_bad_entry_costs_only_its_skill(tmp_path: Path) -> None:
    good = {"prior": 0.3, "learn": 0.1, "guess": 0.2, "slip": 0.1}
    skills = {
        "python.loops": good,
        "python.strings": {**good, "prior": 0.7},  # above the taxonomy's ceiling
        "python.regex": {**good, "guess": 0.6, "slip": 0.5},  # guess + slip past 1
        "python.caching": {**good, "learn": 10**400},  # a number no float holds
        "python.async": {**good, "slip": True},  # a bool is no probability
        "python.iteration": {**good, "guess": 0.0},
        "python.generators": {"prior": 0.3},
        "x" * 500: good,  # no skill id is that long
    }
    document = {"format": 1, "repositories": {REPO: {"skills": skills}}}
    (tmp_path / FITTED_NAME).write_text(json.dumps(document), "utf-8")
    assert read_fitted(tmp_path, REPO) == {"python.loops": BktParams(**good)}


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are POSIX")
def test_a_named_pipe_is_not_waited_on(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / FITTED_NAME)
    assert read_fitted(tmp_path, REPO) == {}


def test_an_oversized_file_is_not_read(tmp_path: Path) -> None:
    loops = BktParams(prior=0.45, learn=0.2, guess=0.6, slip=0.05)
    write_fitted(tmp_path, REPO, {"python.loops": loops})
    path = tmp_path / FITTED_NAME
    path.write_text(path.read_text() + " " * MAX_BYTES, "utf-8")  # still valid JSON
    assert read_fitted(tmp_path, REPO) == {}


# --- the fit at the end of a baseline, and the learner using it -------------------------------

LOOP = b"def keep(words):\n    return [w for w in words if w]\n"
BAD = b'def keep(words):\n    out = []\n    for w in words:\n        if w in ["a", "b"]:\n'
BAD += b"            out.append(w)\n    return out\n"


def _git_commit(repo: Path, email: str, when: int, name: str, data: bytes) -> None:
    (repo / name).write_bytes(data)
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "a",
        "GIT_AUTHOR_EMAIL": email,
        "GIT_AUTHOR_DATE": f"{when} +0000",
        "GIT_COMMITTER_NAME": "ci",
        "GIT_COMMITTER_EMAIL": "ci@example.com",
        "GIT_COMMITTER_DATE": f"{when} +0000",
    }
    subprocess.run(["git", "add", "-A"], cwd=repo, check=True, env=env)
    subprocess.run(["git", "commit", "-q", "-m", "c"], cwd=repo, check=True, env=env)


def test_baseline_fits_and_keeps_the_parameters(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(fitting, "MIN_SEQUENCES", 2)
    monkeypatch.setattr(fitting, "MIN_OBSERVATIONS", 2)
    repo = tmp_path / "project"
    repo.mkdir()
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=repo, check=True)
    for step, email in enumerate(["a@x.org", "b@x.org", "a@x.org", "b@x.org"]):
        _git_commit(repo, email, 1_700_000_000 + step, f"m{step}.py", LOOP if step else BAD)
    data = tmp_path / "data"
    config = Config(root=repo, team_salt="salt")
    with SqliteProgressStore(data / DATABASE_NAME) as store:
        summary = run_baseline(repo, store, config, data, jobs=1)
    fitted = fitted_for(repo, "salt", data)
    assert summary.fitted == len(fitted) > 0
    assert read_fitted(data, repository_id(repo, b"salt")) == fitted
    # What the baseline saw is what was fitted.
    with SqliteProgressStore(data / DATABASE_NAME) as store:
        events = [e for d in store.developers() for e in store.events(d)]
    expected = fit_events(events, DEFAULTS)
    assert fitted.keys() == expected.keys()
    for skill, found in expected.items():
        assert fitted[skill].guess == pytest.approx(
            found.params.guess, abs=1e-6
        )  # kept to 6 places
        assert fitted[skill].learn == pytest.approx(found.params.learn, abs=1e-6)
    # A run that walks nothing keeps the fit as it is, without fitting again.
    before = (data / FITTED_NAME).stat().st_mtime_ns
    with SqliteProgressStore(data / DATABASE_NAME) as store:
        again = run_baseline(repo, store, config, data, jobs=1)
        assert refit(store, repository_id(repo, b"salt") or "", data, walked=0) == len(fitted)
    assert again.commits == 0 and again.fitted == len(fitted)
    assert (data / FITTED_NAME).stat().st_mtime_ns == before
    # Without the team salt that baseline used, and with no salt of this machine, no fit.
    assert fitted_for(repo, None, tmp_path / "elsewhere") == {}
    assert not (tmp_path / "elsewhere").exists()


def test_the_learner_prefers_fitted_parameters(tmp_path: Path) -> None:
    fitted = {"python.loops": BktParams(prior=0.5, learn=0.4, guess=0.5, slip=0.05)}
    lookup = params_for(SKILLS, fitted)
    assert lookup("python.loops") == fitted["python.loops"]
    assert lookup("python.algorithms") == DEFAULTS("python.algorithms")  # not fitted: taxonomy
    assert lookup("no.such.skill") == BktParams()
    events = [Event(EventKind.SKILL_EVIDENCE, "dev", "python.loops", NOW)]
    plain = estimate(events, DEFAULTS, NOW)["python.loops"].p_known
    tuned = estimate(events, lookup, NOW)["python.loops"].p_known
    assert tuned != pytest.approx(plain)
    catalog = load_catalog([])
    with SqliteProgressStore(tmp_path / DATABASE_NAME) as store:
        store.record(events)
        rows = build_profile(store, "dev", catalog, NOW, fitted=fitted)["skills"]
        assert [r["p_known"] for r in rows] == [round(tuned, 4)]
    # The editor's coach (closing it closes its store).
    coach = Coach(
        SqliteProgressStore(tmp_path / DATABASE_NAME),
        "dev",
        SKILLS,
        fitted=fitted,
        clock=lambda: NOW,
    )
    try:
        found = coach.estimate_for("python.loops")
        assert found is not None and found.p_known == pytest.approx(tuned)
    finally:
        coach.close()
