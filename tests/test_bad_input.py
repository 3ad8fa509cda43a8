"""Bad input never stops a scan: each file's trouble is reported and the rest are checked."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from samples import MEMBERSHIP

from lessonlens.server.cli import main


def lessonlens(*args: str) -> Result:
    return CliRunner().invoke(main, ["check", *args], catch_exceptions=False)


def checked(*args: str) -> tuple[dict[str, Any], str]:
    """The JSON report of a run that must succeed, and what it said on stderr."""
    result = lessonlens("--format", "json", "--no-cache", "--select", "PY001", *args)
    assert result.exit_code == 0, result.output
    payload: dict[str, Any] = json.loads(result.stdout)
    return payload, result.stderr


def located(payload: dict[str, Any]) -> list[tuple[str, int, int]]:
    return [(f["path"], x["line"], x["column"]) for f in payload["files"] for x in f["findings"]]


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "project"
    root.mkdir()
    (root / "good.py").write_text(MEMBERSHIP)
    monkeypatch.chdir(root)
    return root


def test_invalid_utf8_is_replaced_and_reported(project: Path) -> None:
    # A stray latin-1 byte on line 2; the finding after it must still be found, in place.
    (project / "bad.py").write_bytes(
        MEMBERSHIP.replace("n = 0", "n = 0  # caf\xe9").encode("latin-1")
    )
    payload, stderr = checked(".")
    assert ("bad.py", 4, 12) in located(payload)
    assert ("good.py", 4, 12) in located(payload)
    assert "bad.py: invalid utf-8 at line 2" in stderr
    assert "replacement" in stderr
    bad = next(f for f in payload["files"] if f["path"] == "bad.py")
    assert any("line 2" in p["message"] for p in bad["problems"])


def test_invalid_bytes_before_a_finding_on_the_same_line(project: Path) -> None:
    """Each bad byte is one replacement character: columns after it stay right."""
    line = '        x = "\xff\xfe"; hit = w in ["a", "b", "c", "d"]'
    source = f"def f(words):\n    for w in words:\n{line}\n".encode("latin-1")
    (project / "bytes.py").write_bytes(source)
    payload, stderr = checked("bytes.py")
    assert located(payload) == [("bytes.py", 3, line.index("w in") + 1)]
    assert "invalid utf-8 at line 3" in stderr


def test_coding_cookie_is_honoured_without_notice(project: Path) -> None:
    text = "# -*- coding: latin-1 -*-\n" + MEMBERSHIP.replace(
        'if w in ["a"', 'if w in ["café"'
    ).replace("n += 1", "n += 1  # é")
    (project / "latin.py").write_bytes(text.encode("latin-1"))
    payload, stderr = checked("latin.py")
    assert located(payload) == [("latin.py", 5, 12)]
    assert stderr == ""
    assert payload["files"][0]["problems"] == []


def test_utf8_bom_does_not_shift_columns(project: Path) -> None:
    line = 'hits = [w for w in words if w in ["a", "b", "c", "d"]]'
    (project / "bom.py").write_bytes(b"\xef\xbb\xbf" + line.encode() + b"\n")
    payload, stderr = checked("bom.py")
    assert located(payload) == [("bom.py", 1, line.index("w in [") + 1)]
    assert stderr == ""


def test_binary_file_is_skipped_with_a_notice(project: Path) -> None:
    (project / "blob.py").write_bytes(b"\x7fELF\x02\x01\x01\x00\x00\x00" + bytes(range(256)))
    payload, stderr = checked(".")
    assert "blob.py: skipped: binary file" in stderr
    assert located(payload) == [("good.py", 4, 12)]
    blob = next(f for f in payload["files"] if f["path"] == "blob.py")
    assert blob["skipped"] and "binary" in blob["skipped"]


def test_file_over_the_size_limit_is_skipped(project: Path) -> None:
    (project / ".lessonlens.toml").write_text("max-file-size = 200\n")
    big = MEMBERSHIP + "\n# padding\n" * 40
    (project / "big.py").write_text(big)
    payload, stderr = checked(".")
    assert f"big.py: skipped: {len(big.encode()):,} bytes is over the 200-byte limit" in stderr
    assert located(payload) == [("good.py", 4, 12)]


def test_syntax_errors_do_not_stop_analysis(project: Path) -> None:
    (project / "broken.py").write_text(MEMBERSHIP + "\ndef oops(:\n    return )\n")
    payload, _ = checked(".")
    assert ("broken.py", 4, 12) in located(payload)
    assert ("good.py", 4, 12) in located(payload)


@pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root can read a chmod 000 file"
)
def test_unreadable_file_is_reported(project: Path) -> None:
    secret = project / "secret.py"
    secret.write_text(MEMBERSHIP)
    secret.chmod(0)
    try:
        payload, stderr = checked(".")
    finally:
        secret.chmod(0o644)
    assert "secret.py: cannot read: Permission denied" in stderr
    assert located(payload) == [("good.py", 4, 12)]


@pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root can list a chmod 000 folder"
)
def test_unreadable_folder_is_reported(project: Path) -> None:
    private = project / "private"
    private.mkdir()
    (private / "hidden.py").write_text(MEMBERSHIP)
    private.chmod(0)
    try:
        payload, stderr = checked(".")
    finally:
        private.chmod(0o755)
    assert "private: cannot read: Permission denied" in stderr
    assert located(payload) == [("good.py", 4, 12)]


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="needs symbolic links")
def test_broken_symlink_is_reported_under_its_own_name(project: Path) -> None:
    (project / "dangling.py").symlink_to(project / "gone.py")
    payload, stderr = checked(".")
    assert "dangling.py: cannot read: No such file or directory" in stderr
    assert "gone.py" not in stderr
    assert located(payload) == [("good.py", 4, 12)]
    payload, stderr = checked("dangling.py", "good.py")
    assert "dangling.py: cannot read" in stderr
    assert located(payload) == [("good.py", 4, 12)]


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="needs symbolic links")
def test_symlink_is_shown_by_its_own_name(project: Path) -> None:
    (project / "real").mkdir()
    (project / "real" / "target.py").write_text(MEMBERSHIP)
    (project / "alias.py").symlink_to(project / "real" / "target.py")
    payload, _ = checked("alias.py")
    assert located(payload) == [("alias.py", 4, 12)]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
def test_named_pipe_is_skipped_not_read(project: Path) -> None:
    """Reading a FIFO blocks until a writer comes: run in a process that a timeout can end."""
    os.mkfifo(project / "pipe.py")
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "from lessonlens.server.cli import main; main()",
            *("check", ".", "--no-cache", "--select", "PY001", "--format", "json"),
        ],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "pipe.py: skipped: not a regular file" in done.stderr
    assert located(json.loads(done.stdout)) == [("good.py", 4, 12)]


def test_missing_path_argument_is_a_clear_error(project: Path) -> None:
    result = lessonlens("--no-cache", "good.py", "no/such/place.py")
    assert result.exit_code in (1, 2)
    assert "no/such/place.py: no such file or folder" in result.stderr
    assert "Traceback" not in result.output


def test_unknown_extension_named_explicitly_is_skipped(project: Path) -> None:
    (project / "notes.txt").write_text("w in ['a', 'b', 'c', 'd']\n")
    payload, stderr = checked("notes.txt", "good.py")
    assert "notes.txt: skipped" in stderr
    assert located(payload) == [("good.py", 4, 12)]


def test_no_fix_is_offered_where_offsets_would_not_address_the_file(tmp_path):
    """A BOM shifts every byte offset: the hint stays, the byte-offset fix goes."""
    import json as json_module

    from click.testing import CliRunner

    from lessonlens.server.cli import main

    body = (
        "def f(words):\n"
        "    for w in words:\n"
        '        if w in ["a", "b", "c", "d"]:\n'
        "            pass\n"
    )
    (tmp_path / "plain.py").write_bytes(body.encode())
    (tmp_path / "bom.py").write_bytes(b"\xef\xbb\xbf" + body.encode())
    result = CliRunner().invoke(
        main, ["check", str(tmp_path), "--no-cache", "--format", "json", "--select", "PY001"]
    )
    files = {f["path"].rsplit("/", 1)[-1]: f for f in json_module.loads(result.stdout)["files"]}
    assert files["plain.py"]["findings"][0]["fix"] is not None
    assert files["bom.py"]["findings"][0]["fix"] is None
    assert files["bom.py"]["findings"][0]["line"] == 3


def test_every_command_reports_invalid_config_without_a_traceback(tmp_path, monkeypatch):
    from click.testing import CliRunner

    from lessonlens.server.cli import main

    (tmp_path / ".lessonlens.toml").write_text("selct = ['PY001']\n")
    monkeypatch.chdir(tmp_path)
    for args in (["explain", "PY001"], ["lessons", "check"], ["lessons", "list"]):
        result = CliRunner().invoke(main, args)
        assert result.exit_code != 0, args
        assert "selct" in result.output and "did you mean 'select'" in result.output, args
        assert not isinstance(result.exception, Exception) or isinstance(
            result.exception, SystemExit
        ), args
