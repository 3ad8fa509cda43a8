"""The VS Code extension (editors/vscode) end to end, in a real VS Code.

code-server 4.100.3 (VS Code 1.100 served to a browser) installs the packaged .vsix and opens a
folder; headless Chromium, driven by ``tests/vscode_e2e/driver.js`` through puppeteer-core, opens
a Python file, reads the Problems panel, hovers a hint and applies its quick fix. The driver
reports what it saw as JSON; the assertions live here so that a failure shows the whole session.

`make test-vscode` (and `make test`) installs code-server and puppeteer-core from the npm registry
into ``.test-deps/vscode-e2e`` (``tests/vscode_e2e/install.sh``), builds the .vsix and runs this
file with ``LESSONLENS_VSCODE_E2E`` pointing there. Like the Neovim test, this one fails rather
than skips without them: a skipped editor test would let the extension rot unnoticed.

Every folder code-server, the extension and the server write to is in ``tmp_path``.
"""

from __future__ import annotations

import contextlib
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
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from lessonlens.lessons.catalog import load_catalog

REPO = Path(__file__).resolve().parents[1]
EXTENSION_DIR = REPO / "editors" / "vscode"
DRIVER = Path(__file__).resolve().parent / "vscode_e2e" / "driver.js"
CATALOG = load_catalog()

SAMPLE = '''\
"""Opened by tests/test_vscode.py in a real VS Code."""


def count_stop_words(words):
    n = 0
    for w in words:
        if w in ["a", "an", "the", "of"]:
            n += 1
    return n


def squares(values):
    result = []
    for value in values:
        result.append(value * value)
    return result


def total(prices):
    return sum([p * 2 for p in prices])
'''
# Where each expected hint starts: the line holding the text, at the text.
EXPECTED_STARTS = {
    "PY001": 'w in ["a"',
    "PY004": "result = []",
    "PY013": "[p * 2 for p in prices]",
}
# The hint hovered, and the one whose quick fix is applied: a safe fix, so VS Code prefers it.
HOVERED = "PY001"
FIXED = "PY013"
FIX_TITLE = "Fix: Pass a generator expression"
FIXED_SAMPLE = SAMPLE.replace("sum([p * 2 for p in prices])", "sum(p * 2 for p in prices)")
# Bounds for the driver's waits (ms): code-server's first load and the server's first analysis
# are the slow ones; then the whole session, and code-server's start.
DRIVER_TIMEOUTS = {"load": 90_000, "problems": 90_000, "step": 20_000}
SESSION_TIMEOUT = 240
START_TIMEOUT = 60


@dataclass
class CodeServer:
    url: str
    folder: Path
    user_data: Path
    log: Path
    env: dict[str, str]


def e2e_dir() -> Path:
    value = os.environ.get("LESSONLENS_VSCODE_E2E")
    if not value:
        pytest.fail(
            "LESSONLENS_VSCODE_E2E is not set. Run `make test-vscode` (or `make test`): it "
            "installs code-server and puppeteer-core from npm into .test-deps/vscode-e2e "
            "(tests/vscode_e2e/install.sh), builds the .vsix, and runs this test with "
            "LESSONLENS_VSCODE_E2E=.test-deps/vscode-e2e.",
            pytrace=False,
        )
    folder = Path(value)
    folder = folder if folder.is_absolute() else REPO / folder
    if not (folder / "node_modules" / ".bin" / "code-server").exists():
        pytest.fail(
            f"no code-server in {folder}: run `make test-vscode`, or "
            f"tests/vscode_e2e/install.sh {value}",
            pytrace=False,
        )
    return folder


def vsix() -> Path:
    version = json.loads((EXTENSION_DIR / "package.json").read_text(encoding="utf-8"))["version"]
    path = EXTENSION_DIR / f"lessonlens-{version}.vsix"
    if not path.exists():
        pytest.fail(f"{path} is missing: `make vsix` builds it.", pytrace=False)
    return path


def program(name: str, hint: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"{name} is not installed: {hint}", pytrace=False)
    return path


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def tail(path: Path, size: int = 4000) -> str:
    return path.read_text(errors="replace")[-size:] if path.exists() else f"(no {path.name})"


def extension_logs(user_data: Path) -> str:
    """The extension's output channel ("lessonlens"), as code-server logged it."""
    logs = sorted((user_data / "logs").glob("**/*lessonlens*.log"))
    return "\n".join(f"--- {log.name}\n{tail(log)}" for log in logs) or "(no lessonlens log)"


