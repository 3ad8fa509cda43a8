"""Editor settings: one definition for the wire format, the reference docs and VS Code.

The reference (docs/settings.md) and the VS Code ``contributes.configuration`` are generated
from the dataclass below, so that they cannot drift apart.

Settings arrive from ``initializationOptions`` (a flat object such as ``{"debounceMs": 0}``) and
from ``workspace/configuration`` (section ``lessonlens``). Keys are camelCase on the wire.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, fields, replace
from typing import Any

PREFIX = "lessonlens"


@dataclass(frozen=True)
class Setting:
    """How one field appears to people and to VS Code."""

    description: str
    enum: tuple[str, ...] = ()
    minimum: int | None = None
    maximum: int | None = None


def _meta(description: str, **kwargs: Any) -> dict[str, Setting]:
    return {"setting": Setting(description, **kwargs)}


@dataclass(frozen=True)
class Settings:
    select: tuple[str, ...] = field(
        default=(),
        metadata=_meta(
            "Rules to show (ids such as PY001, prefixes such as PY0, or names). "
            "Empty: the default rules, or the project's `select` from pyproject.toml. "
            "Opt-in rules (PY006, PY020) run only when named by id or name."
        ),
    )
    ignore: tuple[str, ...] = field(
        default=(), metadata=_meta("Rules never to show, added to the project's `ignore`.")
    )
    max_hints_per_file: int = field(
        default=25,
        metadata=_meta(
            "At most this many hints in one file (the first ones by position).", minimum=0
        ),
    )
    debounce_ms: int = field(
        default=0,
        metadata=_meta(
            "Wait this long after the last keystroke before analysing. 0 analyses at once; raise "
            "it on slow machines (at most 5000).",
            minimum=0,
            # Every pull request waits this long: an hour-long debounce is a hung editor.
            maximum=5000,
        ),
    )
    lesson_dirs: tuple[str, ...] = field(
        default=(),
        metadata=_meta(
            "Folders of team lessons (Markdown), added to the project's `lesson-dirs`. A team "
            "lesson with a built-in lesson's id replaces it."
        ),
    )
    adaptive_hints: bool = field(
        default=True,
        metadata=_meta(
            "Adapt hints to you: fade a skill's hints as you master it (quiet, then silent), and "
            "show at most 10 new hints per file and hour. Off: every hint, every time."
        ),
    )
    lesson_form: str = field(
        default="auto",
        metadata=_meta(
            "The form a lesson opens in: `auto` (chosen from your progress: a worked example "
            "first, practice when a pattern keeps coming back, a one-line nudge near mastery, "
            "the deep dive for a team priority), or always `nudge`, `worked-example`, "
            "`practice` or `deep-dive`. The other forms stay in the lesson view.",
            enum=("auto", "nudge", "worked-example", "practice", "deep-dive"),
        ),
    )
    share_progress: bool = field(
        default=False,
        metadata=_meta(
            "Share your skill-progress signals with your team. Off until you turn it on; "
            "nothing leaves this machine while it is off."
        ),
    )
    lrs_url: str = field(
        default="",
        metadata=_meta(
            "xAPI endpoint of your company's Learning Record Store (for Ralph: "
            "http://HOST:PORT/xAPI/). Used only while shareProgress is on; the credentials come "
            "from LESSONLENS_LRS_USERNAME and LESSONLENS_LRS_PASSWORD in the server's environment."
        ),
    )
    model_device: str = field(
        default="auto",
        metadata=_meta(
            "Where the model behind related lessons runs: auto (a GPU when one is usable), cpu "
            "or cuda; off turns related lessons off. Read at start.",
            enum=("auto", "cpu", "cuda", "off"),
        ),
    )


def wire_name(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, tuple):
        return "array"
    return "string"


def parse_settings(raw: Any, base: Settings | None = None) -> tuple[Settings, list[str]]:
    """Settings from a wire object; invalid values keep their defaults and are reported.

    Unknown keys are ignored silently, because editors send other extensions' keys too.
    """
    settings = base or Settings()
    errors: list[str] = []
    if raw is None:
        return settings, errors
    if not isinstance(raw, dict):
        return settings, [f"settings must be an object, got {type(raw).__name__}"]
    changes: dict[str, Any] = {}
    for spec in fields(Settings):
        key = wire_name(spec.name)
        if key not in raw or raw[key] is None:
            continue
        value = raw[key]
        meta: Setting = spec.metadata["setting"]
        kind = _kind(spec.default)
        ok = (
            (kind == "boolean" and isinstance(value, bool))
            or (kind == "integer" and isinstance(value, int) and not isinstance(value, bool))
            or (kind == "string" and isinstance(value, str))
            or (
                kind == "array"
                and isinstance(value, list)
                and all(isinstance(v, str) for v in value)
            )
        )
        if ok and meta.enum and value not in meta.enum:
            ok = False
        if ok and meta.minimum is not None and value < meta.minimum:
            ok = False
        if ok and meta.maximum is not None and value > meta.maximum:
            ok = False
        if not ok:
            article = "an" if kind[0] in "aeiou" else "a"
            expected = f"one of {', '.join(meta.enum)}" if meta.enum else f"{article} {kind}"
            if meta.minimum is not None and meta.maximum is not None:
                expected += f" from {meta.minimum} to {meta.maximum}"
            elif meta.minimum is not None:
                expected += f" >= {meta.minimum}"
            errors.append(f"{PREFIX}.{key}: expected {expected}, got {json.dumps(value)}")
            continue
        changes[spec.name] = tuple(value) if kind == "array" else value
    return replace(settings, **changes), errors


def vscode_configuration() -> dict[str, Any]:
    """The ``contributes.configuration`` block of the VS Code extension's package.json."""
    properties: dict[str, Any] = {
        f"{PREFIX}.pythonPath": {
            "type": "string",
            "default": "",
            "markdownDescription": "Python interpreter that runs `lessonlens serve`. Empty: the "
            "interpreter selected in the Python extension, else `python3` on PATH.",
        }
    }
    defaults = Settings()
    for spec in fields(Settings):
        meta: Setting = spec.metadata["setting"]
        default = getattr(defaults, spec.name)
        kind = _kind(default)
        entry: dict[str, Any] = {
            "type": kind,
            "default": list(default) if kind == "array" else default,
            "markdownDescription": meta.description,
        }
        if kind == "array":
            entry["items"] = {"type": "string"}
        if meta.enum:
            entry["enum"] = list(meta.enum)
        if meta.minimum is not None:
            entry["minimum"] = meta.minimum
        if meta.maximum is not None:
            entry["maximum"] = meta.maximum
        properties[f"{PREFIX}.{wire_name(spec.name)}"] = entry
    return {"title": "lessonlens", "properties": properties}


def reference_markdown() -> str:
    """docs/settings.md: the settings reference."""
    lines = [
        "# Settings reference",
        "",
        "<!-- Generated by `lessonlens settings --markdown`; do not edit by hand. -->",
        "",
        "Editors send these under `lessonlens` (VS Code settings, or `settings`/`init_options` in",
        "Neovim). `initializationOptions` takes the same keys as a flat object, e.g.",
        '`{"debounceMs": 0}`.',
        "",
        "| Setting | Type | Default | Description |",
        "|---|---|---|---|",
    ]
    for name, entry in vscode_configuration()["properties"].items():
        kind = entry["type"] + (f" ({' / '.join(entry['enum'])})" if "enum" in entry else "")
        default = json.dumps(entry["default"])
        lines.append(f"| `{name}` | {kind} | `{default}` | {entry['markdownDescription']} |")
    return "\n".join(lines) + "\n"
