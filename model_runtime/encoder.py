"""Inference: texts in, unit vectors out. onnxruntime, tokenizers and numpy; never torch.

`Encoder` is the small protocol the rest of the product sees. `OnnxEncoder` is the real one;
`BatchingEncoder` lets concurrent callers (several documents, or thousands of units in `check`)
share batches; `CachedEncoder` keeps embeddings on disk keyed by model hash and text hash (raw
float32 with a checksum, never pickled).
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import queue
import sqlite3
import struct
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from .store import MANIFEST_NAME, MAX_TOKENS, ModelFiles, ModelUnavailable, model_dir, open_model

log = logging.getLogger(__name__)

CUDA = "CUDAExecutionProvider"
CPU = "CPUExecutionProvider"
DEVICES = ("auto", "cpu", "cuda")
# Texts per session.run. Sorted by length first, so each batch pads to similar lengths: on CPU this
# doubled throughput at batch 32 against batching in arrival order.
DEFAULT_BATCH = 32
# Tokens per batch (texts x padded length), at most: a line pair is ~15 tokens and a whole unit
# up to 256, so short texts go many to a batch and long ones few, and memory stays flat.
DEFAULT_BATCH_TOKENS = 1024


class Encoder(Protocol):
    """Texts to L2-normalised embeddings, one row per text, in the order given."""

    @property
    def identity(self) -> str:
        """Changes whenever the embeddings could change (the model file's hash)."""
        ...

    @property
    def dim(self) -> int: ...

    def embed(self, texts: Sequence[str]) -> np.ndarray: ...


@dataclass(frozen=True)
class ProviderChoice:
    provider: str
    variant: str
    reason: str


def gpu_visible() -> bool:
    """Whether a CUDA device is there to use: the driver's device nodes, or an explicit list."""
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    if visible is not None and visible.strip() in ("", "-1"):
        return False
    return Path("/dev/nvidiactl").exists() or Path("/proc/driver/nvidia/version").exists()


def choose_provider(
    device: str, available: Sequence[str], has_gpu: Callable[[], bool] = gpu_visible
) -> ProviderChoice:
    """Pick the execution provider and the variant that suits it.

    `auto` takes CUDA only when onnxruntime-gpu is installed (the provider is listed) *and* a GPU
    is visible: onnxruntime-gpu lists CUDA even on a machine without one. `cuda` that cannot be
    honoured falls back to the CPU with the reason, so that the editor still gets its lessons.
    """
    if device not in DEVICES:
        raise ValueError(f"device must be one of {', '.join(DEVICES)}, not {device!r}")
    if device == "cpu":
        return ProviderChoice(CPU, "int8", "device = cpu")
    cuda_listed = CUDA in available
    gpu = cuda_listed and has_gpu()
    if gpu:
        return ProviderChoice(CUDA, "fp16", f"device = {device}, CUDA available")
    why = (
        "onnxruntime-gpu is not installed (the [gpu] extra)"
        if not cuda_listed
        else "no GPU is visible"
    )
    if device == "cuda":
        log.warning("device = cuda, but %s: using the CPU", why)
    return ProviderChoice(CPU, "int8", f"device = {device}, {why}")


def default_threads(*, interactive: bool) -> int:
    """All cores for batch work; in an editor, one core is left to the analysis of edits."""
    cores = os.cpu_count() or 1
    return max(1, cores - 1) if interactive else cores


def _session_options(ort: Any, threads: int) -> Any:
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    # The arena keeps the peak of the largest batch for good: ~430 MB after one batch of 256 long
    # texts. With batches capped at DEFAULT_BATCH_TOKENS that peak is small, and reusing it beats
    # fresh pages for every batch: on a 6,400-line file, 154 MB peak and 15% faster with the
    # arena, 187 MB without (fragmentation). A caller that lifts the cap should expect the peak.
    options.enable_cpu_mem_arena = True
    # Memory patterns are planned per input shape, and every batch has its own: no reuse.
    options.enable_mem_pattern = False
    options.log_severity_level = 3
    return options


def length_buckets(
    lengths: Sequence[int], batch_size: int, batch_tokens: int | None
) -> list[list[int]]:
    """Length bucketing: indices sorted by length, similar lengths share a batch.

    A batch ends at `batch_size` texts or at `batch_tokens` padded tokens.
    """
    batches: list[list[int]] = []
    current: list[int] = []
    for i in sorted(range(len(lengths)), key=lambda i: lengths[i]):
        width = lengths[i]  # the longest so far: the order is ascending
        full = len(current) >= batch_size or (
            batch_tokens is not None and (len(current) + 1) * width > batch_tokens
        )
        if current and full:
            batches.append(current)
            current = []
        current.append(i)
    if current:
        batches.append(current)
    return batches


def padded(rows: Sequence[Sequence[int]]) -> tuple[np.ndarray, np.ndarray]:
    """Token ids padded with zeros to the longest row, and the attention mask that marks them."""
    width = max(len(row) for row in rows)
    input_ids = np.zeros((len(rows), width), dtype=np.int64)
    mask = np.zeros((len(rows), width), dtype=np.int64)
    for index, row in enumerate(rows):
        input_ids[index, : len(row)] = row
        mask[index, : len(row)] = 1
    return input_ids, mask


class OnnxEncoder:
    """One onnxruntime session over a verified model file; thread-safe for `embed`."""

    def __init__(
        self,
        files: ModelFiles,
        provider: str = CPU,
        batch_size: int = DEFAULT_BATCH,
        threads: int | None = None,
        batch_tokens: int | None = DEFAULT_BATCH_TOKENS,
    ):
        import onnxruntime as ort
        from tokenizers import Tokenizer

        self.files = files
        self.batch_size = batch_size
        self.batch_tokens = batch_tokens
        tokenizer = Tokenizer.from_file(str(files.tokenizer_path))
        # The packaged tokenizer.json truncates and pads everything to 128 tokens: truncate at the
        # model's own limit and pad per batch instead.
        tokenizer.enable_truncation(max_length=files.manifest.max_tokens or MAX_TOKENS)
        tokenizer.no_padding()
        self._tokenizer = tokenizer
        providers = [provider, CPU] if provider != CPU else [CPU]
        self._session = ort.InferenceSession(
            str(files.model_path),
            sess_options=_session_options(ort, threads or default_threads(interactive=False)),
            providers=providers,
        )
        self.provider = self._session.get_providers()[0]
        self._ort = ort
        self._dim = files.manifest.dim
        # The manifest is a file on disk too: its dimension must be the graph's, or every row
        # would be written into a wrong-sized matrix later, in the middle of `check --related`.
        declared = self._session.get_outputs()[0].shape[-1]
        if isinstance(declared, int) and declared != self._dim:
            raise ModelUnavailable(
                f"the model manifest {files.folder / MANIFEST_NAME} says dim {self._dim} but "
                f"{files.model_path.name} gives {declared}: run `lessonlens model build`"
            )

    @property
    def identity(self) -> str:
        return self.files.sha256

    @property
    def dim(self) -> int:
        return self._dim

    @property
    def variant(self) -> str:
        return self.files.variant

    def tokenize(self, texts: Sequence[str]) -> list[list[int]]:
        return [e.ids for e in self._tokenizer.encode_batch(list(texts))]

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        out = np.empty((len(texts), self._dim), dtype=np.float32)
        if not texts:
            return out
        ids = self.tokenize(texts)
        for chunk in self._batches(ids):
            out[chunk] = self._run(*padded([ids[i] for i in chunk]))
        return out

    def _batches(self, ids: list[list[int]]) -> list[list[int]]:
        return length_buckets([len(i) for i in ids], self.batch_size, self.batch_tokens)

    def _run(self, input_ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        if self.provider != CUDA:
            result = self._session.run(None, {"input_ids": input_ids, "attention_mask": mask})
            return np.asarray(result[0], dtype=np.float32)
        # IO binding: inputs copied to the device once, output allocated there, no extra copies.
        binding = self._session.io_binding()
        value = self._ort.OrtValue.ortvalue_from_numpy
        binding.bind_ortvalue_input("input_ids", value(input_ids, "cuda", 0))
        binding.bind_ortvalue_input("attention_mask", value(mask, "cuda", 0))
        binding.bind_output("embedding", "cuda")
        self._session.run_with_iobinding(binding)
        return np.asarray(binding.copy_outputs_to_cpu()[0], dtype=np.float32)


def available_providers() -> list[str]:
    import onnxruntime as ort

    return list(ort.get_available_providers())


def load_encoder(
    device: str = "auto",
    folder: Path | None = None,
    variant: str | None = None,
    batch_size: int = DEFAULT_BATCH,
    threads: int | None = None,
) -> OnnxEncoder:
    """Verify and load the model for `device`; raise ModelUnavailable with what to do."""
    choice = choose_provider(device, available_providers())
    files = open_model(folder or model_dir(), variant or choice.variant)
    try:
        if choice.provider == CUDA:
            # A GPU wants big batches; its memory is not the editor's RSS.
            encoder = OnnxEncoder(files, CUDA, max(batch_size, 256), threads, batch_tokens=65536)
        else:
            encoder = OnnxEncoder(files, choice.provider, batch_size, threads)
    except ModelUnavailable:
        raise
    except Exception as exc:  # onnxruntime raises its own exception types for a bad graph
        raise ModelUnavailable(f"cannot load {files.model_path}: {exc}") from exc
    log.info(
        "model loaded: %s variant %s (sha256 %s) on %s (%s)",
        files.model_path.name,
        files.variant,
        files.sha256[:12],
        encoder.provider,
        choice.reason,
    )
    return encoder


class _Wrapper:
    """An encoder in front of another: the same identity (model hash) and dimension."""

    def __init__(self, encoder: Encoder) -> None:
        self._encoder = encoder

    @property
    def identity(self) -> str:
        return self._encoder.identity

    @property
    def dim(self) -> int:
        return self._encoder.dim


@dataclass
class _Request:
    texts: Sequence[str]
    future: Future[np.ndarray]


class BatchingEncoder(_Wrapper):
    """A micro-batching queue in front of an encoder.

    Callers on any thread submit texts and get a future; one worker thread takes whatever requests
    are waiting (up to `max_batch` texts), embeds them in one call, and hands each caller its own
    rows in its own order. A burst of small requests thus shares batches instead of each paying
    for a nearly empty one.
    """

    def __init__(self, encoder: Encoder, max_batch: int = 256, max_wait_s: float = 0.002):
        super().__init__(encoder)
        self._max_batch = max_batch
        self._max_wait = max_wait_s
        self._queue: queue.Queue[_Request | None] = queue.Queue()
        self._worker = threading.Thread(target=self._loop, name="lessonlens-embed", daemon=True)
        self._worker.start()

    def submit(self, texts: Sequence[str]) -> Future[np.ndarray]:
        future: Future[np.ndarray] = Future()
        if not texts:
            future.set_result(np.empty((0, self.dim), dtype=np.float32))
        else:
            self._queue.put(_Request(list(texts), future))
        return future

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        return self.submit(texts).result()

    def close(self) -> None:
        self._queue.put(None)
        self._worker.join(timeout=5)

    def _loop(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            requests = [first]
            size = len(first.texts)
            while size < self._max_batch:
                try:
                    nxt = self._queue.get(timeout=self._max_wait)
                except queue.Empty:
                    break
                if nxt is None:
                    self._queue.put(None)
                    break
                requests.append(nxt)
                size += len(nxt.texts)
            self._serve(requests)

    def _serve(self, requests: list[_Request]) -> None:
        texts = [t for r in requests for t in r.texts]
        try:
            vectors = self._encoder.embed(texts)
        except Exception as exc:
            for r in requests:
                r.future.set_exception(exc)
            return
        start = 0
        for r in requests:
            r.future.set_result(vectors[start : start + len(r.texts)])
            start += len(r.texts)


def text_key(identity: str, text: str) -> str:
    return identity[:16] + ":" + hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


# An embedding on disk: magic, dimension, a digest bound to the model and the text, then the
# raw float32 row. What another process (or person) wrote there is checked, never trusted.
_MAGIC = b"LLE1"
_HEADER = struct.Struct("<4sI16s")


def _vector_digest(identity: str, key: str, row: bytes) -> bytes:
    return hashlib.blake2b(key.encode() + row, key=identity.encode()[:64], digest_size=16).digest()


class CachedEncoder(_Wrapper):
    """Embeddings kept on disk (SQLite), keyed by model hash and text hash.

    A unit that did not change costs a lookup, not an inference, across sessions. The cache can
    only cost speed: a value is raw float32 bytes behind a header (dimension, and a digest of
    model, text and row), never unpickled; one that fails a check is a miss and is replaced.
    A cache that cannot be opened or read is switched off and the encoder answers.
    """

    MAX_ENTRIES = 150_000

    def __init__(self, encoder: Encoder, folder: Path | None):
        super().__init__(encoder)
        self._cache: sqlite3.Connection | None = None
        self._lock = threading.Lock()
        if folder is not None:
            try:
                folder.mkdir(parents=True, exist_ok=True)
                self._cache = self._open(folder / "embeddings.db")
            except (sqlite3.Error, OSError) as exc:  # a corrupt file, a folder we cannot write
                log.warning("embedding cache %s unusable (%s): continuing without it", folder, exc)
        self.hits = 0
        self.misses = 0

    def _open(self, path: Path) -> sqlite3.Connection:
        db = sqlite3.connect(path, timeout=2.0, isolation_level=None, check_same_thread=False)
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("CREATE TABLE IF NOT EXISTS vectors (key TEXT PRIMARY KEY, value BLOB)")
            db.execute(
                "DELETE FROM vectors WHERE rowid <= (SELECT max(rowid) FROM vectors) - ?",
                (self.MAX_ENTRIES,),
            )
        except sqlite3.Error:
            db.close()
            raise
        return db

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        keys = [text_key(self.identity, t) for t in texts]
        missing: list[int] = []
        for i, key in enumerate(keys):
            row = self._row(key, self._get(key))
            if row is not None:
                out[i] = row
            else:
                missing.append(i)
        self.hits += len(texts) - len(missing)
        self.misses += len(missing)
        if missing:
            fresh = self._encoder.embed([texts[i] for i in missing])
            for n, i in enumerate(missing):
                out[i] = fresh[n]
                data = fresh[n].astype("<f4").tobytes()
                digest = _vector_digest(self.identity, keys[i], data)
                self._set(keys[i], _HEADER.pack(_MAGIC, self.dim, digest) + data)
        return out

    def _row(self, key: str, blob: bytes | None) -> np.ndarray | None:
        """The cached row if the entry is exactly what this model wrote for this text."""
        if blob is None or len(blob) != _HEADER.size + 4 * self.dim:
            return None
        magic, dim, digest = _HEADER.unpack_from(blob)
        data = blob[_HEADER.size :]
        if magic != _MAGIC or dim != self.dim or digest != _vector_digest(self.identity, key, data):
            return None
        row = np.frombuffer(data, dtype="<f4")
        return row if bool(np.all(np.isfinite(row))) else None

    def _get(self, key: str) -> bytes | None:
        if self._cache is None:
            return None
        try:
            with self._lock:
                found = self._cache.execute(
                    "SELECT value FROM vectors WHERE key = ?", (key,)
                ).fetchone()
        except sqlite3.Error as exc:
            self._disable(exc)
            return None
        return found[0] if found is not None and isinstance(found[0], bytes) else None

    def _set(self, key: str, value: bytes) -> None:
        if self._cache is None:
            return
        try:
            with self._lock:
                self._cache.execute(
                    "INSERT OR REPLACE INTO vectors (key, value) VALUES (?, ?)", (key, value)
                )
        except sqlite3.Error as exc:
            self._disable(exc)

    def _disable(self, exc: Exception) -> None:
        log.warning("embedding cache failed (%s): continuing without it", exc)
        with contextlib.suppress(Exception):
            self.close()
        self._cache = None

    def close(self) -> None:
        if self._cache is not None:
            with self._lock:
                self._cache.close()
