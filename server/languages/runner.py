"""Running a lesson's example in another language's toolchain: a bounded subprocess.

The lesson languages import this module with the language registry, in every process; the
process machinery loads only when something runs.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from lessonlens.lessons.languages import ExampleError

# An example that runs longer than this is broken (or an infinite loop).
TIMEOUT_S = 120


def run_program(tool: str, arguments: list[str], name: str, filename: str, program: str) -> object:
    """Run ``tool`` on ``program`` in a scratch folder; the JSON its last output line holds.

    ``program`` is written to ``filename`` there first.
    """
    import shutil
    import subprocess
    import tempfile

    executable = shutil.which(tool)
    if executable is None:
        raise ExampleError(f"{name}: `{tool}` is not installed (make setup-test installs it)")
    with tempfile.TemporaryDirectory(prefix="lessonlens-example-") as folder:
        path = Path(folder) / filename
        path.write_text(program, encoding="utf-8")
        environment = {
            **os.environ,
            "GOPROXY": "off",
            "GOTOOLCHAIN": "local",
            "GOFLAGS": "-mod=mod",
            "GO111MODULE": "off",
        }
        try:
            done = subprocess.run(
                [executable, *arguments, str(path)],
                cwd=folder,
                capture_output=True,
                text=True,
                timeout=TIMEOUT_S,
                env=environment,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            raise ExampleError(f"{name}: ran past {TIMEOUT_S} s") from exc
    if done.returncode != 0:
        raise ExampleError(f"{name}: {tool} failed:\n{done.stderr.strip()[-2000:]}")
    lines = done.stdout.strip().splitlines()
    if not lines:
        raise ExampleError(f"{name}: printed nothing")
    try:
        return json.loads(lines[-1])
    except json.JSONDecodeError as exc:
        raise ExampleError(f"{name}: unreadable output {lines[-1][:200]!r}") from exc


def pair(value: object, name: str) -> tuple[object, object]:
    if not (isinstance(value, list) and len(value) == 2):
        raise ExampleError(f"{name}: expected [before, after], got {value!r}")
    return value[0], value[1]


def run_in(folder: Path, command: list[str], timeout: float) -> tuple[int | None, str]:
    """Run ``command`` in ``folder``: (exit status, or None past ``timeout``; its output).

    For a practice challenge's check, which runs the learner's own code: bounded in time, its
    output kept to the last 4,000 characters.
    """
    import shutil
    import subprocess

    executable = shutil.which(command[0])
    if executable is None:
        return 127, f"`{command[0]}` is not installed"
    try:
        done = subprocess.run(
            [executable, *command[1:]],
            cwd=folder,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            env={
                **os.environ,
                "PYTHONDONTWRITEBYTECODE": "1",
                # Go: the standard library only, no network, this machine's toolchain.
                "GOPROXY": "off",
                "GOTOOLCHAIN": "local",
                "GOFLAGS": "-mod=mod",
            },
        )
    except subprocess.TimeoutExpired:
        return None, f"stopped after {timeout:.0f} s"
    return done.returncode, (done.stdout + done.stderr)[-4000:]
