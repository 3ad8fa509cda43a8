"""lessonlens baseline: evidence from a repository's history, per author, resumable."""

from __future__ import annotations

import os
import sqlite3
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from lessonlens.server.cli import main
from lessonlens.server.learner.progress import DATABASE_NAME, Event, EventKind, SqliteProgressStore
from lessonlens.server.learner.pseudonym import pseudonym
from lessonlens.server.team.baseline import run_baseline
from lessonlens.server.workspace.config import Config

SALT = "team-salt"
ALICE = "Alice@Example.com"
BOB = "bob@example.com"

LOOP_WITH_LIST = b"""\
def keep(words):
    out = []
    for w in words:
        if w in ["a", "an", "the", "of"]:
            continue
        out.append(w)
    return out
"""

FIXED_WITH_COMPREHENSION = b"""\
STOP = {"a", "an", "the", "of"}


def keep(words):
    return [w for w in words if w not in STOP]
"""

PLAIN = b"""\
def total(values):
    return sum(values)
"""


def _commit(repo: Path, email: str, when: int, files: dict[str, bytes | None]) -> None:
    for name, data in files.items():
        path = repo / name
        if data is None:
            path.unlink()
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": email.split("@")[0],
        "GIT_AUTHOR_EMAIL": email,
        "GIT_AUTHOR_DATE": f"{when} +0000",
        "GIT_COMMITTER_NAME": "ci",
        "GIT_COMMITTER_EMAIL": "ci@example.com",
        "GIT_COMMITTER_DATE": f"{when} +0000",
    }
    subprocess.run(["git", "add", "-A"], cwd=repo, check=True, env=env)
    subprocess.run(
        ["git", "commit", "-q", "--allow-empty", "-m", f"change at {when}"],
        cwd=repo,
        check=True,
        env=env,
    )


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    root.mkdir()
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=root, check=True)
    _commit(root, ALICE, 1_700_000_000, {"pkg/words.py": LOOP_WITH_LIST, "README": b"hi\n"})
    _commit(root, BOB, 1_700_001_000, {"pkg/words.py": FIXED_WITH_COMPREHENSION})
    _commit(root, ALICE, 1_700_002_000, {"pkg/total.py": PLAIN, "logo.py": b"\x00\x01binary"})
    _commit(root, BOB, 1_700_003_000, {"pkg/total.py": None})  # a deletion is no evidence
    return root


def _run(repo: Path, data: Path, **kwargs: object) -> list[tuple[object, ...]]:
    with SqliteProgressStore(data / DATABASE_NAME) as store:
        run_baseline(repo, store, Config(root=repo, team_salt=SALT), data, **kwargs)  # type: ignore[arg-type]
    return _rows(data)


def _rows(data: Path) -> list[tuple[object, ...]]:
    with sqlite3.connect(data / DATABASE_NAME) as connection:
        return connection.execute("SELECT * FROM events ORDER BY id").fetchall()


def _events(data: Path, email: str) -> list[Event]:
    with SqliteProgressStore(data / DATABASE_NAME) as store:
        return store.events(pseudonym(email, SALT.encode()))


def test_events_go_to_the_author_with_the_right_kinds(repo: Path, tmp_path: Path) -> None:
    data = tmp_path / "data"
    _run(repo, data)
    alice = [(e.kind, e.rule_id, e.time) for e in _events(data, ALICE)]
    bob = [(e.kind, e.skill_id, e.rule_id, e.time) for e in _events(data, BOB)]
    assert (EventKind.ANTIPATTERN_INTRODUCED, "PY001", 1_700_000_000.0) in alice
    assert not any(kind is EventKind.ANTIPATTERN_FIXED for kind, _, _ in alice)
    assert (EventKind.ANTIPATTERN_FIXED, "python.data-structures", "PY001", 1_700_001_000.0) in bob
    assert (EventKind.SKILL_EVIDENCE, "python.comprehensions", None, 1_700_001_000.0) in bob
    # Nothing for the deletion, and every event at its commit's author time.
    assert {t for *_, t in bob} == {1_700_001_000.0}
    # The email's case does not split a developer in two.
    assert _events(data, ALICE.lower()) == _events(data, ALICE)


