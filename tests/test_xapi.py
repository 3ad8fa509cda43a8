"""xAPI statements, and `sync` against a real Ralph LRS started by a fixture."""

from __future__ import annotations

import base64
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest

from lessonlens.server.learner.progress import Event, EventKind, SqliteProgressStore
from lessonlens.server.team.lrs import LrsError, sync
from lessonlens.server.team.statements import STATEMENT_NAMESPACE, statement, statement_id

HOME = "https://example.org/developers"
USER, PASSWORD = "lessonlens", "not-a-real-secret"
VERBS = "http://adlnet.gov/expapi/verbs/"


def _event(kind: EventKind, i: int, **fields: Any) -> Event:
    return Event(kind, "dev-1", "data-structures", 1_700_000_000.0 + i, id=f"e{i:05d}", **fields)


def test_lesson_opened_statement_shape() -> None:
    event = _event(EventKind.LESSON_OPENED, 1, rule_id="PY001", lesson_id="membership-set")
    made = statement(event, homepage=HOME)
    assert made is not None
    assert made["actor"] == {"objectType": "Agent", "account": {"homePage": HOME, "name": "dev-1"}}
    assert made["verb"]["id"] == f"{VERBS}experienced"
    assert made["object"]["id"] == "https://lessonlens.dev/xapi/lessons/membership-set"
    assert made["object"]["definition"]["type"] == "http://adlnet.gov/expapi/activities/lesson"
    extensions = made["context"]["extensions"]
    assert extensions["https://lessonlens.dev/xapi/extensions/rule"] == "PY001"
    assert extensions["https://lessonlens.dev/xapi/extensions/language"] == "python"
    assert made["timestamp"] == "2023-11-14T22:13:21.000Z"
    assert made["version"] == "1.0.3"


def test_statements_are_deterministic() -> None:
    event = _event(EventKind.MASTERED, 2)
    assert statement(event, homepage=HOME) == statement(event, homepage=HOME)
    assert statement_id(event) == statement_id(replace(event, time=0.0))
    assert statement_id(event) != statement_id(replace(event, id="other"))
    # A fixed namespace: changing it would duplicate everything already sent.
    assert statement_id(event) == str(uuid.uuid5(STATEMENT_NAMESPACE, "e00002"))
    assert str(STATEMENT_NAMESPACE) == "ae471ceb-6f90-51f0-b95b-27c5eab7bda8"
    made = statement(event, homepage=HOME)
    assert made is not None and made["verb"]["id"] == f"{VERBS}mastered"


@pytest.mark.parametrize(
    ("correct", "verb", "success"),
    [(True, "passed", True), (False, "failed", False), (None, "attempted", None)],
)
def test_review_answers(correct: bool | None, verb: str, success: bool | None) -> None:
    event = _event(EventKind.REVIEW_ANSWERED, 3, lesson_id="membership-set", correct=correct)
    made = statement(event, homepage=HOME)
    assert made is not None and made["verb"]["id"] == f"{VERBS}{verb}"
    assert made.get("result", {}).get("success") == success


def test_telemetry_is_not_sent() -> None:
    for kind in (EventKind.HINT_SHOWN, EventKind.HINT_DISMISSED, EventKind.RULE_MUTED):
        assert statement(_event(kind, 4, rule_id="PY001"), homepage=HOME) is None


# --- a real Ralph LRS ---------------------------------------------------------------------------

_RALPH = shutil.which("ralph", path=str(Path(sys.executable).parent)) or shutil.which("ralph")
# Ralph's file-system backend fails every POST after the first: the fixture runs it with the
# same fix as `make lrs` (examples/lrs/sitecustomize.py, imported from PYTHONPATH).
_SHIM = Path(__file__).resolve().parent.parent / "examples" / "lrs"


