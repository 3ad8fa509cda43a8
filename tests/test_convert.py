"""Position conversion between byte columns and the client's encoding, on non-ASCII text."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from lsprotocol import types

from lessonlens.analyzers import language_for_id
from lessonlens.lsp import convert
from lessonlens.server.editor.documents import Document
from lessonlens.server.editor.settings import reference_markdown

PYTHON = language_for_id("python")
LINE = 's = "café 日本 🙂"; x = 1'  # é: 2 bytes; 日本: 3 bytes each; 🙂: 4 bytes, 2 UTF-16 units


def test_known_columns_in_each_encoding():
    line = LINE.encode()
    x_byte = line.index(b"x =")
    assert convert.column_to_units(line, x_byte, convert.UTF8) == x_byte
    assert convert.column_to_units(line, x_byte, convert.UTF32) == LINE.index("x =")
    # The emoji counts twice in UTF-16.
    assert convert.column_to_units(line, x_byte, convert.UTF16) == LINE.index("x =") + 1
    for encoding in (convert.UTF8, convert.UTF16, convert.UTF32):
        units = convert.column_to_units(line, x_byte, encoding)
        assert convert.units_to_column(line, units, encoding) == x_byte


def test_positions_inside_a_character_never_split_it():
    line = "🙂x".encode()
    # UTF-16 unit 1 is the middle of the surrogate pair: snap to the end of the emoji.
    assert convert.units_to_column(line, 1, convert.UTF16) == 4
    # UTF-8 byte 2 is inside the emoji: snap forward to a character boundary.
    assert convert.units_to_column(line, 2, convert.UTF8) == 4
    assert convert.units_to_column(line, 99, convert.UTF16) == len(line)


@given(st.text(max_size=40), st.sampled_from([convert.UTF8, convert.UTF16, convert.UTF32]))
def test_round_trip_on_every_character_boundary(text, encoding):
    text = text.replace("\n", " ").replace("\r", " ")
    line = text.encode("utf-8", "surrogatepass")
    for index in range(len(text) + 1):
        column = len(text[:index].encode("utf-8", "surrogatepass"))
        units = convert.column_to_units(line, column, encoding)
        assert convert.units_to_column(line, units, encoding) == column


@given(st.lists(st.text(max_size=12), min_size=1, max_size=6), st.data())
def test_document_offsets_match_the_python_string(lines, data):
    lines = [line.replace("\n", " ").replace("\r", " ") for line in lines]
    text = "\n".join(lines)
    document = Document("file:///t.py", PYTHON, 1, text.encode("utf-8", "surrogatepass"))
    row = data.draw(st.integers(0, len(lines) - 1))
    index = data.draw(st.integers(0, len(lines[row])))
    units = len(lines[row][:index].encode("utf-16-le", "surrogatepass")) // 2
    offset = convert.offset_of(document, types.Position(row, units), convert.UTF16)
    expected = len(
        ("\n".join(lines[:row]) + ("\n" if row else "") + lines[row][:index]).encode(
            "utf-8", "surrogatepass"
        )
    )
    assert offset == expected


def test_settings_reference_is_generated_from_the_definition():
    from pathlib import Path

    docs = Path(__file__).resolve().parent.parent / "docs" / "settings.md"
    assert docs.read_text() == reference_markdown(), "run `lessonlens settings --markdown`"


def test_vscode_settings_are_generated_from_the_definition():
    import json
    from pathlib import Path

    from lessonlens.server.editor.settings import vscode_configuration

    package = Path(__file__).resolve().parent.parent / "editors" / "vscode" / "package.json"
    contributed = json.loads(package.read_text())["contributes"]["configuration"]
    assert contributed == vscode_configuration(), "run `npm run sync-settings` in editors/vscode"