def test_one_event_per_skill_per_commit(repo: Path, tmp_path: Path) -> None:
    _commit(repo, BOB, 1_700_004_000, {"many.py": FIXED_WITH_COMPREHENSION * 5})
    data = tmp_path / "data"
    _run(repo, data)
    at_last = [e for e in _events(data, BOB) if e.time == 1_700_004_000]
    skills = [(e.kind, e.skill_id) for e in at_last]
    assert len(skills) == len(set(skills))
    assert (EventKind.SKILL_EVIDENCE, "python.comprehensions") in skills


def test_a_rerun_adds_nothing(repo: Path, tmp_path: Path) -> None:
    data = tmp_path / "data"
    first = _run(repo, data)
    assert first
    assert _run(repo, data) == first
    # Even without the cursor, the deterministic ids keep the store as it was.
    (data / "baseline-cursors.json").unlink()
    assert _run(repo, data) == first


def test_interrupt_and_resume_equals_one_run(repo: Path, tmp_path: Path) -> None:
    whole = _run(repo, tmp_path / "whole")
    parts = tmp_path / "parts"
    # Same local salt in both data folders is not needed: the team salt decides pseudonyms.
    _run(repo, parts, max_commits=1)
    assert 0 < len(_rows(parts)) < len(whole)
    _run(repo, parts, max_commits=2)
    assert _run(repo, parts) == whole


def test_a_keyboard_interrupt_leaves_a_consistent_store(repo: Path, tmp_path: Path) -> None:
    data = tmp_path / "data"
    calls = 0

    def stop(done: int, total: int) -> None:
        nonlocal calls
        calls += 1
        if calls == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt), SqliteProgressStore(data / DATABASE_NAME) as store:
        run_baseline(repo, store, Config(root=repo, team_salt=SALT), data, on_progress=stop)
    assert _run(repo, data) == _run(repo, tmp_path / "fresh")


def test_since_skips_older_commits(repo: Path, tmp_path: Path) -> None:
    data = tmp_path / "data"
    _run(repo, data, since="@1700000500")
    assert _events(data, ALICE) == []  # her PY001 commit is older
    assert _events(data, BOB)


def test_no_email_path_or_source_in_the_store(repo: Path, tmp_path: Path) -> None:
    data = tmp_path / "data"
    _run(repo, data)
    dump = b"".join(p.read_bytes() for p in data.iterdir() if p.name.startswith(DATABASE_NAME))
    text = repr(_rows(data))
    assert "@" not in text
    for secret in ("example.com", "Alice", "alice", "words", "pkg/", "STOP", "keep"):
        assert secret not in text
        assert secret.encode() not in dump


