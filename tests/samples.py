"""Small sources shared by the CLI tests, each with one known finding."""

# PY001 fires on line 4, column 12 (the `w in [...]` comparison).
MEMBERSHIP = """\
def count_stop_words(words):
    n = 0
    for w in words:
        if w in ["a", "an", "the", "of"]:
            n += 1
    return n
"""
# PY002 fires on line 4, column 9 (the assignment: `text + a + b` copies `text` every turn).
CONCAT = """\
def render(rows):
    text = ""
    for row in rows:
        text = text + str(row) + "\\n"
    return text
"""


# A breadth-first walk: the deque lesson's situation, and no rule fires in it. The model relates
# it to that lesson (tests/test_model.py, tests/test_model_lsp.py).
WALKER = """\
from collections import deque


def walk(graph, start):
    seen = {start}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        yield node
        for nxt in graph[node]:
            if nxt not in seen:
                seen.add(nxt)
                queue.append(nxt)


def area(width, height):
    return width * height
"""
