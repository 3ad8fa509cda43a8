"""The layer boundaries in ARCHITECTURE.md, checked over every import in the package."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LAYERS = ("server", "lsp", "lessons", "analyzers", "model_runtime")


def imports_of(folder: str) -> list[tuple[str, str]]:
    """(file, imported module) for every import in a layer, relative imports resolved."""
    found = []
    for path in sorted((ROOT / folder).rglob("*.py")):
        tree = ast.parse(path.read_text(), str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                found.extend((str(path.relative_to(ROOT)), a.name) for a in node.names)
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    package = ".".join(["lessonlens", *path.relative_to(ROOT).parts[:-1]])
                    base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                    module = f"{base}.{node.module}" if node.module else base
                else:
                    module = node.module or ""
                found.append((str(path.relative_to(ROOT)), module))
    return found


def offenders(folder: str, forbidden: tuple[str, ...]) -> list[str]:
    return [
        f"{file} imports {module}"
        for file, module in imports_of(folder)
        if any(module == f or module.startswith(f + ".") for f in forbidden)
    ]


@pytest.mark.parametrize("layer", [layer for layer in LAYERS if layer != "lsp"])
def test_only_lsp_speaks_the_protocol(layer):
    assert not offenders(layer, ("pygls", "lsprotocol"))


@pytest.mark.parametrize("layer", [layer for layer in LAYERS if layer != "lsp"])
def test_the_core_does_not_depend_on_the_adapter(layer):
    """Only the CLI, the composition root, wires the adapter in (``lessonlens serve``)."""
    found = [o for o in offenders(layer, ("lessonlens.lsp",)) if not o.startswith("server/cli/")]
    assert not found


@pytest.mark.parametrize("layer", [layer for layer in LAYERS if layer != "model_runtime"])
def test_only_model_runtime_touches_the_model(layer):
    assert not offenders(layer, ("onnxruntime", "tokenizers", "torch", "transformers"))


def test_analyzers_stand_alone_and_do_no_io():
    assert not offenders(
        "analyzers",
        (
            "lessonlens.server",
            "lessonlens.lessons",
            "lessonlens.model_runtime",
            "subprocess",
            "socket",
            "sqlite3",
            "urllib",
            "http",
            "requests",
            "diskcache",
        ),
    )
    for path in (ROOT / "analyzers").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                assert node.func.id != "open", f"{path} opens a file"


def test_lessons_are_data_plus_a_loader():
    assert not offenders(
        "lessons",
        ("lessonlens.server", "lessonlens.analyzers", "lessonlens.model_runtime"),
    )


def test_tree_sitter_binding_is_behind_one_module():
    users = {
        file
        for layer in LAYERS
        for file, module in imports_of(layer)
        if module == "tree_sitter" or module.startswith("tree_sitter.")
    }
    assert users == {"analyzers/parsing.py"}


# ---- team figures: one definition ------------------------------------------------------------


def _module_assignments(path: Path) -> list[str]:
    names = []
    for node in ast.parse(path.read_text(), str(path)).body:
        targets = node.targets if isinstance(node, ast.Assign) else [getattr(node, "target", None)]
        names.extend(t.id for t in targets if isinstance(t, ast.Name))
    return names


def test_team_figures_have_one_definition():
    """Team figures are computed in ``server/team/figures.py`` only; the minimum group's default
    lives in ``server/team/matrix.py`` (where the config is read) and nowhere else, and the gap's
    priority weights in ``server/team/figures.py``. (``model_runtime/related.py``'s
    ``PRIORITY_WEIGHT`` ranks related lessons for one developer in the editor: not a team figure.)
    """
    minimum_groups = []
    weights = []
    for path in sorted((ROOT / "server").rglob("*.py")):
        where = str(path.relative_to(ROOT))
        for name in _module_assignments(path):
            upper = name.upper()
            if "MIN" in upper and "GROUP" in upper:
                minimum_groups.append(f"{where}:{name}")
            if "PRIORITY" in upper and "WEIGHT" in upper:
                weights.append(f"{where}:{name}")
    assert minimum_groups == ["server/team/matrix.py:DEFAULT_MIN_GROUP_SIZE"]
    assert weights == ["server/team/figures.py:PRIORITY_WEIGHTS"]


def test_one_function_decides_whether_a_group_is_shown():
    """No comparison against the minimum group outside ``team.suppression`` (and the config's
    own check that the configured minimum is at least 2), and the HTML report computes nothing:
    neither the page nor its charts import a learner, store, matrix or LRS client."""

    def against_minimum(node: ast.Compare) -> bool:
        """An ordering (<, <=, >, >=) with the minimum group as one side."""
        if not all(isinstance(op, ast.Lt | ast.LtE | ast.Gt | ast.GtE) for op in node.ops):
            return False
        for side in (node.left, *node.comparators):
            name = side.id if isinstance(side, ast.Name) else getattr(side, "attr", "")
            if "minimum" in name or "min_group" in name:
                return True
        return False

    found = []
    allowed = {("server/team/figures.py", "suppression"), ("server/team/matrix.py", "parse_matrix")}
    for path in sorted((ROOT / "server").rglob("*.py")):
        where = str(path.relative_to(ROOT))
        if where == "server/editor/settings.py":  # editor settings' own "minimum" values
            continue
        for function in ast.walk(ast.parse(path.read_text(), str(path))):
            if not isinstance(function, ast.FunctionDef) or (where, function.name) in allowed:
                continue
            for node in ast.walk(function):
                if isinstance(node, ast.Compare) and against_minimum(node):
                    found.append(f"{where}:{function.name}:{node.lineno}")
    assert found == []
    computing = ("learner", "team.matrix", "team.statements", "team.lrs", "team.history")
    rendering = ("server/team/report.py", "server/team/charts.py")
    assert not [
        module
        for file, module in imports_of("server")
        if file in rendering
        and any(module.startswith(f"lessonlens.server.{name}") for name in computing)
    ]


# ---- the core names no language --------------------------------------------------------------

# What only a language's own package may say: its modules, its decoding, its options, its nodes.
PYTHON_NAMES = (
    "analyzers.python",
    "tree_sitter_python",
    "decode_python",
    "target_python",
    "min_python",
    "below_python",
    "requires_python",
    "tokenize",
    "function_definition",
    "class_definition",
    "decorated_definition",
    "for_statement",
    "comprehension",
)
# The one place outside ``analyzers/python/`` that names it: the built-in languages' registration.
REGISTRATION = "analyzers/languages.py"


def _core_files() -> list[Path]:
    files = [*(ROOT / "server").rglob("*.py"), *(ROOT / "lsp").rglob("*.py")]
    files += [ROOT / "analyzers" / name for name in ("engine.py", "model.py", "match.py")]
    files += [ROOT / "analyzers" / "windows.py", ROOT / "analyzers" / "facade.py"]
    files += [ROOT / REGISTRATION]
    return files


def test_the_core_names_no_language():
    """Python lives behind its ``LanguageSpec`` (analyzers/python/spec.py), as any language would.

    Code, not prose: comments and docstrings may give Python as an example.
    """
    found = []
    for path in _core_files():
        relative = str(path.relative_to(ROOT))
        tree = ast.parse(path.read_text(), relative)
        docstrings = {
            id(node.body[0].value)
            for node in ast.walk(tree)
            if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
            and node.body
            and isinstance(node.body[0], ast.Expr)
            and isinstance(node.body[0].value, ast.Constant)
        }
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                if id(node) in docstrings:
                    continue
                text = node.value
            elif isinstance(node, ast.Name):
                text = node.id
            elif isinstance(node, ast.Attribute):
                text = node.attr
            elif isinstance(node, ast.alias):
                text = node.name
            elif isinstance(node, ast.ImportFrom):
                text = node.module or ""
            else:
                continue
            for name in PYTHON_NAMES:
                if name in text:
                    found.append(f"{relative}:{getattr(node, 'lineno', 0)}: {name}")
    allowed = {f"{REGISTRATION}:{n}" for n in ("analyzers.python",)}
    found = [f for f in found if f.rsplit(":", 2)[0] + ":" + f.rsplit(": ", 1)[1] not in allowed]
    assert not found, "\n".join(found)


def test_python_is_registered_like_any_language():
    """The built-in language goes through the registry that plugins use."""
    from lessonlens.analyzers.languages import language_for_id, language_for_path, languages
    from lessonlens.analyzers.python.spec import PYTHON

    assert languages()[0] is PYTHON
    assert language_for_id("python") is PYTHON
    assert language_for_path("x.py") is PYTHON


def test_the_language_server_starts_without_the_model_or_the_check_machinery():
    """What ``lessonlens serve`` imports before its first diagnostics (ARCHITECTURE.md).

    The model's libraries, the LRS client, the Markdown parser and ``check``'s machinery load
    on first use or in the background, after the server answers: start-up is what an editor
    waits for before the first hint.
    """
    import subprocess
    import sys

    deferred = (
        "numpy",
        "onnxruntime",
        "tokenizers",
        "markdown_it",
        "rich",
        "lessonlens.model_runtime.encoder",
        "lessonlens.model_runtime.related",
        "lessonlens.server.team.statements",
        "lessonlens.server.team.lrs",
        "lessonlens.server.check.run",
        "lessonlens.server.check.fixes",
        "lessonlens.lessons.markup",
    )
    code = (
        "import sys, lessonlens.server.cli, lessonlens.lsp.server\n"
        "lessonlens.lsp.server.build_server()\n"
        f"print(' '.join(m for m in {deferred!r} if m in sys.modules))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    ).stdout.split()
    assert not loaded, f"imported at start-up: {loaded}"


# ---- one analysis path -----------------------------------------------------------------------

# What only the façade (analyzers/facade.py) calls: the engine's entry points, the selection
# primitive and the parser. Every driver (check, fixes, the editor, baseline, related lessons,
# the training tooling) goes through ``facade`` instead.
ENGINE_ENTRY_POINTS = {"analyze", "analyze_tree", "rule_selected", "new_parser"}


def test_every_driver_analyses_through_the_facade():
    found = []
    for layer in ("server", "lsp", "model_runtime"):
        for path in sorted((ROOT / layer).rglob("*.py")):
            relative = str(path.relative_to(ROOT))
            for node in ast.walk(ast.parse(path.read_text(), relative)):
                if isinstance(node, ast.ImportFrom) and (node.module or "").startswith(
                    "lessonlens.analyzers"
                ):
                    found += [
                        f"{relative}:{node.lineno} imports {a.name}"
                        for a in node.names
                        if a.name in ENGINE_ENTRY_POINTS
                    ]
                if (
                    isinstance(node, ast.Attribute)
                    and isinstance(node.value, ast.Name)
                    and node.value.id in ("parsing", "engine")
                    and node.attr in {*ENGINE_ENTRY_POINTS, "parse"}
                ):
                    found.append(f"{relative}:{node.lineno} calls {node.value.id}.{node.attr}")
    assert not found, "\n".join(found)


def test_selection_has_one_policy():
    """Ruff's semantics, in the CLI and the editor alike: a layer that selects starts afresh."""
    from lessonlens.analyzers.facade import Selection, rules_by_id

    rules = rules_by_id()
    concat = next(r for r in rules.values() if r.id == "PY002")
    opt_in = next(r for r in rules.values() if r.opt_in)
    config = (("PY0",), ("PY002",))
    assert not Selection.layered(config).chooses(concat)
    assert not Selection.layered(config, ((), ("PY003",))).chooses(concat)
    assert Selection.layered(config, (("py002",), ())).chooses(concat)
    assert Selection.layered(config, ((concat.name,), ())).chooses(concat)
    assert not Selection.layered(config, (("PY",), ("PY002",))).chooses(concat)
    assert not Selection().chooses(opt_in)
    assert Selection((opt_in.id,)).chooses(opt_in)


