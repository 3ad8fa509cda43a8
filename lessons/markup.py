"""Active content in lesson Markdown: found for `lessons check`, neutralised for the editor.

Team lessons come from the repository's own config, so their Markdown is untrusted: an editor
that renders raw HTML or follows any link would run a `<script>`, an `onerror=` attribute or a
`javascript:`/`command:` link. Lessons are plain Markdown linking to documentation, so raw HTML
and links that are not http(s) are never needed.

What counts is decided by a CommonMark parser (markdown-it-py, the Python port of the parser
that VS Code uses) with link validation switched off, so that it sees every link a lenient client
would follow. `safe_markdown` rewrites by hand only what it must and then asks the parser again;
if anything is left it falls back to stronger escaping, and finally to showing the text as code.
"""

from __future__ import annotations

import functools
import html
import itertools
import re
from collections.abc import Callable, Iterator
from typing import Any

from markdown_it import MarkdownIt

_WEB = ("http://", "https://")
# Enough to show what is wrong; more would only cost time (a line is searched for each).
MAX_REPORTED = 20
_EVENT_ATTRIBUTE = re.compile(r"\bon[a-z]+\s*=", re.IGNORECASE)
# Each pattern can always match once it has started, so `finditer` never retries inside a
# match: linear in the text, whatever it holds.
_INLINE_DESTINATION = re.compile(r"\]\(\s*(?P<dest>[^\s)]*)")
_DEFINITION = re.compile(r"^(?P<indent> {0,3})\[(?P<label>[^\]\n]*)\]:[ \t]*(?P<dest>\S*)", re.M)
_FENCE_OPEN = re.compile(r" {0,3}(?P<fence>`{3,}|~{3,})(?P<info>[^\n]*)")
_FENCE_CLOSE = re.compile(r" {0,3}(?P<fence>`{3,}|~{3,})[ \t]*$")
_BACKSLASH = re.compile(r"\\(.)")


def _parser() -> MarkdownIt:
    parser = MarkdownIt("commonmark")
    # markdown-it itself refuses javascript:, vbscript:, file: and some data: links; other
    # clients do not, so see them all.
    parser.validateLink = lambda url: True  # type: ignore[method-assign]
    return parser


_PARSER = _parser()


def is_web_link(url: str) -> bool:
    return url.strip().lower().startswith(_WEB)


def active_content(markdown: str, limit: int = MAX_REPORTED) -> list[tuple[int, str]]:
    """(0-based line, what) of the first ``limit`` pieces of raw HTML and non-http(s) links."""
    return sorted(itertools.islice(_active(markdown), limit))


def _active(markdown: str) -> Iterator[tuple[int, str]]:
    lines = markdown.split("\n")
    env: dict[str, Any] = {}
    tokens = _PARSER.parse(markdown, env)
    # A definition counts even unused: another part of the same hover may use it.
    for reference in env.get("references", {}).values():
        url = str(reference.get("href", ""))
        if not is_web_link(url):
            yield _bad_link(lines, 0, len(lines), url)
    for token in tokens:
        first, last = token.map if token.map else (0, len(lines))
        if token.type == "html_block":
            yield first, _html_problem(token.content)
        for child in token.children or ():
            if child.type == "html_inline":
                line = _line_of(lines, first, last, child.content.split("\n")[0])
                yield line, _html_problem(child.content)
            elif child.type in ("link_open", "image"):
                url = str(child.attrs.get("href", child.attrs.get("src", "")))
                if not is_web_link(url):
                    yield _bad_link(lines, first, last, url)


def _bad_link(lines: list[str], first: int, last: int, url: str) -> tuple[int, str]:
    scheme = url.split(":", 1)[0] + ":" if ":" in url else url
    line = _line_of(lines, first, last, scheme)
    return line, f"link to '{scheme}' is not allowed: lessons link to http(s) only"


def _html_problem(content: str) -> str:
    snippet = " ".join(content.split())[:60]
    event = " with an on* event attribute" if _EVENT_ATTRIBUTE.search(content) else ""
    return f"raw HTML{event} is not allowed in a lesson (write Markdown): {snippet}"


def _line_of(lines: list[str], first: int, last: int, needle: str) -> int:
    """The line of an inline token (markdown-it maps only blocks to lines)."""
    needle = needle.lower()
    for number in range(first, min(last, len(lines))):
        if needle in lines[number].lower():
            return number
    return first


@functools.lru_cache(maxsize=64)  # a hover asks again for the same lesson
def safe_markdown(markdown: str) -> str:
    """The same Markdown without raw HTML and without links that are not http(s).

    Clean Markdown comes back unchanged. Otherwise raw HTML is escaped (shown as text) and
    each bad link keeps its text but stops being a link; code blocks are left alone.
    """
    if not active_content(markdown, limit=1):
        return markdown
    for fix in (_neutralise, _no_links):
        markdown = _outside_fences(markdown, fix)
        if not active_content(markdown, limit=1):
            return markdown
    fence = "`" * max(3, 1 + max((len(run) for run in re.findall("`+", markdown)), default=0))
    return f"{fence}text\n{markdown}\n{fence}\n"


def _neutralise(text: str) -> str:
    text = text.replace("<", "&lt;")  # every HTML tag and autolink starts with '<'

    def inline(match: re.Match[str]) -> str:
        return match[0] if _web(match["dest"]) else "]\\(" + match[0][2:]

    def definition(match: re.Match[str]) -> str:
        return match[0] if _web(match["dest"]) else match["indent"] + "\\" + match[0].lstrip()

    return _DEFINITION.sub(definition, _INLINE_DESTINATION.sub(inline, text))


def _web(destination: str) -> bool:
    """Whether a destination as written is an http(s) URL once the parser has decoded it."""
    decoded = _BACKSLASH.sub(r"\1", html.unescape(destination))
    return is_web_link(decoded.removeprefix("<"))


def _no_links(text: str) -> str:
    return text.replace("[", "\\[").replace("]", "\\]")


def _outside_fences(markdown: str, fix: Callable[[str], str]) -> str:
    """Apply ``fix`` to everything but fenced code blocks (their text is never rendered)."""
    out: list[str] = []
    chunk: list[str] = []
    fence = ""
    for line in markdown.splitlines(keepends=True):
        if fence:
            out.append(line)
            close = _FENCE_CLOSE.match(line)
            if close and close["fence"][0] == fence[0] and len(close["fence"]) >= len(fence):
                fence = ""
            continue
        opening = _FENCE_OPEN.match(line)
        if opening and not (opening["fence"][0] == "`" and "`" in opening["info"]):
            out.append(fix("".join(chunk)))
            chunk = []
            fence = opening["fence"]
            out.append(line)
        else:
            chunk.append(line)
    out.append(fix("".join(chunk)))
    return "".join(out)