def test_cli_reports_a_summary(repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = tmp_path / "data"
    monkeypatch.setenv("LESSONLENS_DATA_DIR", str(data))
    result = CliRunner().invoke(main, ["baseline", str(repo), "--branch", "main"])
    assert result.exit_code == 0, result.output
    assert "4 commits" in result.output
    assert "2 developers" in result.output
    again = CliRunner().invoke(main, ["baseline", str(repo)])
    assert again.exit_code == 0, again.output
    assert again.output.startswith("0 commits")


def test_cli_rejects_an_unknown_branch(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LESSONLENS_DATA_DIR", str(tmp_path / "data"))
    result = CliRunner().invoke(main, ["baseline", str(repo), "--branch", "nope"])
    assert result.exit_code == 1
    assert "no such branch or revision: nope" in result.output


def _merge_branch(repo: Path) -> None:
    """Carol's work on a branch, merged by a maintainer with a merge commit."""
    subprocess.run(["git", "checkout", "-q", "-b", "feature"], cwd=repo, check=True)
    _commit(repo, CAROL, 1_700_004_000, {"pkg/more.py": LOOP_WITH_LIST.replace(b"keep", b"more")})
    _commit(repo, CAROL, 1_700_005_000, {"pkg/more.py": FIXED_WITH_COMPREHENSION})
    subprocess.run(["git", "checkout", "-q", "main"], cwd=repo, check=True)
    _commit(repo, ALICE, 1_700_006_000, {"pkg/other.py": PLAIN})
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "maintainer",
        "GIT_AUTHOR_EMAIL": MAINTAINER,
        "GIT_AUTHOR_DATE": "1700007000 +0000",
        "GIT_COMMITTER_NAME": "maintainer",
        "GIT_COMMITTER_EMAIL": MAINTAINER,
        "GIT_COMMITTER_DATE": "1700007000 +0000",
    }
    subprocess.run(
        ["git", "merge", "-q", "--no-ff", "-m", "merge feature", "feature"],
        cwd=repo,
        check=True,
        env=env,
    )


CAROL = "carol@example.com"
MAINTAINER = "maintainer@example.com"


def test_merged_branches_commits_go_to_their_authors_and_merges_to_nobody(
    repo: Path, tmp_path: Path
) -> None:
    _merge_branch(repo)
    data = tmp_path / "data"
    with SqliteProgressStore(data / DATABASE_NAME) as store:
        summary = run_baseline(repo, store, Config(root=repo, team_salt=SALT), data, jobs=1)
    assert summary.commits == 7  # 4 + Carol's 2 + Alice's 1; the merge is skipped
    assert summary.authors == 3 and summary.coders == 3
    carol = _events(data, CAROL)
    assert {e.kind for e in carol} >= {
        EventKind.ANTIPATTERN_INTRODUCED,
        EventKind.ANTIPATTERN_FIXED,
    }
    assert _events(data, MAINTAINER) == []


def test_workers_give_what_one_process_gives(repo: Path, tmp_path: Path) -> None:
    _merge_branch(repo)
    for n in range(40):  # enough commits for several chunks
        body = LOOP_WITH_LIST if n % 2 else FIXED_WITH_COMPREHENSION
        _commit(repo, (ALICE, BOB, CAROL)[n % 3], 1_700_010_000 + n, {f"pkg/m{n % 5}.py": body})
    one = _run(repo, tmp_path / "one", jobs=1)
    two = _run(repo, tmp_path / "two", jobs=2)
    assert one == two and len(one) > 40


def test_a_later_run_walks_only_new_commits(repo: Path, tmp_path: Path) -> None:
    data = tmp_path / "data"
    _run(repo, data)
    _merge_branch(repo)
    with SqliteProgressStore(data / DATABASE_NAME) as store:
        summary = run_baseline(repo, store, Config(root=repo, team_salt=SALT), data)
    assert (summary.commits, summary.resumed) == (3, 0)
    assert _rows(data) == _run(repo, tmp_path / "fresh")


def test_a_damaged_cursor_file_only_costs_time(repo: Path, tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "baseline-cursors.json").write_text('{"x": {"walked": "../../etc", "done": 3}}')
    assert _run(repo, data) == _run(repo, tmp_path / "fresh")


def test_typescript_and_go_changes_count_and_vendored_code_does_not(tmp_path: Path) -> None:
    """History in the other languages reads as Python's does; vendored, built and generated
    files are nobody's own code."""
    root = tmp_path / "polyglot"
    root.mkdir()
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=root, check=True)
    executor = b"export const load = (u: string) =>\n  new Promise(async (r) => r(await get(u)));\n"
    folded = (
        b'package names\n\nimport "strings"\n\nfunc Same(a, b string) bool {\n'
        b"\treturn strings.ToLower(a) == strings.ToLower(b)\n}\n"
    )
    _commit(
        root,
        ALICE,
        1_700_000_000,
        {
            "web/load.ts": executor,
            "vendor/dep/names.go": folded,
            "node_modules/x/load.ts": executor,
            "dist/load.js": executor,
            "web/types.d.ts": executor,
        },
    )
    _commit(root, BOB, 1_700_001_000, {"names/names.go": folded})
    _commit(root, ALICE, 1_700_002_000, {"web/load.ts": b"export const load = get;\n"})
    data = tmp_path / "data"
    _run(root, data)
    alice = [(e.kind, e.rule_id, e.language) for e in _events(data, ALICE)]
    bob = [(e.kind, e.rule_id, e.language) for e in _events(data, BOB)]
    # Once, from web/load.ts: not from node_modules, dist or a .d.ts; nothing from vendor/.
    assert alice.count((EventKind.ANTIPATTERN_INTRODUCED, "JS015", "typescript")) == 1
    assert (EventKind.ANTIPATTERN_FIXED, "JS015", "typescript") in alice
    assert {language for *_, language in alice} == {"typescript"}
    assert (EventKind.ANTIPATTERN_INTRODUCED, "GO007", "go") in bob
    assert {language for *_, language in bob} == {"go"}