# ---- rooms by job ----------------------------------------------------------------------------

MAX_MODULE_LINES = 600
MAX_CLASS_LINES = 300


def test_no_module_or_class_outgrows_its_room():
    """The application core stays easy to live in (training tooling is not the core)."""
    found = []
    for layer in LAYERS:
        for path in sorted((ROOT / layer).rglob("*.py")):
            relative = str(path.relative_to(ROOT))
            if relative.startswith("model_runtime/training/"):
                continue
            text = path.read_text()
            if text.count("\n") > MAX_MODULE_LINES:
                found.append(f"{relative}: {text.count(chr(10))} lines")
            for node in ast.walk(ast.parse(text, relative)):
                if isinstance(node, ast.ClassDef):
                    size = (node.end_lineno or node.lineno) - node.lineno + 1
                    if size > MAX_CLASS_LINES:
                        found.append(f"{relative}: class {node.name} is {size} lines")
    assert not found, "\n".join(found)


def test_every_room_is_named_in_the_architecture():
    text = (ROOT / "ARCHITECTURE.md").read_text()
    rooms = [
        str(path.parent.relative_to(ROOT))
        for layer in LAYERS
        for path in (ROOT / layer).rglob("__init__.py")
    ]
    assert [room for room in rooms if f"`{room}/`" not in text] == []