@dataclass
class Ralph:
    folder: Path
    port: int
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/xAPI/"

    def env(self) -> dict[str, str]:
        shim = _SHIM
        return {
            **os.environ,
            "PYTHONPATH": os.pathsep.join([str(shim), os.environ.get("PYTHONPATH", "")]),
            "RALPH_APP_DIR": str(self.folder / "app"),
            "RALPH_AUTH_FILE": str(self.folder / "app" / "auth.json"),
            "RALPH_RUNSERVER_BACKEND": "fs",
            "RALPH_BACKENDS__LRS__FS__DEFAULT_DIRECTORY_PATH": str(self.folder / "data"),
        }

    def start(self) -> None:
        log = (self.folder / "ralph.log").open("ab")
        self.process = subprocess.Popen(
            [str(_RALPH), "runserver", "-b", "fs", "-h", "127.0.0.1", "-p", str(self.port)],
            cwd=self.folder / "data",
            env=self.env(),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # runserver forks a reloader and a server: stop them all
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                self.get("/__heartbeat__")
                return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError((self.folder / "ralph.log").read_text()[-2000:])

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        self.process = None

    def get(self, path: str) -> Any:
        token = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.port}{path}",
            headers={"Authorization": f"Basic {token}", "X-Experience-API-Version": "1.0.3"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read())

    def statements(self) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        page = self.get("/xAPI/statements?limit=500")
        while True:
            found.extend(page["statements"])
            if not page.get("more"):
                return found
            page = self.get(page["more"])


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def ralph(tmp_path: Path) -> Iterator[Ralph]:
    if _RALPH is None:
        pytest.skip("Ralph is not installed (pip install 'ralph-malph[cli,lrs,backend-fs]')")
    server = Ralph(tmp_path / "ralph", _free_port())
    for folder in ("app", "data"):
        (server.folder / folder).mkdir(parents=True)
    agent = ["-A", "lessonlens-sync", "https://example.org"]
    subprocess.run(
        [str(_RALPH), "auth", "-u", USER, "-p", PASSWORD, "-s", "all", *agent, "--write-to-disk"],
        env=server.env(),
        check=True,
        capture_output=True,
    )
    server.start()
    try:
        yield server
    finally:
        server.stop()


def _history(store: SqliteProgressStore, count: int) -> list[Event]:
    kinds = [
        (EventKind.LESSON_OPENED, {"lesson_id": "membership-set", "rule_id": "PY001"}),
        (EventKind.HINT_SHOWN, {"rule_id": "PY001"}),
        (EventKind.REVIEW_ANSWERED, {"lesson_id": "membership-set", "correct": True}),
        (EventKind.SKILL_EVIDENCE, {"rule_id": "PY001"}),
        (EventKind.REVIEW_ANSWERED, {"lesson_id": "membership-set", "correct": False}),
        (EventKind.ANTIPATTERN_FIXED, {"rule_id": "PY001"}),
    ]
    events = [_event(kinds[i % len(kinds)][0], i, **kinds[i % len(kinds)][1]) for i in range(count)]
    events.append(_event(EventKind.MASTERED, count))
    store.record(events)
    return [event for event in events if statement(event, homepage=HOME) is not None]


def _sync(store: SqliteProgressStore, ralph: Ralph, cursor: Path, **options: Any) -> Any:
    return sync(
        store,
        "dev-1",
        ralph.url,
        batch=options.pop("batch", 10),
        username=USER,
        password=PASSWORD,
        cursor_path=cursor,
        homepage=HOME,
        **options,
    )


def test_sync_to_ralph_twice_without_duplicates(ralph: Ralph, tmp_path: Path) -> None:
    cursor = tmp_path / "cursor.json"
    with SqliteProgressStore(tmp_path / "p.sqlite3") as store:
        expected = _history(store, 47)
        first = _sync(store, ralph, cursor)
        assert first.sent == len(expected) and first.batches == 4
        assert _sync(store, ralph, cursor).sent == 0  # the cursor: nothing left to send
        # Without the cursor everything goes again, and the LRS keeps one copy of each.
        assert _sync(store, ralph, cursor, full=True, batch=7).sent == len(expected)
    stored = ralph.statements()
    assert sorted(s["id"] for s in stored) == sorted(statement_id(e) for e in expected)
    by_id = {s["id"]: s for s in stored}
    for event in expected:
        made = statement(event, homepage=HOME)
        assert made is not None
        back = by_id[made["id"]]
        assert back["actor"] == made["actor"]
        assert back["verb"]["id"] == made["verb"]["id"]
        assert back["object"]["id"] == made["object"]["id"]
        assert back.get("result") == made.get("result")
        assert back["context"]["extensions"] == made["context"]["extensions"]