def stop(process: subprocess.Popen[bytes]) -> None:
    """Stops code-server and everything it started (extension host, language server)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=10)
    # Whatever of the group is left, the leader included if it did not stop.
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=10)


@contextlib.contextmanager
def running_code_server(tmp_path: Path) -> Iterator[CodeServer]:
    """code-server with the .vsix installed, serving a folder that holds SAMPLE as sample.py.

    A context manager, not a fixture: a missing install then fails the test, as it should,
    rather than erroring in its setup.
    """
    deps = e2e_dir()
    binary = deps / "node_modules" / ".bin" / "code-server"
    package = vsix()
    env = dict(os.environ)
    for name in ("CONFIG", "DATA", "STATE", "CACHE"):
        folder = tmp_path / "xdg" / name.lower()
        folder.mkdir(parents=True, exist_ok=True)
        env[f"XDG_{name}_HOME"] = str(folder)
    # A developer with no history: every hint at full strength. The extension hands code-server's
    # environment to the server.
    env["LESSONLENS_DATA_DIR"] = str(tmp_path / "progress")
    # No extension gallery (code-server's default is open-vsx.org): nothing is fetched at run time.
    env["EXTENSIONS_GALLERY"] = json.dumps({"serviceUrl": ""})
    extensions, user_data = tmp_path / "extensions", tmp_path / "user-data"
    dirs = ["--extensions-dir", str(extensions), "--user-data-dir", str(user_data)]
    config = ["--config", str(tmp_path / "code-server.yaml")]

    installed = subprocess.run(
        [str(binary), *config, *dirs, "--install-extension", str(package)],
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert installed.returncode == 0 and "successfully installed" in installed.stdout, (
        f"installing {package.name} failed\n{installed.stdout}\n{installed.stderr}"
    )

    settings = {
        "lessonlens.pythonPath": sys.executable,
        # Related lessons need the model; nothing here does, and loading it only slows the start.
        "lessonlens.modelDevice": "off",
        "security.workspace.trust.enabled": False,
        "workbench.startupEditor": "none",
        "workbench.tips.enabled": False,
        # Nothing leaves the machine: no telemetry (built-in extensions send their own), no
        # JSON schemas, no extension updates or recommendations.
        "telemetry.telemetryLevel": "off",
        "json.schemaDownload.enable": False,
        "extensions.autoCheckUpdates": False,
        "extensions.autoUpdate": False,
        "extensions.ignoreRecommendations": True,
    }
    (user_data / "User").mkdir(parents=True, exist_ok=True)
    (user_data / "User" / "settings.json").write_text(json.dumps(settings, indent=1), "utf-8")

    folder = tmp_path / "workspace"
    folder.mkdir()
    (folder / "pyproject.toml").write_text('[project]\nname = "sample"\n', encoding="utf-8")
    (folder / "sample.py").write_text(SAMPLE, encoding="utf-8")

    url = f"http://127.0.0.1:{free_port()}"
    log = tmp_path / "code-server.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                str(binary),
                *config,
                *dirs,
                "--bind-addr",
                url.removeprefix("http://"),
                "--auth",
                "none",
                "--disable-telemetry",
                "--disable-update-check",
                str(folder),
            ],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    # Straight to code-server, whatever proxy the environment names.
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if process.poll() is not None:
                pytest.fail(
                    f"code-server exited ({process.returncode})\n{tail(log)}", pytrace=False
                )
            try:
                with opener.open(f"{url}/healthz", timeout=5) as answer:
                    if answer.status == 200:
                        break
            except (urllib.error.URLError, OSError):
                pass
            if time.monotonic() > deadline:
                pytest.fail(
                    f"code-server not up within {START_TIMEOUT} s\n{tail(log)}", pytrace=False
                )
            time.sleep(0.5)
        yield CodeServer(url, folder, user_data, log, env)
    finally:
        stop(process)


def run_driver(server: CodeServer, tmp_path: Path, driver_input: dict[str, Any]) -> dict[str, Any]:
    node = program("node", "Node.js 20 runs code-server; `make test-vscode` needs it.")
    shots = tmp_path / "screenshots"
    shots.mkdir()
    env = dict(server.env)
    env["NODE_PATH"] = str(e2e_dir() / "node_modules")
    env["DRIVER_INPUT"] = json.dumps(
        {
            "url": server.url,
            "folder": str(server.folder),
            "chromium": program("chromium", "`make test-vscode` installs it (apt-get)."),
            "shots": str(shots),
            "timeouts": DRIVER_TIMEOUTS,
            **driver_input,
        }
    )
    try:
        completed = subprocess.run(
            [node, str(DRIVER)],
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=SESSION_TIMEOUT,
        )
        stdout, stderr = completed.stdout, completed.stderr
    except subprocess.TimeoutExpired as error:
        stdout = error.stdout.decode(errors="replace") if isinstance(error.stdout, bytes) else ""
        stderr = error.stderr.decode(errors="replace") if isinstance(error.stderr, bytes) else ""
        stderr += f"\n(the driver did not finish within {SESSION_TIMEOUT} s)"
    lines = stdout.strip().splitlines()
    try:
        result: dict[str, Any] = json.loads(lines[-1]) if lines else {}
    except json.JSONDecodeError:
        result = {"error": "the driver printed no JSON"}
    screenshots = ", ".join(str(p) for p in sorted(shots.glob("*.png"))) or "(none)"
    page = result.pop("page", None)
    result["transcript"] = (
        f"driver result:\n{json.dumps(result, indent=1)}\n"
        f"driver stderr:\n{stderr[-6000:]}\n"
        f"screenshots: {screenshots}\n"
        + (f"page text at the failure:\n{page[:3000]}\n" if page else "")
        + f"code-server log:\n{tail(server.log)}\n"
        f"extension log:\n{extension_logs(server.user_data)}"
    )
    return result


def lesson_for(rule_id: str) -> Any:
    return next(lesson for lesson in CATALOG.lessons.values() if rule_id in lesson.rules)


def starts() -> dict[str, tuple[int, int]]:
    """Rule id -> (line, column) where its hint starts, both 1-based as VS Code shows them."""
    found = {}
    for number, line in enumerate(SAMPLE.splitlines(), start=1):
        for code, text in EXPECTED_STARTS.items():
            if text in line:
                found[code] = (number, line.index(text) + 1)
    assert found.keys() == EXPECTED_STARTS.keys()
    return found


def test_problems_hover_and_quick_fix_in_a_real_vscode(tmp_path: Path) -> None:
    where = starts()
    hover_line, hover_column = where[HOVERED]
    fix_line, fix_column = where[FIXED]
    with running_code_server(tmp_path) as code_server:
        result = run_driver(
            code_server,
            tmp_path,
            {
                "file": "sample.py",
                "codes": sorted(EXPECTED_STARTS),
                # Inside each hint's range: past its first character.
                "hover": {"line": hover_line, "column": hover_column + 2},
                "fix": {
                    "line": fix_line,
                    "column": fix_column + 1,
                    "title": FIX_TITLE,
                    "code": FIXED,
                    "expect": "sum(p * 2 for p in prices)",
                },
            },
        )
    transcript = result["transcript"]
    assert result.get("error") is None, transcript
    assert result["external"] == [], transcript

    # The Problems panel: each hint, from lessonlens, where the rule found it, naming its lesson,
    # with the rule id linking to the lesson's reference.
    problems = {row["code"]: row for row in result["problems"]}
    assert sorted(problems) == sorted(EXPECTED_STARTS), transcript
    assert len(result["problems"]) == len(EXPECTED_STARTS), transcript
    for code, (line, column) in where.items():
        lesson = lesson_for(code)
        assert problems[code]["source"] == "lessonlens", transcript
        assert problems[code]["line"] == f"[Ln {line}, Col {column}]", transcript
        assert problems[code]["message"].endswith(f" Lesson: {lesson.title}"), transcript
        assert problems[code]["href"] == lesson.url, transcript

    # The hover on a hint: the diagnostic, then the whole lesson, headed by its title.
    hover = result["hover"]
    title = lesson_for(HOVERED).title
    assert hover["headings"][0] == title, transcript
    assert f"Why you see this: {HOVERED}" in hover["text"], transcript

    # The quick fix menu: the safe fix, the lesson, the dismissals; the fix, applied and saved.
    actions = result["actions"]
    assert FIX_TITLE in actions, transcript
    assert f"Show lesson: {lesson_for(FIXED).title}" in actions, transcript
    assert f"Don't show {FIXED} again" in actions, transcript
    assert result["after"] == FIXED_SAMPLE, transcript
    assert (code_server.folder / "sample.py").read_text(encoding="utf-8") == FIXED_SAMPLE
    # The server analysed the fixed text: that hint is gone, the others stay.
    after = sorted(row["code"] for row in result["problemsAfterFix"])
    assert after == sorted(set(EXPECTED_STARTS) - {FIXED}), transcript
