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


# A breadth-first walk that already drains a deque: it resembles the deque lesson more than any
# code does, and must never be told to use one (tests/test_model_lsp.py).
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

# A unit that a lesson fits and no rule speaks to: `check --related` and the editor's lens name
# the lesson; the code that made it apply is RELATED_INGREDIENT. Edits after RELATED_EDIT practise
# the lesson's skill.
RELATED = """\
def describe(prices):
    for name in prices.keys():
        print(f"{name}: {prices[name]:.2f}")


def area(width, height):
    return width * height
"""
RELATED_UNIT = "def describe(prices):"
RELATED_LESSON = "dict-iteration"
RELATED_INGREDIENT = "for name in prices.keys():"
RELATED_EDIT = 'print(f"{name}: {prices[name]:.2f}")'
RELATED_EDIT_TEXT = '\n        print(f"{name} is on sale")'