def test_lrs_killed_mid_sync_loses_nothing(ralph: Ralph, tmp_path: Path) -> None:
    cursor = tmp_path / "cursor.json"
    with SqliteProgressStore(tmp_path / "p.sqlite3") as store:
        expected = _history(store, 60)

        def kill_after_first(progress: Any) -> None:
            if progress.batches == 1:
                ralph.stop()

        with pytest.raises(LrsError, match="did not take the statements after 3 tries"):
            _sync(store, ralph, cursor, retries=2, backoff_s=0.01, on_batch=kill_after_first)
        assert json.loads(cursor.read_text())["count"] >= 10
        ralph.start()
        # Events recorded meanwhile, one of them dated before the cursor (a backfill).
        late = [
            _event(EventKind.MASTERED, 1000),
            _event(EventKind.LESSON_OPENED, -5, lesson_id="x"),
        ]
        store.record(late)
        result = _sync(store, ralph, cursor)
        assert result.resent_all
    stored = [s["id"] for s in ralph.statements()]
    assert len(stored) == len(set(stored))
    assert set(stored) == {statement_id(e) for e in [*expected, *late]}


def test_unauthorised_is_a_clear_error(ralph: Ralph, tmp_path: Path) -> None:
    with SqliteProgressStore(tmp_path / "p.sqlite3") as store:
        _history(store, 3)
        with pytest.raises(LrsError, match="HTTP 401") as caught:
            sync(
                store,
                "dev-1",
                ralph.url,
                username=USER,
                password="wrong-password",
                cursor_path=tmp_path / "cursor.json",
            )
    assert "wrong-password" not in str(caught.value)
    assert not (tmp_path / "cursor.json").exists()


def test_sync_command(ralph: Ralph, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from click.testing import CliRunner

    from lessonlens.server.cli import main
    from lessonlens.server.learner.pseudonym import developer_pseudonym

    monkeypatch.setenv("LESSONLENS_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("LESSONLENS_LRS_USERNAME", USER)
    monkeypatch.setenv("LESSONLENS_LRS_PASSWORD", PASSWORD)
    monkeypatch.chdir(tmp_path)
    developer = developer_pseudonym(None, None, tmp_path / "data")
    with SqliteProgressStore(tmp_path / "data" / "progress.sqlite3") as store:
        store.record([replace(_event(EventKind.MASTERED, 1), developer=developer)])
    first = CliRunner().invoke(main, ["sync", "--lrs", ralph.url])
    assert first.exit_code == 0, first.output
    assert "Sent 1 statement in 1 batches." in first.output
    assert PASSWORD not in first.output
    again = CliRunner().invoke(main, ["sync", "--lrs", ralph.url])
    assert "Sent 0 statements" in again.output
    assert len(ralph.statements()) == 1


def test_sync_checks_the_lrs_first(
    ralph: Ralph, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Nothing listening, a wrong address, refused credentials: each is an error saying so,
    never "Sent 0 statements"."""
    from click.testing import CliRunner

    from lessonlens.server.cli import main

    monkeypatch.setenv("LESSONLENS_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("LESSONLENS_LRS_USERNAME", USER)
    monkeypatch.setenv("LESSONLENS_LRS_PASSWORD", "wrong")
    refused = CliRunner().invoke(main, ["sync", "--lrs", ralph.url])
    assert refused.exit_code == 1
    assert "refused the credentials (HTTP 401" in refused.output
    assert "wrong" not in refused.output
    monkeypatch.setenv("LESSONLENS_LRS_PASSWORD", PASSWORD)
    wrong_path = CliRunner().invoke(main, ["sync", "--lrs", f"http://127.0.0.1:{ralph.port}/"])
    assert wrong_path.exit_code == 1
    assert "is http://127.0.0.1" in wrong_path.output and "an xAPI endpoint" in wrong_path.output
    nobody = CliRunner().invoke(main, ["sync", "--lrs", f"http://127.0.0.1:{_free_port()}/xAPI/"])
    assert nobody.exit_code == 1
    assert "no LRS answers at" in nobody.output and "make lrs" in nobody.output
    assert "Sent" not in refused.output + wrong_path.output + nobody.output
    assert ralph.statements() == []
