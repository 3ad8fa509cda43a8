"""A long editing session and a large file, over the real language server on stdio.

Two modes, each printing its figures:

- ``soak`` (default): opens a realistic module, then sends ``--edits`` single-character
  ``didChange`` notifications (a letter typed into a comment, then deleted again, so the text
  goes back and forth and every analysis has the same hints), waiting for each version's
  diagnostics as a typist would see them. Prints the server's RSS (``VmRSS`` from
  ``/proc/<pid>/status``) every ``--every`` edits, and the growth after the first 2,000 edits
  against the target (at most 5 MB).
- ``large``: the first diagnostics for ~990 KB Python files (standard library modules
  concatenated, and a module of thousands of small top-level functions; or ``--file``), in the
  server (didOpen -> publishDiagnostics, after start-up) and in ``lessonlens check --no-cache``
  on the same file (wall time of the command, start-up included), and their ratio against the
  target (at most 3x).

    python benchmarks/soak.py [soak] [--edits 10000] [--every 1000]
    python benchmarks/soak.py large [--file PATH]

``--trace`` runs the server in a wrapper (not a server option) that starts ``tracemalloc`` at
the first checkpoint, snapshots at the second and, at each later one, writes the allocation
growth since then, by traceback, to its stderr; ``--stderr PATH`` keeps that log.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

import lsp_latency
from lsp_latency import (
    CLIENT_CAPABILITIES,
    Connection,
    ServerFailed,
    _isolated_environment,
    within,
)

# Start-up under tracemalloc, or beside a test run, can take longer than lsp_latency allows.
lsp_latency.REQUEST_TIMEOUT_S = 60.0

TARGET_GROWTH_MB = 5.0
TARGET_RATIO = 3.0
LARGE_BYTES = 990_000
# Generous bounds: a server that misses them is reported as failing, never waited on forever.
START_TIMEOUT_S = 60.0
EDIT_TIMEOUT_S = 30.0
LARGE_TIMEOUT_S = 300.0
# A small module with hints in it, so that every analysis has something to publish.
DOCUMENT = '''\
"""Word statistics."""

import os


def unique(items):
    seen = []
    for item in items:
        if item not in seen:
            seen.append(item)
    return seen


def count_stop_words(words):
    out = 0
    for w in words:
        if w in ["a", "an", "the", "of"]:
            out += 1
    return out


def squares(values):
    result = []
    for v in values:
        result.append(v * v)
    return result


def read_lines(path):
    # typing happens here
    handle = open(os.path.join("data", path))
    return handle.read().splitlines()
'''
TYPED_LINE = DOCUMENT.split("\n").index("    # typing happens here")


# Runs the server ready for tracemalloc, which makes start-up far slower when on: the first
# SIGUSR1 (sent by the soak at 1,000 edits) starts tracing, the second takes a snapshot, each
# later one writes the growth since that snapshot, by traceback, to stderr.
TRACED_SERVER = """
import runpy, signal, sys, tracemalloc
first = []
def report(*_):
    if not tracemalloc.is_tracing():
        tracemalloc.start(15)
        return
    snapshot = tracemalloc.take_snapshot()
    if not first:
        first.append(snapshot)
        return
    print("--- growth since the first snapshot", file=sys.stderr)
    for stat in snapshot.compare_to(first[0], "traceback")[:6]:
        frames = [f"{f.filename}:{f.lineno}" for f in stat.traceback]
        print(stat.size_diff, stat.count_diff, *frames, sep="\\n  ", file=sys.stderr)
    sys.stderr.flush()
