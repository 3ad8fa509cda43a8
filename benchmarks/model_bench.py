"""Speed and memory of the sentence encoder: torch eager against the ONNX variants we ship.

The product runs all-MiniLM-L6-v2 through onnxruntime, int8 on the CPU, and never imports torch.
This measures whether that choice pays for itself, and what the model costs the language server:

1. the workload: real code units from the standard library (json, textwrap, argparse,
   _pydecimal), rendered by the product's own unit renderer, in a seeded shuffle;
2. torch eager fp32, ONNX fp32 and ONNX int8 on the CPU, at each batch size: throughput
   (units/s) and p50/p95 latency of one batch call, and each ONNX variant's throughput ratio to
   torch. Every engine gets the same threads (all cores), the same tokenizer, the same length
   bucketing (the workload sorted by token length, each batch padded to its own longest unit,
   as ``OnnxEncoder.embed`` does for a large call) and a warm-up call before timing; torch runs
   under ``inference_mode``. Batch 1 is single-unit calls in workload order (mixed lengths);
   larger batches are up to ``--repeat`` passes over the bucketed workload (fewer where a pass
   is slow: each batch size gets about a minute, and at least one pass). One more row set times
   the product's own batching (32 texts, at most 1,024 padded tokens a batch: long units go a
   few to a batch). The engines take turns, pass by pass, so that a neighbour's load spreads
   over all of them;
3. cache hits: ``CachedEncoder`` over the int8 encoder with an empty temporary cache: one
   unit already cached, and all of them in one call;
4. the language server's RSS with the model loaded (after it has embedded a ~500-line file), next
   to the same server with ``modelDevice: off``;
5. CUDA throughput of the fp32 and fp16 variants at batch 256 when onnxruntime-gpu and a GPU are
   there; otherwise one line saying why not.

    .venv/bin/python benchmarks/model_bench.py [--units N] [--repeat R] [--batches 1,32,256]
                                               [--budget TOKENS] [--quick]

About four minutes on 2 cores; ``--quick`` (fewer units, one pass) just over one. Figures are for
humans and notes: the script always exits 0, and marks the int8 target PASS or MISS.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import math
import os
import random
import sys
import sysconfig
import tempfile
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np
from lsp_latency import Connection, ServerFailed

from lessonlens.analyzers import parsing
from lessonlens.analyzers.languages import language_for_id
from lessonlens.model_runtime.encoder import (
    CPU,
    CUDA,
    DEFAULT_BATCH,
    DEFAULT_BATCH_TOKENS,
    CachedEncoder,
    OnnxEncoder,
    available_providers,
    gpu_visible,
    length_buckets,
    padded,
)
from lessonlens.model_runtime.store import (
    MAX_TOKENS,
    BuildError,
    ModelFiles,
    ModelUnavailable,
    file_sha256,
    model_dir,
    open_model,
)

TARGET_INT8_SPEEDUP_B32 = 3.0

# Relative to the standard library; about 470 units, of every size up to the 256-token limit.
WORKLOAD_FILES = (
    "json/__init__.py",
    "json/decoder.py",
    "json/encoder.py",
    "json/scanner.py",
    "json/tool.py",
    "textwrap.py",
    "argparse.py",
    "_pydecimal.py",
)
SEED = 0
TORCH = "torch eager fp32"
SINGLE_CALLS = 64
SINGLE_BLOCK = 16  # single calls an engine makes before the next engine takes its turn
# The warm-up call: the longest units, so that the largest shapes a config meets are not first
# seen while timed. Capped: one call of 256 long units costs torch ~15 s on 2 cores.
WARMUP_UNITS = 32
CACHE_HIT_CALLS = 200
GPU_PASSES = 20
# Timed rounds of one batch configuration start only within this: the passes of batch 256
# (~60 s a round for the three engines on 2 cores) would take the script past six minutes.
CONFIG_BUDGET_S = 60.0
# Other processes' share of the CPU above which timings are flagged as unreliable.
NEIGHBOUR_WARNING = 0.05

SERVER_DOCUMENT = "textwrap.py"  # ~500 lines
MODEL_TOKEN = "lessonlens/load-model"
LESSONS_TOKEN = "lessonlens/load-lessons"
LOAD_TIMEOUT_S = 120.0
DIAGNOSTICS_TIMEOUT_S = 30.0
RELATIONS_TIMEOUT_S = 60.0
SETTLE_S = 3.0

QUICK = {"units": 96, "repeat": 1, "single_calls": 16}


class Embedder(Protocol):
    def embed(self, texts: Sequence[str]) -> np.ndarray: ...


@dataclass(frozen=True)
class Batching:
    """Texts per batch, and optionally padded tokens per batch as the product caps them."""

    size: int
    tokens: int | None = None

    @property
    def label(self) -> str:
        return str(self.size) if self.tokens is None else f"{self.size} <={self.tokens}t"


# ---------------------------------------------------------------------------- workload


@dataclass(frozen=True)
class Workload:
    texts: list[str]
    tokens: list[int]  # per text, after truncation at the model's limit
    rendered: int  # units the files gave before the cut to --units


def load_workload(count: int, tokenize: Callable[[list[str]], list[list[int]]]) -> Workload:
    spec = language_for_id("python")
    assert spec is not None and spec.code_units is not None
    parser = parsing.new_parser(parsing.language(spec.grammar))
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    texts: list[str] = []
    for name in WORKLOAD_FILES:
        data = (stdlib / name).read_bytes()
        root = parsing.parse(parser, data).root_node
        texts.extend(unit.text for unit in spec.code_units(root, data))
    rendered = len(texts)
    # Shuffled so that batch-1 calls and the cache meet a mix of files and sizes; seeded so
    # that every run times the same calls.
    random.Random(SEED).shuffle(texts)
    texts = texts[:count]
    return Workload(texts, [len(ids) for ids in tokenize(texts)], rendered)


class Neighbours:
    """The share of the machine that other processes took since this was made.

    On a shared 2-core machine a busy neighbour halves every figure without a trace in them:
    this says so. Linux only (/proc/stat); elsewhere it stays silent.
    """

    def __init__(self) -> None:
        self._start = self._read()

    @staticmethod
    def _read() -> tuple[float, float, float] | None:
        try:
            fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]
            ticks = os.sysconf("SC_CLK_TCK")
        except (OSError, ValueError):
            return None
        user, nice, system, _idle, _iowait, irq, softirq, steal = (int(x) for x in fields)
        busy = (user + nice + system + irq + softirq + steal) / ticks
        mine = os.times()
        own = mine.user + mine.system + mine.children_user + mine.children_system
        return busy, own, time.perf_counter()

    def share(self) -> float | None:
        now = self._read()
        if self._start is None or now is None:
            return None
        busy, own, wall = (b - a for a, b in zip(self._start, now, strict=True))
        cores = os.cpu_count() or 1
        return max(0.0, busy - own) / (wall * cores) if wall > 0 else None

    def report(self, what: str) -> None:
        share = self.share()
        if share is None:
            return
        line = f"others    other processes used {share:.0%} of the CPU while {what}"
        if share >= NEIGHBOUR_WARNING:
            line += ": WARNING, these figures are low; rerun on a quiet machine"
        print(line)


def percentile(values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile: a value that was measured, never an interpolation."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


# ---------------------------------------------------------------------------- engines


class TorchEncoder:
    """The build's torch module behind the tokenisation and padding of ``OnnxEncoder.embed``.

    ``embed`` is that method line for line (truncation at the model's limit, length bucketing,
    padding per batch) with the session swapped for the module, so that only the runtime differs.
    """

    def __init__(self, model: Any, files: ModelFiles, batch_size: int) -> None:
        from tokenizers import Tokenizer

        tokenizer = Tokenizer.from_file(str(files.tokenizer_path))
        tokenizer.enable_truncation(max_length=files.manifest.max_tokens or MAX_TOKENS)
        tokenizer.no_padding()
        self._tokenizer = tokenizer
        self._model = model
        self._dim = files.manifest.dim
        self.batch_size = batch_size

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        import torch

        out = np.empty((len(texts), self._dim), dtype=np.float32)
        ids = [e.ids for e in self._tokenizer.encode_batch(list(texts))]
        order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
        with torch.inference_mode():
            for start in range(0, len(order), self.batch_size):
                chunk = order[start : start + self.batch_size]
                input_ids, mask = padded([ids[i] for i in chunk])
                result = self._model(torch.from_numpy(input_ids), torch.from_numpy(mask))
                out[chunk] = result.numpy()
        return out


def load_torch_model(files: ModelFiles) -> Any:
    """The module the ONNX graph was exported from; raise RuntimeError when it cannot be had."""
    try:
        import torch

        from lessonlens.model_runtime import build
    except ImportError as exc:
        raise RuntimeError(f"torch is not installed ({exc}): pip install -e '.[model]'") from exc
    head = None
    if files.manifest.head_sha256 is not None:
        head = build.default_head()
        # Without the same head the baseline would be a different model, not a slower one.
        if head is None or file_sha256(head) != files.manifest.head_sha256:
            raise RuntimeError("the model was built with a projection head that is not here")
    try:
        model = build._torch_model(build.base_model_dir(), head)
    except BuildError as exc:
        raise RuntimeError(str(exc)) from exc
    torch.set_num_threads(os.cpu_count() or 1)
    return model


# ---------------------------------------------------------------------------- timing


@dataclass
class Timing:
    engine: str
    batching: Batching
    call_ms: list[float] = field(default_factory=list)
    units: int = 0
    largest_call: int = 0
    # This process's CPU seconds in the timed calls: a high system share is the kernel zeroing
    # freshly mapped pages for large temporary buffers, not inference.
    user_s: float = 0.0
    system_s: float = 0.0

    @property
    def throughput(self) -> float:
        total = sum(self.call_ms) / 1000
        return self.units / total if total else math.nan

    @property
    def system_share(self) -> float:
        total = self.user_s + self.system_s
        return self.system_s / total if total else math.nan


def calls_for(workload: Workload, batching: Batching, single_calls: int) -> list[list[int]]:
    """Indexes of the units each timed call embeds, for one pass.

    Batch 1 takes units in workload order. Larger batches are the very batches that
    ``OnnxEncoder.embed(workload)`` runs: the workload sorted by token length, cut after
    ``size`` units or before the padded batch would pass ``tokens``. Each call is then one
    ``session.run`` (or one torch forward), for every engine alike.
    """
    if batching.size == 1:
        return [[i] for i in range(min(single_calls, len(workload.texts)))]
    return length_buckets(workload.tokens, batching.size, batching.tokens)


def time_engines(
    engines: Sequence[tuple[str, Embedder]],
    workload: Workload,
    batching: Batching,
    passes: int,
    single_calls: int,
    budget_s: float | None = None,
) -> list[tuple[Timing, np.ndarray]]:
    """Warm each engine up, then time its calls; return each timing and its embeddings.

    The engines take turns round by round (a pass over the workload, or a block of single
    calls) rather than one after the other: a neighbour that takes the CPU for a while then
    slows every engine alike, and the ratios between them hold. No round starts once the
    timed rounds have taken ``budget_s``: up to ``passes`` of a cheap configuration, at least
    one of a slow one.
    """
    calls = calls_for(workload, batching, single_calls)
    if batching.size == 1:
        rounds = [calls[i : i + SINGLE_BLOCK] for i in range(0, len(calls), SINGLE_BLOCK)]
    else:
        rounds = [calls] * passes
    # The longest units, so that the largest shape a config meets is not first seen when timed.
    warmup = max(calls, key=lambda call: max(workload.tokens[i] for i in call) * len(call))
    warmup_texts = [workload.texts[i] for i in warmup[-WARMUP_UNITS:]]
    results: list[tuple[Timing, np.ndarray]] = []
    for name, engine in engines:
        engine.embed(warmup_texts)
        timing = Timing(name, batching, largest_call=max(len(c) for c in calls))
        results.append((timing, np.full((len(workload.texts), 0), np.nan, np.float32)))
    began = time.perf_counter()
    for number, block in enumerate(rounds):
        if number and budget_s is not None and time.perf_counter() - began > budget_s:
            break
        for index, (_, engine) in enumerate(engines):
            timing, vectors = results[index]
            for call in block:
                texts = [workload.texts[i] for i in call]
                cpu = os.times()
                started = time.perf_counter()
                result = engine.embed(texts)
                timing.call_ms.append((time.perf_counter() - started) * 1000)
                after = os.times()
                timing.user_s += after.user - cpu.user
                timing.system_s += after.system - cpu.system
                timing.units += len(call)
                if vectors.shape[1] != result.shape[1]:
                    vectors = np.full((len(workload.texts), result.shape[1]), np.nan, np.float32)
                    results[index] = (timing, vectors)
                vectors[call] = result
    return results


def agreement(a: np.ndarray, b: np.ndarray) -> tuple[float, float] | None:
    """Min and mean cosine over units both embedded (the vectors are unit length)."""
    both = ~(np.isnan(a).any(axis=1) | np.isnan(b).any(axis=1))
    if not both.any():
        return None
    cos = np.sum(a[both] * b[both], axis=1)
    return float(cos.min()), float(cos.mean())


# ---------------------------------------------------------------------------- sections


def section(title: str) -> None:
    print()
    print(f"== {title}")


def print_workload(workload: Workload) -> None:
    section("workload")
    tokens = workload.tokens
    truncated = sum(1 for t in tokens if t >= MAX_TOKENS)
    files = ", ".join(WORKLOAD_FILES)
    print(
        f"units     {len(workload.texts)} of {workload.rendered} rendered by the product's unit "
        f"renderer, seeded shuffle ({SEED})"
    )
    print(f"from      {Path(sysconfig.get_paths()['stdlib'])}: {files}")
    print(
        f"tokens    mean {np.mean(tokens):.0f}, p95 {percentile(tokens, 0.95):.0f}, "
        f"max {max(tokens)}; {truncated} units cut at the {MAX_TOKENS}-token limit"
    )


def cpu_benchmark(
    folder: Path,
    workload: Workload,
    configs: Sequence[Batching],
    passes: int,
    single_calls: int,
) -> list[Timing]:
    section("CPU: torch eager fp32, ONNX fp32, ONNX int8")
    threads = os.cpu_count() or 1
    print(
        f"threads   {threads} for all: torch.set_num_threads({threads}), onnxruntime "
        f"intra-op {threads} (as OnnxEncoder sets them by default)"
    )
    for batching in configs:
        if batching.tokens is not None:
            print(
                f"batch     {batching.label}: the product's batching ({batching.size} texts and at "
                f"most {batching.tokens} padded tokens per batch), the same for every engine"
            )
        elif batching.size > len(workload.texts):
            print(f"note      batch {batching.size} > {len(workload.texts)} units: one call of all")
    timings: list[Timing] = []
    outputs: dict[tuple[str, Batching], np.ndarray] = {}
    fp32_files, int8_files = open_model(folder, "fp32"), open_model(folder, "int8")
    try:
        model: Any = load_torch_model(fp32_files)
    except RuntimeError as exc:
        model = None
        print(f"torch     skipped: {exc}")
    started = time.perf_counter()
    neighbours = Neighbours()
    for batching in configs:
        engines: list[tuple[str, str, Embedder]] = []
        if model is not None:
            torch_encoder = TorchEncoder(model, fp32_files, batching.size)
            engines.append(("torch", TORCH, torch_encoder))
        for files in (fp32_files, int8_files):
            # Each timed call is already one batch (see calls_for): no token budget of its own.
            encoder = OnnxEncoder(files, CPU, batch_size=batching.size, batch_tokens=None)
            engines.append((files.variant, f"ONNX {files.variant}", encoder))
        results = time_engines(
            [(name, engine) for _, name, engine in engines],
            workload,
            batching,
            passes,
            single_calls,
            CONFIG_BUDGET_S,
        )
        for (key, _, _), (timing, vectors) in zip(engines, results, strict=True):
            timings.append(timing)
            outputs[(key, batching)] = vectors
    print(f"timed     in {time.perf_counter() - started:.0f} s, warm-ups included")
    neighbours.report("timing")
    print()
    print_table(timings)
    print()
    print_agreement(outputs, configs)
    return timings


def print_table(timings: list[Timing]) -> None:
    torch_by_batching = {t.batching: t for t in timings if t.engine == TORCH}
    print(
        f"{'engine':18}{'batch':>11}{'calls':>7}{'units/s':>10}{'p50 ms':>10}{'p95 ms':>10}"
        f"{'sys':>6}{'vs torch':>10}"
    )
    for timing in timings:
        baseline = torch_by_batching.get(timing.batching)
        ratio = ""
        if baseline is not None and baseline is not timing:
            ratio = f"{timing.throughput / baseline.throughput:9.2f}x"
        print(
            f"{timing.engine:18}{timing.batching.label:>11}{len(timing.call_ms):>7}"
            f"{timing.throughput:10.1f}{percentile(timing.call_ms, 0.5):10.1f}"
            f"{percentile(timing.call_ms, 0.95):10.1f}{timing.system_share:6.0%}{ratio:>10}"
        )
    print("(sys: the kernel's share of this process's CPU time in the calls)")
    print()
    target = Batching(32)
    int8 = next((t for t in timings if t.engine == "ONNX int8" and t.batching == target), None)
    baseline = torch_by_batching.get(target)
    if int8 is None or baseline is None:
        why = "batch 32 was not measured" if int8 is None else "no torch baseline"
        print(f"int8 at batch 32 vs torch eager: n/a ({why})")
        return
    speedup = int8.throughput / baseline.throughput
    verdict = "PASS" if speedup >= TARGET_INT8_SPEEDUP_B32 else "MISS"
    print(
        f">>> ONNX int8 at batch 32: {speedup:.2f}x torch eager throughput "
        f"(target >= {TARGET_INT8_SPEEDUP_B32:.1f}x)  {verdict}"
    )


def print_agreement(
    outputs: dict[tuple[str, Batching], np.ndarray], configs: Sequence[Batching]
) -> None:
    """A check that the engines timed compute the same thing (same model, pooling, padding)."""
    pairs = (("torch", "fp32", "ONNX fp32 vs torch eager"), ("fp32", "int8", "int8 vs ONNX fp32"))
    # The configuration that embedded the whole workload with the widest padding.
    batching = max(configs, key=lambda b: (b.size > 1, b.tokens is None, b.size))
    for a, b, label in pairs:
        if (a, batching) not in outputs or (b, batching) not in outputs:
            continue
        found = agreement(outputs[(a, batching)], outputs[(b, batching)])
        if found is not None:
            print(
                f"cosine    {label} (batch {batching.label}): min {found[0]:.5f}, "
                f"mean {found[1]:.5f}"
            )


def cache_benchmark(folder: Path, workload: Workload) -> None:
    section("cache hits: CachedEncoder over ONNX int8, empty temporary cache")
    files = open_model(folder, "int8")
    with tempfile.TemporaryDirectory(prefix="model-bench-cache-") as cache_dir:
        cached = CachedEncoder(OnnxEncoder(files, CPU, DEFAULT_BATCH), Path(cache_dir))
        neighbours = Neighbours()
        try:
            texts = workload.texts
            started = time.perf_counter()
            filled = cached.embed(texts)
            fill_s = time.perf_counter() - started
            print(
                f"fill      {len(texts)} units (all misses; the product's batching, "
                f"{Batching(DEFAULT_BATCH, DEFAULT_BATCH_TOKENS).label}) in "
                f"{fill_s:.2f} s: {len(texts) / fill_s:.1f} units/s"
            )
            misses = cached.misses
            single: list[float] = []
            wrong = 0
            for n in range(CACHE_HIT_CALLS):
                i = n % len(texts)
                started = time.perf_counter()
                vector = cached.embed([texts[i]])
                single.append((time.perf_counter() - started) * 1000)
                wrong += not np.array_equal(vector[0], filled[i])
            started = time.perf_counter()
            everything = cached.embed(texts)
            all_ms = (time.perf_counter() - started) * 1000
            wrong += int(np.sum(~np.all(everything == filled, axis=1)))
            print(
                f"one unit  embed([cached unit]) p50 {percentile(single, 0.5):.3f} ms, "
                f"p95 {percentile(single, 0.95):.3f} ms over {len(single)} calls"
            )
            print(
                f"all       embed({len(texts)} cached units), one call: {all_ms:.1f} ms "
                f"({len(texts) / all_ms * 1000:,.0f} units/s)"
            )
            if cached.misses != misses:
                print(f"WARNING   {cached.misses - misses} misses after the fill")
            if wrong:
                print(f"WARNING   {wrong} cached vectors differ from the ones stored")
            neighbours.report("timing")
        finally:
            cached.close()


# ---------------------------------------------------------------------------- the server


def _progress_end(token: str) -> Callable[[dict[str, Any]], bool]:
    def accept(message: dict[str, Any]) -> bool:
        params = message.get("params") or {}
        return (
            message.get("method") == "$/progress"
            and params.get("token") == token
            and (params.get("value") or {}).get("kind") == "end"
        )

    return accept


def _memory_kib(pid: int) -> dict[str, int]:
    found: dict[str, int] = {}
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            name, _, value = line.partition(":")
            if name in ("VmRSS", "VmHWM"):
                found[name] = int(value.split()[0])
    return found


@dataclass
class ServerFigures:
    device: str
    load_s: float = math.nan
    outcome: str = ""
    model: str = ""
    diagnostics_ms: float = math.nan
    relations_s: float | None = None
    rss_mb: float = math.nan
    hwm_mb: float = math.nan
    failure: str = ""


async def measure_server(device: str, document: Path) -> ServerFigures:
    figures = ServerFigures(device)
    with tempfile.TemporaryDirectory(prefix="model-bench-server-") as folder:
        root = Path(folder)
        workspace = root / "workspace"
        workspace.mkdir()
        target = workspace / document.name
        text = document.read_text(encoding="utf-8")
        target.write_text(text, encoding="utf-8")
        env = dict(os.environ)
        env["LESSONLENS_DATA_DIR"] = str(root / "data")
        # An empty cache home: the embedding cache starts empty (the model really runs, as on a
        # first start, and every run is the same), while the built model is found where it is.
        env["XDG_CACHE_HOME"] = str(root / "cache")
        env["LESSONLENS_MODEL_DIR"] = str(model_dir())
        stderr_path = root / "stderr.txt"
        with stderr_path.open("wb") as stderr:
            process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "lessonlens",
                "serve",
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=stderr,
                cwd=workspace,
                env=env,
            )
        client = Connection(process)
        try:
            await _drive(client, figures, workspace, target, text)
        except ServerFailed as exc:
            tail = stderr_path.read_text(errors="replace")[-1500:]
            figures.failure = f"{exc}\n--- server stderr (tail) ---\n{tail}"
        finally:
            await client.close()
    return figures


async def _drive(
    client: Connection, figures: ServerFigures, workspace: Path, target: Path, text: str
) -> None:
    root_uri = workspace.as_uri()
    await client.request(
        "initialize",
        {
            "processId": os.getpid(),
            "clientInfo": {"name": "model_bench.py"},
            "rootUri": root_uri,
            "workspaceFolders": [{"uri": root_uri, "name": workspace.name}],
            "initializationOptions": {"modelDevice": figures.device},
            "capabilities": {
                "textDocument": {"publishDiagnostics": {"versionSupport": True}},
                "window": {"workDoneProgress": True},
                # The refresh request is how we learn that the document's units were embedded.
                "workspace": {"codeLens": {"refreshSupport": True}},
            },
        },
    )
    started = time.perf_counter()
    await client.notify("initialized", {})
    token = LESSONS_TOKEN if figures.device == "off" else MODEL_TOKEN
    ended = await client.wait_for(_progress_end(token), LOAD_TIMEOUT_S)
    if ended is None:
        raise ServerFailed(f"no $/progress end for {token} in {LOAD_TIMEOUT_S:.0f} s")
    figures.load_s = ended[0] - started
    figures.outcome = str(ended[1]["params"]["value"].get("message", ""))
    for _, message in client.messages:
        said = str((message.get("params") or {}).get("message", ""))
        if message.get("method") == "window/logMessage" and "model" in said:
            figures.model = said.removeprefix("lessonlens: ")

    uri = target.as_uri()
    mark = len(client.messages)
    opened = time.perf_counter()
    await client.notify(
        "textDocument/didOpen",
        {"textDocument": {"uri": uri, "languageId": "python", "version": 1, "text": text}},
    )
    published = await client.wait_for(
        lambda m: (
            m.get("method") == "textDocument/publishDiagnostics"
            and (m.get("params") or {}).get("uri") == uri
        ),
        DIAGNOSTICS_TIMEOUT_S,
        mark,
    )
    if published is None:
        raise ServerFailed(f"no diagnostics for {target.name} in {DIAGNOSTICS_TIMEOUT_S:.0f} s")
    figures.diagnostics_ms = (published[0] - opened) * 1000
    if figures.outcome == "Related lessons ready":
        related = await client.wait_for(
            lambda m: m.get("method") == "workspace/codeLens/refresh", RELATIONS_TIMEOUT_S, mark
        )
        figures.relations_s = None if related is None else related[0] - opened
    await asyncio.sleep(SETTLE_S)
    memory = _memory_kib(client.process.pid)
    figures.rss_mb = memory.get("VmRSS", math.nan) * 1024 / 1e6
    figures.hwm_mb = memory.get("VmHWM", math.nan) * 1024 / 1e6


def server_benchmark() -> None:
    section("language server memory: `python -m lessonlens serve` (stdio)")
    document = Path(sysconfig.get_paths()["stdlib"]) / SERVER_DOCUMENT
    lines = document.read_bytes().count(b"\n")
    print(
        f"steps     initialize, initialized, $/progress end of the model (or lessons) token, "
        f"open {SERVER_DOCUMENT} ({lines} lines), its diagnostics, its related lessons, "
        f"{SETTLE_S:.0f} s, /proc/<pid>/status; fresh LESSONLENS_DATA_DIR and embedding cache"
    )
    results = [asyncio.run(measure_server(device, document)) for device in ("auto", "off")]
    print()
    print(
        f"{'modelDevice':12}{'ready s':>9}{'diag ms':>9}{'related s':>11}{'VmRSS MB':>10}"
        f"{'VmHWM MB':>10}  progress end"
    )
    for f in results:
        related = "-" if f.relations_s is None else f"{f.relations_s:.2f}"
        print(
            f"{f.device:12}{f.load_s:9.2f}{f.diagnostics_ms:9.0f}{related:>11}"
            f"{f.rss_mb:10.1f}{f.hwm_mb:10.1f}  {f.outcome or '-'}"
        )
    on, off = results
    if not (on.failure or off.failure):
        print(
            f"model     +{on.rss_mb - off.rss_mb:.1f} MB resident, "
            f"+{on.hwm_mb - off.hwm_mb:.1f} MB peak, against modelDevice off"
        )
    for f in results:
        if f.model:
            print(f"server    modelDevice {f.device}: {f.model}")
        if f.device != "off" and f.outcome == "Related lessons ready" and f.relations_s is None:
            print(f"note      no code lens refresh within {RELATIONS_TIMEOUT_S:.0f} s of the open")
        if f.failure:
            print(f"FAILED    modelDevice {f.device}: {f.failure}")


def gpu_benchmark(folder: Path, workload: Workload, cpu: list[Timing]) -> None:
    section("GPU: CUDA, batch 256")
    providers = available_providers()
    if CUDA not in providers:
        print(
            "skipped   onnxruntime-gpu is not installed (the [gpu] extra): CUDAExecutionProvider "
            f"is not among {', '.join(providers)}"
        )
        return
    if not gpu_visible():
        print("skipped   onnxruntime-gpu is installed but no GPU is visible")
        return
    int8 = [t for t in cpu if t.engine == "ONNX int8" and t.batching.tokens is None]
    reference = max(int8, key=lambda t: (t.batching.size == 256, t.batching.size), default=None)
    batching = Batching(256)
    for variant in ("fp32", "fp16"):
        try:
            # A real batch of 256: the CPU's token budget would cut it into batches of a few units.
            encoder = OnnxEncoder(
                open_model(folder, variant), provider=CUDA, batch_size=256, batch_tokens=None
            )
        except ModelUnavailable as exc:
            print(f"{variant:10}skipped: {exc}")
            continue
        if encoder.provider != CUDA:
            # onnxruntime falls back to the CPU, with a log line only, when CUDA cannot load.
            print(
                f"{variant:10}skipped: the session fell back to {encoder.provider} "
                "(CUDA or cuDNN libraries not found?)"
            )
            continue
        [(timing, _)] = time_engines(
            [(f"CUDA {variant}", encoder)], workload, batching, GPU_PASSES, 0
        )
        line = (
            f"{variant:10}{timing.throughput:10.1f} units/s, p50 "
            f"{percentile(timing.call_ms, 0.5):.1f} ms, p95 {percentile(timing.call_ms, 0.95):.1f}"
            f" ms per call of {timing.largest_call} over {len(timing.call_ms)} calls"
        )
        if reference is not None:
            line += (
                f"; {timing.throughput / reference.throughput:.1f}x CPU int8 at batch "
                f"{reference.batching.label}"
            )
        print(line)


# ---------------------------------------------------------------------------- main


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--units", type=int, default=256, help="workload size (default 256)")
    parser.add_argument(
        "--repeat",
        type=int,
        default=3,
        help="timed passes over the workload per batch size > 1, at most (default 3)",
    )
    parser.add_argument("--batches", default="1,32,256", help="comma-separated batch sizes")
    parser.add_argument(
        "--budget",
        type=int,
        default=DEFAULT_BATCH_TOKENS,
        help="also time the product's batching: DEFAULT_BATCH texts and at most this many padded "
        f"tokens per batch (default {DEFAULT_BATCH_TOKENS}; 0 leaves it out)",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"{QUICK['units']} units, one pass, {QUICK['single_calls']} single calls: "
        "just over a minute",
    )
    args = parser.parse_args()
    units, repeat, single_calls = args.units, args.repeat, SINGLE_CALLS
    if args.quick:
        units, repeat, single_calls = QUICK["units"], QUICK["repeat"], QUICK["single_calls"]
    batches = sorted({int(b) for b in args.batches.split(",") if b.strip()})
    if units < 1 or repeat < 1 or not batches or min(batches) < 1 or args.budget < 0:
        parser.error("--units, --repeat and every batch size must be at least 1")
    configs = [Batching(size) for size in batches]
    if args.budget:
        configs.append(Batching(DEFAULT_BATCH, args.budget))

    started = time.perf_counter()
    folder = model_dir()
    try:
        int8_files = open_model(folder, "int8")
        open_model(folder, "fp32")
    except ModelUnavailable as exc:
        print(f"no model to measure: {exc}")
        return
    manifest = int8_files.manifest
    print(
        f"model     {folder} ({manifest.source_package} {manifest.source_version}, "
        f"opset {manifest.opset}, dim {manifest.dim}, built with {manifest.builder})"
    )
    print(f"machine   {os.cpu_count()} cores; python {sys.version.split()[0]}")

    tokenizer = OnnxEncoder(int8_files, CPU)
    workload = load_workload(units, tokenizer.tokenize)
    del tokenizer
    print_workload(workload)
    cpu: list[Timing] = []
    sections: list[tuple[str, Callable[[], object]]] = [
        ("CPU", lambda: cpu.extend(cpu_benchmark(folder, workload, configs, repeat, single_calls))),
        ("cache", lambda: cache_benchmark(folder, workload)),
        ("server", server_benchmark),
        ("GPU", lambda: gpu_benchmark(folder, workload, cpu)),
    ]
    for name, run in sections:
        try:
            run()
        except Exception:
            # Figures for humans: one broken section must not cost the others.
            print(f"FAILED    the {name} section:")
            traceback.print_exc(file=sys.stdout)
    print()
    print(f"total     {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
