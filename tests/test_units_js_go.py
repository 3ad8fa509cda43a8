"""What the model reads of JavaScript/TypeScript and Go code: functions, methods, classes and
top-level blocks, each with the imports it uses; and the editor cache's units and glue."""

from __future__ import annotations

from pathlib import Path

from lessonlens.analyzers import AnalysisOptions, language_for_id, language_for_path
from lessonlens.analyzers.facade import analyse, code_units

TYPESCRIPT = """\
import { readFile } from "node:fs/promises";
import path from "node:path";

const LIMIT = 10;

export async function load(name: string): Promise<string> {
  return readFile(path.join("data", name), "utf8");
}

export const double = (x: number) => x * 2;

export class Cache {
  private items = new Map<string, string>();
  get(key: string) {
    return this.items.get(key);
  }
  async warm(keys: string[]) {
    for (const key of keys) this.items.set(key, await load(key));
  }
}

for (const name of ["a", "b", "c"]) {
  console.log(name, LIMIT);
}
"""

GO = """\
package store

import (
\t"fmt"
\tstr "strings"
)

var ErrMissing = fmt.Errorf("missing")

type Store struct {
\titems map[string]string
}

func (s *Store) Get(key string) (string, error) {
\tv, ok := s.items[str.ToLower(key)]
\tif !ok {
\t\treturn "", ErrMissing
\t}
\treturn v, nil
}

func New() *Store {
\treturn &Store{items: map[string]string{}}
}
"""


def units(text: str, language: str) -> list[tuple[str, str]]:
    spec = language_for_id(language)
    assert spec is not None
    return [(u.kind, u.name) for u in code_units(analyse(text.encode(), spec, AnalysisOptions()))]


def test_typescript_units_are_functions_classes_methods_and_blocks():
    # `const LIMIT = 10;` alone is too short a block to match a lesson on.
    assert units(TYPESCRIPT, "typescript") == [
        ("function", "load"),
        ("function", "double"),
        ("class", "Cache"),
        ("method", "Cache.get"),
        ("method", "Cache.warm"),
        ("module", "<module>"),
    ]
    spec = language_for_id("typescript")
    assert spec is not None
    found = code_units(analyse(TYPESCRIPT.encode(), spec, AnalysisOptions()))
    load = next(u for u in found if u.name == "load")
    # The imports the unit uses come first; the one it does not use stays out.
    assert load.text.startswith('import { readFile } from "node:fs/promises";\nimport path')
    warm = next(u for u in found if u.name == "Cache.warm")
    assert "node:path" not in warm.text


def test_go_units_are_functions_methods_and_types():
    assert units(GO, "go") == [
        ("class", "Store"),
        ("method", "Store.Get"),
        ("function", "New"),
    ]
    spec = language_for_id("go")
    assert spec is not None
    found = code_units(analyse(GO.encode(), spec, AnalysisOptions()))
    get = next(u for u in found if u.name == "Store.Get")
    assert get.text.startswith('import str "strings"\n')
    assert get.name_span is not None and get.name_span.start_row == 13


def test_the_editor_cache_splits_units_from_glue():
    for language, text, expected_units in (("typescript", TYPESCRIPT, 4), ("go", GO, 2)):
        spec = language_for_id(language)
        assert spec is not None and spec.pieces is not None
        unit_pieces, glue = spec.pieces(
            analyse(text.encode(), spec, AnalysisOptions()).tree.root_node
        )
        assert len(unit_pieces) == expected_units, language
        assert glue, language


def test_typescript_types_and_signatures_are_units_of_the_editor_cache():
    """A file of interfaces and `declare`d classes (a `.d.ts`-style API) is many small units,
    not one piece of glue that every keystroke walks whole; code stays glue."""
    seed = Path(__file__).parent / "fixtures" / "properties" / "types.ts"
    source = seed.read_bytes()
    spec = language_for_path(seed)
    assert spec is not None and spec.pieces is not None
    unit_pieces, glue = spec.pieces(analyse(source, spec, AnalysisOptions()).tree.root_node)

    def first_lines(pieces: list) -> list[str]:
        return [source[p[0] : p[1]].decode().split("\n", 1)[0] for p in pieces]

    units_, glue_ = first_lines(unit_pieces), first_lines(glue)
    for declared in (
        "export interface Options {",
        "type Item = { id: string; tags: string[] };",
        "export enum Mode {",
        "export declare function report(item: Item): void;",
        "find(id: string): Item | undefined",
        "export function pick(items: Item[], id: string): Item;",
        "abstract load(path: string): Promise<string>",
    ):
        assert declared in units_, declared
    for code in (
        'import { readFile } from "node:fs/promises";',
        "declare const VERSION: string;",
        "items: Item[]",
        "export declare class Store {",
    ):
        assert code in glue_, code