signal.signal(signal.SIGUSR1, report)
sys.argv = ["lessonlens", "serve"]
runpy.run_module("lessonlens", run_name="__main__")
"""


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise ServerFailed("no VmRSS for the server process")


def stdlib_document(size: int = LARGE_BYTES) -> bytes:
    """Standard library modules, whole, in name order, up to ``size`` bytes: real code."""
    out = bytearray()
    for path in sorted(Path(sysconfig.get_paths()["stdlib"]).glob("*.py")):
        data = path.read_bytes()
        if len(out) + len(data) + 1 <= size:
            out += data + b"\n"
    return bytes(out)


def definitions_document(size: int = LARGE_BYTES) -> bytes:
    """``DOCUMENT``'s functions repeated, renamed, up to ``size`` bytes: thousands of top-level
    definitions, as generated or vendored modules have (the shape a walk per unit made slow).
    """
    head, _, body = DOCUMENT.partition("import os\n")
    parts = [head + "import os\n"]
    total, n = len(parts[0]), 0
    while total + len(body) <= size:
        parts.append(body.replace("def ", f"def n{n}_"))
        total += len(parts[-1])
        n += 1
    return "".join(parts).encode()


async def start_server(workspace: Path, stderr_path: Path, trace: bool = False) -> Connection:
    env = _isolated_environment(workspace)
    env["LESSONLENS_DATA_DIR"] = str(workspace / "data")
    command = ["-m", "lessonlens", "serve"]
    if trace:
        command = ["-c", TRACED_SERVER]
    with stderr_path.open("wb") as stderr:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            *command,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=stderr,
            cwd=workspace,
            env=env,
            # A 990 KB didOpen is one line of JSON: the reader's buffer must hold a frame.
            limit=1 << 24,
        )
    connection = Connection(process)
    root = workspace.as_uri()
    await connection.request(
        "initialize",
        {
            "processId": os.getpid(),
            "clientInfo": {"name": "soak.py"},
            "rootUri": root,
            "workspaceFolders": [{"uri": root, "name": workspace.name}],
            "capabilities": CLIENT_CAPABILITIES,
            "initializationOptions": {"modelDevice": "off"},
        },
    )
    await connection.notify("initialized", {})
    return connection


async def open_document(connection: Connection, uri: str, text: str, timeout: float) -> float:
    """didOpen, then seconds until its first diagnostics."""
    published = connection.expect(lambda u, p: u == uri and p.version == 1)
    sent = await connection.notify(
        "textDocument/didOpen",
        {"textDocument": {"uri": uri, "languageId": "python", "version": 1, "text": text}},
    )
    received = await within(published, timeout)
    if received is None:
        raise ServerFailed(f"no diagnostics for {uri} in {timeout:.0f} s")
    return received - sent


async def soak(args: argparse.Namespace, workspace: Path) -> int:
    connection = await start_server(workspace, args.stderr, args.trace)
    pid = connection.process.pid
    uri = (workspace / "words.py").as_uri()
    try:
        await open_document(connection, uri, DOCUMENT, START_TIMEOUT_S)
        column = len("    # typing happens here")
        print(f"{'edits':>7} {'RSS MB':>8}")
        samples = [(0, rss_kib(pid))]
        print(f"{0:>7} {samples[0][1] / 1024:>8.1f}", flush=True)
        for version in range(2, args.edits + 2):
            typed = version % 2 == 0  # type a letter, then delete it
            start, end = (column, column) if typed else (column, column + 1)
            published = connection.expect(lambda u, p, v=version: u == uri and p.version == v)
            await connection.notify(
                "textDocument/didChange",
                {
                    "textDocument": {"uri": uri, "version": version},
                    "contentChanges": [
                        {
                            "range": {
                                "start": {"line": TYPED_LINE, "character": start},
                                "end": {"line": TYPED_LINE, "character": end},
                            },
                            "text": "x" if typed else "",
                        }
                    ],
                },
            )
            if await within(published, EDIT_TIMEOUT_S) is None:
                raise ServerFailed(f"no diagnostics for version {version}")
            done = version - 1
            if done % args.every == 0:
                samples.append((done, rss_kib(pid)))
                if args.trace:
                    os.kill(pid, signal.SIGUSR1)
                print(f"{done:>7} {samples[-1][1] / 1024:>8.1f}", flush=True)
    finally:
        await connection.close()
    after = [kib for edits, kib in samples if edits >= 2000]
    if len(after) < 2:
        print("too few edits to judge growth after the first 2,000")
        return 0
    growth = (max(after) - after[0]) / 1024
    verdict = "ok" if growth <= TARGET_GROWTH_MB else "OVER TARGET"
    print(
        f"growth after 2,000 edits: {growth:.1f} MB (target <= {TARGET_GROWTH_MB:.0f}): {verdict}"
    )
    return 0 if growth <= TARGET_GROWTH_MB else 1


async def large(args: argparse.Namespace, workspace: Path) -> int:
    if args.file:
        documents = [(args.file.name, args.file.read_bytes())]
    else:
        documents = [
            ("standard library modules", stdlib_document()),
            ("small top-level functions", definitions_document()),
        ]
    failed = 0
    for name, data in documents:
        failed += await large_one(args, workspace, name, data)
    return 1 if failed else 0


async def large_one(args: argparse.Namespace, workspace: Path, name: str, data: bytes) -> int:
    path = workspace / "large.py"
    path.write_bytes(data)
    lines = data.count(b"\n")
    print(f"{name}: {len(data):,} bytes, {lines:,} lines")
    started = time.perf_counter()
    check = subprocess.run(
        [sys.executable, "-m", "lessonlens", "check", "--no-cache", "--format", "json", str(path)],
        cwd=workspace,
        env=_isolated_environment(workspace),
        capture_output=True,
    )
    check_s = time.perf_counter() - started
    if check.returncode != 0:
        print(check.stderr.decode(errors="replace")[-2000:])
        return 1
    print(f"  lessonlens check --no-cache:     {check_s:6.2f} s")
    connection = await start_server(workspace, args.stderr)
    try:
        server_s = await open_document(
            connection, path.as_uri(), data.decode("utf-8", "replace"), LARGE_TIMEOUT_S
        )
    finally:
        await connection.close()
    ratio = server_s / check_s
    verdict = "ok" if ratio <= TARGET_RATIO else "OVER TARGET"
    shown = len(connection.publications[path.as_uri()][0].diagnostics)
    found = len(json.loads(check.stdout)["files"][0]["findings"])
    print(f"  server, didOpen -> diagnostics: {server_s:6.2f} s ({shown} shown of {found} found)")
    print(f"  ratio {ratio:.2f}x (target <= {TARGET_RATIO:.0f}x): {verdict}")
    return 0 if ratio <= TARGET_RATIO else 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mode", nargs="?", choices=("soak", "large"), default="soak")
    parser.add_argument("--edits", type=int, default=10_000)
    parser.add_argument("--every", type=int, default=1_000)
    parser.add_argument("--file", type=Path, help="large: this file instead of the generated ones")
    parser.add_argument("--stderr", type=Path, help="keep the server's stderr here")
    parser.add_argument("--trace", action="store_true", help="soak: run under tracemalloc")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="lessonlens-soak-") as folder:
        workspace = Path(folder)
        if args.stderr is None:
            args.stderr = workspace / "server.stderr"
        run = soak if args.mode == "soak" else large
        try:
            code = asyncio.run(run(args, workspace))
        except ServerFailed as error:
            tail = args.stderr.read_text(errors="replace")[-2000:]
            print(f"FAILED: {error}\n--- server stderr (tail) ---\n{tail}")
            code = 1
    raise SystemExit(code)


if __name__ == "__main__":
    main()