def test_training_tooling_stands_apart():
    """Build and training tooling never imports the application core, and the runtime never
    imports the tooling."""
    tooling = [
        f"{file} imports {module}"
        for file, module in imports_of("model_runtime")
        if file.startswith("model_runtime/training/")
        and (module.startswith("lessonlens.server") or module.startswith("lessonlens.lsp"))
    ]
    assert tooling == []
    runtime = [
        f"{file} imports {module}"
        for layer in LAYERS
        for file, module in imports_of(layer)
        if module.startswith("lessonlens.model_runtime.training")
        and not file.startswith("model_runtime/training/")
    ]
    assert runtime == []


def test_git_runs_through_one_wrapper():
    """``server/workspace/git.py`` runs git for `check --diff`, `baseline`, the pseudonym and the
    CLI; only ``baseline`` keeps its own long-lived ``git cat-file --batch`` for blobs (in
    ``server/team/commits.py``). The one
    other subprocess is a lesson example's toolchain (``node``, ``go``), run by the tests."""
    users = sorted(
        {
            file
            for file, module in imports_of("server")
            if module == "subprocess" or module.startswith("subprocess.")
        }
    )
    assert users == [
        "server/languages/runner.py",
        "server/team/commits.py",
        "server/workspace/git.py",
    ]