def test_a_committed_build_folder_is_its_authors_code(tmp_path: Path) -> None:
    """A ``build`` folder in history holds build scripts or documentation sources (SQLAlchemy's
    ``doc/build/conf.py``): its author is counted, as ``git log`` counts them. Dependencies and
    bundles stay out."""
    root = tmp_path / "docs"
    root.mkdir()
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=root, check=True)
    _commit(root, CAROL, 1_700_000_000, {"doc/build/conf.py": LOOP_WITH_LIST})
    _commit(root, BOB, 1_700_001_000, {"dist/keep.py": LOOP_WITH_LIST})
    data = tmp_path / "data"
    with SqliteProgressStore(data / DATABASE_NAME) as store:
        summary = run_baseline(root, store, Config(root=root, team_salt=SALT), data)
    assert summary.coders == 1
    assert (EventKind.ANTIPATTERN_INTRODUCED, "PY001") in {
        (e.kind, e.rule_id) for e in _events(data, CAROL)
    }
    assert _events(data, BOB) == []


def _trimmed_repository(tmp_path: Path) -> Path:
    """Three commits, the second of which git cannot list: an object it needs is missing."""
    root = tmp_path / "trimmed"
    root.mkdir()
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=root, check=True)
    module = b"".join(b"def f%d(x):\n    return x + %d\n\n" % (i, i) for i in range(30))
    _commit(root, ALICE, 1_700_000_000, {"pkg/a.py": module})
    # A rename with an edit: listing it reads the old blob, to measure their likeness.
    _commit(root, ALICE, 1_700_001_000, {"pkg/a.py": None, "pkg/b.py": module + b"# more\n"})
    _commit(root, BOB, 1_700_002_000, {"pkg/words.py": LOOP_WITH_LIST})
    blob = (
        subprocess.run(
            ["git", "rev-parse", "HEAD~2:pkg/a.py"], cwd=root, capture_output=True, check=True
        )
        .stdout.decode()
        .strip()
    )
    (root / ".git" / "objects" / blob[:2] / blob[2:]).unlink()
    return root


def test_a_commit_git_cannot_read_is_left_out_and_counted(tmp_path: Path) -> None:
    """A clone missing an object (partial, trimmed or damaged) fails git's listing of every
    commit: the walk leaves out the commit it cannot read, says so, and credits the rest."""
    root = _trimmed_repository(tmp_path)
    data = tmp_path / "data"
    with SqliteProgressStore(data / DATABASE_NAME) as store:
        summary = run_baseline(root, store, Config(root=root, team_salt=SALT), data, jobs=1)
    assert (summary.unreadable, summary.commits, summary.complete) == (1, 2, False)
    assert (EventKind.ANTIPATTERN_INTRODUCED, "PY001") in {
        (e.kind, e.rule_id) for e in _events(data, BOB)
    }
    # Not marked done: the next run tries that commit again, and only that one.
    with SqliteProgressStore(data / DATABASE_NAME) as store:
        again = run_baseline(root, store, Config(root=root, team_salt=SALT), data, jobs=1)
    assert (again.unreadable, again.commits, again.resumed) == (1, 0, 2)


def test_cli_says_which_commits_it_left_out(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _trimmed_repository(tmp_path)
    monkeypatch.setenv("LESSONLENS_DATA_DIR", str(tmp_path / "data"))
    result = CliRunner().invoke(main, ["baseline", str(root)])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("2 commits")
    assert "1 commit left out: git could not read them" in result.output
