"""The editor serves JavaScript, TypeScript and Go as it serves Python, over real LSP (stdio).

Each test starts ``lessonlens serve`` with its own progress store and opens one document with
the languageId an editor sends (VS Code's ``typescript``, Neovim's ``go`` filetype): hints,
the lesson on hover, code actions (an unsafe fix is offered, never preferred), code lenses, and
progress events recorded under the file's language.
"""

from __future__ import annotations

import asyncio
import sqlite3
import uuid
from concurrent.futures import Future
from pathlib import Path
from typing import Any

import pytest
from lsp_client import Editor
from lsprotocol import types

TYPESCRIPT = """\
export function load(url: string): Promise<string> {
  return new Promise<string>(async (resolve) => {
    resolve(await fetchText(url));
  });
}
"""

GO = """\
package names

import "strings"

func Same(a, b string) bool {
	return strings.ToLower(a) == strings.ToLower(b)
}
"""


async def raw_request(editor: Editor, method: str, params: Any) -> Any:
    """Send a request as given and return its JSON result as it came."""
    msg_id = f"raw-{uuid.uuid4()}"
    future: Future[Any] = Future()
    editor.client.protocol._request_futures[msg_id] = future
    editor.client.protocol._send_data(
        {"jsonrpc": "2.0", "id": msg_id, "method": method, "params": params}
    )
    async with asyncio.timeout(20):
        return await asyncio.wrap_future(future)


async def started(tmp_path: Path, name: str, language: str) -> Editor:
    root = tmp_path / "project"
    root.mkdir()
    editor = Editor(root, tmp_path / "data", name=name, language=language)
    await editor.start(initialization_options={"modelDevice": "off"})
    return editor


@pytest.mark.parametrize(
    ("name", "language"),
    [("work.ts", "typescript"), ("work.tsx", "typescriptreact"), ("work.js", "javascript")],
)
async def test_a_typescript_file_gets_its_hint_and_lesson(tmp_path, name, language):
    editor = await started(tmp_path, name, language)
    try:
        text = TYPESCRIPT if language != "javascript" else TYPESCRIPT.replace(": string", "")
        text = text.replace("Promise<string>(", "Promise(").replace("): Promise<string>", ")")
        diagnostics = await editor.open(text)
        (hint,) = [d for d in diagnostics if d.code == "JS015"]
        assert hint.range.start.line == 1
        assert hint.source == "lessonlens"
        hover = await editor.hover(hint.range.start)
        assert hover.startswith("# Never pass an async function to new Promise")
        assert "```javascript" in hover
        lenses = await editor.client.text_document_code_lens_async(
            types.CodeLensParams(types.TextDocumentIdentifier(editor.uri))
        )
        assert [lens.range.start.line for lens in lenses or []] == [0]
    finally:
        await editor.stop()


async def test_a_go_file_gets_its_hint_an_unsafe_fix_and_progress(tmp_path):
    editor = await started(tmp_path, "names.go", "go")
    try:
        diagnostics = await editor.open(GO)
        (hint,) = [d for d in diagnostics if d.code == "GO007"]
        assert hint.range.start.line == 5
        hover = await editor.hover(hint.range.start)
        assert hover.startswith("# Compare ignoring case with strings.EqualFold")
        # Read as plain JSON: lsprotocol would take a CodeAction carrying a command for a Command.
        converter = editor.client.protocol._converter
        params = types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(editor.uri),
            range=hint.range,
            context=types.CodeActionContext(diagnostics=[hint]),
        )
        actions = await raw_request(
            editor, types.TEXT_DOCUMENT_CODE_ACTION, converter.unstructure(params)
        )
        (fix,) = [a for a in actions if a.get("kind") == "quickfix" and a.get("edit")]
        # Unsafe (case folding and lower-casing disagree on a few runes): offered, not preferred.
        assert not fix.get("isPreferred")
        assert "EqualFold" in fix["title"]
        assert "Show lesson: Compare ignoring case with strings.EqualFold" in [
            a["title"] for a in actions
        ]
        progress = await editor.request("lessonlens/progress", None)
        assert "go.strings" in {row["id"] for row in progress["skills"]}
    finally:
        await editor.stop()
    # The hint shown and the lesson read on hover, recorded under the file's language.
    with sqlite3.connect(tmp_path / "data" / "progress.sqlite3") as store:
        rows = set(store.execute("SELECT skill_id, language, kind FROM events"))
    assert {("go.strings", "go", "hint_shown"), ("go.strings", "go", "lesson_opened")} <= rows
