"""Hostile caches, configuration files and model manifests (issue 14, area 2).

A cache restored by CI from another pull request, a repository's own ``pyproject.toml`` and a
manifest in the model folder are all input someone else may have written. Each may cost speed
or show a message; none may run code, crash a command, leave a request unanswered or change what
is reported.
"""

from __future__ import annotations

import json
import os
import pickle
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from lsp_client import PULL, Editor
from lsprotocol import types
from samples import RELATED, WALKER

from lessonlens.model_runtime import build as model_build
from lessonlens.model_runtime.store import MANIFEST_NAME, BuildError
from lessonlens.server.cli import main

SAMPLE = (Path(__file__).parent / "fixtures" / "lsp" / "sample.py").read_text("utf-8")
SAMPLE_RULES = ["PY001", "PY011", "PY022"]
# A loop over a list literal membership test: PY001 fires on the line typed into the editor.
BAD = """
def scan(words):
    out = 0
    for w in words:
        if w in ["a", "an", "the", "of"]:
            out += 1
    return out
"""


# ---------------------------------------------------------------------- helpers


class Canary:
    """A pickle that, when loaded, writes a file: what a hostile cache entry would do."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __reduce__(self) -> tuple[Any, ...]:
        return (exec, (f"open({str(self.path)!r}, 'w').write('ran')",))


def cache_values(folder: Path) -> list[bytes]:
    """Every stored value in every SQLite file under ``folder``, whatever the schema."""
    values: list[bytes] = []
    for db in sorted(folder.rglob("*.db")) + sorted(folder.rglob("*.sqlite3")):
        with sqlite3.connect(db) as connection:
            for (table,) in connection.execute("SELECT name FROM sqlite_master WHERE type='table'"):
                for column in connection.execute(f"PRAGMA table_info('{table}')"):
                    if column[2].upper() == "BLOB":
                        query = f'SELECT "{column[1]}" FROM "{table}"'
                        values.extend(
                            v for (v,) in connection.execute(query) if isinstance(v, bytes) and v
                        )
    return values


def scribble(folder: Path, make: Any, *, unpickled_by_store: bool = False) -> int:
    """Replace every stored value with ``make(old_value, all_values)``, as an attacker would.

    Works on any SQLite layout: every BLOB column of every table is rewritten. With
    ``unpickled_by_store``, rows of a diskcache file are also marked ``mode`` 4, which tells
    diskcache itself to unpickle the value.
    """
    changed = 0
    everything = cache_values(folder)
    for db in sorted(folder.rglob("*.db")) + sorted(folder.rglob("*.sqlite3")):
        with sqlite3.connect(db) as connection:
            tables = connection.execute("SELECT name FROM sqlite_master WHERE type='table'")
            for (table,) in list(tables):
                columns = list(connection.execute(f"PRAGMA table_info('{table}')"))
                names = {c[1] for c in columns}
                for column in (c[1] for c in columns if c[2].upper() == "BLOB"):
                    rows = connection.execute(f'SELECT rowid, "{column}" FROM "{table}"')
                    for rowid, value in list(rows):
                        if not isinstance(value, bytes) or not value:
                            continue
                        new = make(value, everything)
                        sets = f'"{column}" = ?'
                        if unpickled_by_store and "mode" in names:
                            sets += ", mode = 4"
                        connection.execute(
                            f'UPDATE "{table}" SET {sets} WHERE rowid = ?', (new, rowid)
                        )
                        changed += 1
    return changed


def run_cli(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "lessonlens", *args],
        cwd=cwd,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=120,
    )


def reported(stdout: str) -> list[tuple[str, int]]:
    files = json.loads(stdout)["files"]
    return [(f["rule"], f["line"]) for file in files for f in file["findings"]]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    folder = tmp_path / "project"
    (folder / ".git").mkdir(parents=True)
    (folder / "sample.py").write_text(SAMPLE, "utf-8")
    return folder


# ---------------------------------------------------------------------- the analysis cache


@pytest.mark.parametrize(
    "payload",
    ["canary", "wrong-type", "garbage", "json-wrong-shape", "json-truncated"],
)
def test_a_hostile_analysis_cache_entry_is_a_miss_never_code_or_an_error(
    project: Path, tmp_path: Path, payload: str
) -> None:
    cache = tmp_path / "cache"
    canary = tmp_path / "canary"
    args = ("check", "--format", "json", "--cache-dir", str(cache), "sample.py")
    clean = run_cli(*args, cwd=project)
    assert clean.returncode == 0, clean.stderr
    assert sorted(r for r, _ in reported(clean.stdout)) == SAMPLE_RULES

    def make(old: bytes, _everything: list[bytes]) -> bytes:
        return {
            "canary": lambda: pickle.dumps(Canary(canary)),
            "wrong-type": lambda: pickle.dumps(("not", "an", "analysis")),
            "garbage": lambda: os.urandom(64),
            "json-wrong-shape": lambda: json.dumps({"findings": 5, "evidence": "x"}).encode(),
            "json-truncated": lambda: old[: len(old) // 2],
        }[payload]()

    assert scribble(cache, make) > 0
    hostile = run_cli(*args, cwd=project)
    assert not canary.exists(), "a cache entry ran code"
    assert hostile.returncode == 0, hostile.stderr
    assert "Traceback" not in hostile.stderr
    assert reported(hostile.stdout) == reported(clean.stdout)
    # The bad entry was replaced by a good one: the next run is answered from the cache.
    assert not any(v == make(v, []) for v in cache_values(cache) if payload != "garbage")
    again = run_cli(*args, cwd=project)
    assert reported(again.stdout) == reported(clean.stdout)


def test_no_pickle_on_any_read_path() -> None:
    """The product never deserialises with pickle, marshal or shelve (or diskcache, which does)."""
    root = Path(__file__).resolve().parent.parent
    offenders = []
    for folder in ("server", "lsp", "lessons", "analyzers", "model_runtime"):
        for path in (root / folder).rglob("*.py"):
            text = path.read_text("utf-8")
            for needle in ("import pickle", "import marshal", "import shelve", "import diskcache"):
                if needle in text:
                    offenders.append(f"{path.relative_to(root)}: {needle}")
    assert offenders == []


# ---------------------------------------------------------------------- the embedding cache


def related_run(folder: Path, shipped: Path, cache_home: Path) -> subprocess.CompletedProcess[str]:
    env = {"LESSONLENS_MODEL_DIR": str(shipped), "XDG_CACHE_HOME": str(cache_home)}
    return run_cli(
        "check", "--related", "--format", "json", "--no-cache", "code.py", cwd=folder, env=env
    )


def related_lessons(stdout: str) -> list[tuple[int, str]]:
    files = json.loads(stdout)["files"]
    return [(r["line"], r["lesson"]["id"]) for file in files for r in file["related"]]


@pytest.mark.parametrize("damage", ["canary", "vectors-moved", "flipped-bits"])
def test_a_scribbled_embedding_cache_changes_nothing_and_runs_nothing(
    shipped: Path, project: Path, tmp_path: Path, damage: str
) -> None:
    (project / "code.py").write_text(RELATED + "\n" + WALKER, "utf-8")
    cache_home = tmp_path / "xdg-cache"
    canary = tmp_path / "canary"
    clean = related_run(project, shipped, cache_home)
    assert clean.returncode == 0, clean.stderr
    lessons = related_lessons(clean.stdout)
    assert lessons, "the sample has a related lesson"

    def make(old: bytes, everything: list[bytes]) -> bytes:
        if damage == "canary":
            return pickle.dumps(Canary(canary))
        if damage == "vectors-moved":  # each key gets another key's well-formed entry
            return everything[(everything.index(old) + 1) % len(everything)]
        flipped = bytearray(old)
        for i in range(len(flipped) // 2, len(flipped), 7):
            flipped[i] ^= 0x55
        return bytes(flipped)

    folder = cache_home / "lessonlens" / "embeddings"
    assert scribble(folder, make, unpickled_by_store=damage == "canary") > 0
    hostile = related_run(project, shipped, cache_home)
    assert not canary.exists(), "an embedding cache entry ran code"
    assert hostile.returncode == 0, hostile.stderr
    assert related_lessons(hostile.stdout) == lessons
    assert reported(hostile.stdout) == reported(clean.stdout)


# ---------------------------------------------------------------------- pyproject.toml

BAD_CONFIGS = {
    "tool-not-a-table": (b'tool = "lessonlens"\n', "tool"),
    "tool-a-string": (b'tool = "x"\n', "tool"),
    "project-not-a-table": (b"project = 5\n", "project"),
    "lessonlens-not-a-table": (b"[tool]\nlessonlens = 3\n", "tool.lessonlens"),
    "requires-python-not-a-string": (
        b"[project]\nrequires-python = 3\n",
        "project.requires-python",
    ),
    "not-utf8": (b'[tool.lessonlens]\nselect = ["\xff\xfe"]\n', "(file)"),
    "nested-too-deep": (b"a = " + b"[" * 5000 + b"]" * 5000 + b"\n", "(file)"),
    "nul-in-lesson-dir": (
        b'[tool.lessonlens]\nlesson-dirs = ["a\\u0000b"]\n',
        "tool.lessonlens.lesson-dirs",
    ),
}


@pytest.mark.parametrize("name", sorted(BAD_CONFIGS))
def test_a_wrong_pyproject_is_exit_2_with_the_file_and_key(project: Path, name: str) -> None:
    data, key = BAD_CONFIGS[name]
    config = project / "pyproject.toml"
    config.write_bytes(data)
    result = run_cli("check", "--no-cache", "sample.py", cwd=project)
    assert "Traceback" not in result.stderr
    assert result.returncode == 2, result.stderr
    assert f"{config}: {key}: " in result.stderr
    assert result.stdout == ""


def codes(diagnostics: list[types.Diagnostic]) -> list[str]:
    return sorted(str(d.code) for d in diagnostics)


@pytest.mark.parametrize("name", ["project-not-a-table", "tool-not-a-table", "not-utf8"])
async def test_in_the_editor_a_wrong_pyproject_is_a_notice_and_work_goes_on(
    tmp_path: Path, name: str
) -> None:
    root = tmp_path / "project"
    root.mkdir()
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    subprocess.run(["git", "-C", str(root), "config", "user.email", "dev@example.com"], check=True)
    data, key = BAD_CONFIGS[name]
    (root / "pyproject.toml").write_bytes(data)
    editor = Editor(root, tmp_path / "data")
    await editor.start(PULL, {"adaptiveHints": False, "modelDevice": "off"})
    try:
        assert codes(await editor.open(SAMPLE)) == SAMPLE_RULES
        assert codes(await editor.change_all(SAMPLE + BAD)).count("PY001") == 2
        messages = await editor.wait_for_message(timeout=10)
        assert any(f"{root / 'pyproject.toml'}: {key}: " in m for m in messages)
        await editor.request("lessonlens/progress", None)
    finally:
        await editor.stop()
    with sqlite3.connect(tmp_path / "data" / "progress.sqlite3") as connection:
        kinds = {row[0] for row in connection.execute("SELECT kind FROM events")}
    assert "antipattern_introduced" in kinds, "progress tracking went on"


# ---------------------------------------------------------------------- the model manifest


@pytest.fixture
def model_copy(shipped: Path, tmp_path: Path) -> Path:
    """The built model, files linked (not copied: ~270 MB), its manifest a private copy."""
    folder = tmp_path / "model"
    folder.mkdir()
    for item in shipped.iterdir():
        if item.name == MANIFEST_NAME:
            shutil.copyfile(item, folder / item.name)
        else:
            (folder / item.name).symlink_to(item)
    return folder


def shipped_manifest(folder: Path) -> dict[str, Any]:
    manifest: dict[str, Any] = json.loads((folder / MANIFEST_NAME).read_text())
    return manifest


MANIFESTS: dict[str, Any] = {
    "list": [],
    "string": "x",
    "dim-only": {"dim": 7},
    "variants-a-list": {"format": 1, "variants": []},
    "nested-too-deep": "[" * 100_000 + "]" * 100_000,
    "wrong-dim": None,  # the shipped manifest with "dim": 7
}


@pytest.mark.parametrize("shape", sorted(MANIFESTS))
def test_model_build_if_missing_rebuilds_over_a_manifest_of_any_shape(
    model_copy: Path, monkeypatch: pytest.MonkeyPatch, shape: str
) -> None:
    value = MANIFESTS[shape]
    if shape == "wrong-dim":
        value = {**shipped_manifest(model_copy), "dim": 7}
    text = value if shape == "nested-too-deep" else json.dumps(value)
    (model_copy / MANIFEST_NAME).write_text(text)
    started: list[Path] = []

    def record(target: Path, *args: object, **kwargs: object) -> None:
        started.append(target)
        raise BuildError("stopped by the test")

    monkeypatch.setattr(model_build, "build", record)
    result = CliRunner().invoke(main, ["model", "build", "--if-missing", "--dir", str(model_copy)])
    assert isinstance(result.exception, SystemExit), result.exception
    assert f"building the model: the model manifest {model_copy}" in result.output
    assert started == [model_copy]


def test_a_wrong_dimension_disables_related_lessons_not_the_rule_findings(
    model_copy: Path, project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    manifest = shipped_manifest(model_copy)
    manifest["dim"] = 7
    (model_copy / MANIFEST_NAME).write_text(json.dumps(manifest))
    (project / "graph.py").write_text(WALKER + "\nif area(1, 2) == None:\n    pass\n" + BAD)
    monkeypatch.chdir(project)
    monkeypatch.setenv("LESSONLENS_MODEL_DIR", str(model_copy))
    plain = CliRunner().invoke(main, ["check", "--no-cache", "--format", "json", "graph.py"])
    result = CliRunner().invoke(
        main, ["check", "--related", "--no-cache", "--format", "json", "graph.py"]
    )
    assert result.exit_code == plain.exit_code == 0, result.output
    assert "related lessons unavailable" in result.stderr and "7" in result.stderr
    assert reported(result.stdout) == reported(plain.stdout) != []
    (file,) = json.loads(result.stdout)["files"]
    assert file["related"] == []
