"""Rules where the collections module already has the container: deque and Counter."""

from __future__ import annotations

from lessonlens.analyzers.match import Match, span_of
from lessonlens.analyzers.model import Hit, Rule, Severity
from lessonlens.analyzers.parsing import Node
from lessonlens.analyzers.python import facts, hotness

# Containers with a cheap or meaningful front: a deque is already the answer, a bytearray or an
# array.array is a compact buffer that a deque would not replace.
_FRONT_FRIENDLY = frozenset({"deque", "bytearray", "array"})


def _constructor_name(value: Node, m: Match) -> str | None:
    if value.type != "call":
        return None
    function = value.child_by_field_name("function")
    if function is None or function.type not in ("identifier", "attribute"):
        return None
    return m.text(function).rsplit(".", 1)[-1]


def _front_friendly(m: Match, name: str, at: Node) -> bool:
    """Whether ``name`` is bound in scope to a deque, bytearray, array or instance of a class.

    ``facts.known_kind`` answers "unknown" for these, which for this rule is not the same as
    "maybe a list": a deque's ``insert(0, x)`` is already cheap.
    """
    encoded = name.encode()
    source = m.file.source
    node = facts.statement_of(at)
    while node.parent is not None and node.type not in facts.SCOPE_TYPES:
        sibling = node.prev_named_sibling
        while sibling is not None:
            assignment = sibling.named_children[0] if sibling.named_children else None
            if sibling.type == "expression_statement" and assignment is not None:
                left = assignment.child_by_field_name("left")
                if (
                    assignment.type == "assignment"
                    and left is not None
                    and source[left.start_byte : left.end_byte] == encoded
                ):
                    annotation = assignment.child_by_field_name("type")
                    value = assignment.child_by_field_name("right")
                    if annotation is not None and "deque" in m.text(annotation):
                        return True
                    constructor = _constructor_name(value, m) if value is not None else None
                    # Also a class of its own (`ET.Element("e")`, `Queue()`): its insert or
                    # pop is its own business, and a deque would not replace it.
                    return constructor is not None and (
                        constructor in _FRONT_FRIENDLY or constructor[:1].isupper()
                    )
            sibling = sibling.prev_named_sibling
        node = node.parent
    if node.type == "function_definition":
        parameters = node.child_by_field_name("parameters")
        for parameter in parameters.named_children if parameters is not None else ():
            annotation = parameter.child_by_field_name("type")
            if annotation is None:
                continue
            pname = parameter.child_by_field_name("name") or parameter.named_children[0]
            if source[pname.start_byte : pname.end_byte] == encoded:
                return any(kind in m.text(annotation) for kind in _FRONT_FRIENDLY)
    return False


_TARGET_CONTAINERS = frozenset({"pattern_list", "tuple_pattern", "list_pattern", "tuple", "list"})


def _targets(node: Node) -> list[Node]:
    """The identifiers an assignment or ``for`` target binds (through tuple and list targets)."""
    found: list[Node] = []
    stack = [node]
    while stack:
        current = stack.pop()
        if current.type == "identifier":
            found.append(current)
        elif current.type in _TARGET_CONTAINERS or current.type == "list_splat_pattern":
            stack.extend(current.named_children)
    return found


def _rebound_in_loop(loop: Node, name: bytes, source: bytes) -> bool:
    """Whether ``loop`` binds ``name`` afresh (its ``for`` target, or an assignment inside).

    Then each turn pops from a new, usually short, list, not from one queue that drains:
    ``s = line.split(); u = s.pop(0)`` or ``for parts in rows: parts.insert(0, x)``.
    """
    stack = [loop]
    while stack:
        node = stack.pop()
        left = None
        if node.type in ("assignment", "for_statement", "for_in_clause"):
            left = node.child_by_field_name("left")
        elif node.type == "named_expression":
            left = node.child_by_field_name("name")
        if left is not None and any(
            source[t.start_byte : t.end_byte] == name for t in _targets(left)
        ):
            return True
        if node.type not in facts.SCOPE_TYPES:
            stack.extend(node.named_children)
    return False


# Uses of a list that a deque does not serve: it has no sort, and indexing its middle is O(n).
_ORDERING_METHODS = frozenset({"sort", "reverse"})


def _base_name(node: Node) -> Node:
    """``self`` in ``self.queue``, ``buckets`` in ``buckets[k]``: the name an access starts at."""
    while node.type in ("attribute", "subscript"):
        inner = node.child_by_field_name("object" if node.type == "attribute" else "value")
        if inner is None:
            break
        node = inner
    return node


def _first_argument(call: Node) -> Node | None:
    arguments = call.child_by_field_name("arguments")
    values = [a for a in arguments.named_children if a.type != "comment"] if arguments else []
    return values[0] if values else None


def _sorts(m: Match, call: Node, receiver: str) -> bool:
    """``queue.sort()``, ``sorted(queue)``, ``heapq.heappush(queue, x)``, ``insort(queue, x)``."""
    function = call.child_by_field_name("function")
    if function is None:
        return False
    if function.type == "attribute":
        owner = function.child_by_field_name("object")
        method = function.child_by_field_name("attribute")
        if owner is not None and method is not None and m.text(owner) == receiver:
            return m.text(method) in _ORDERING_METHODS
        if not m.text(function).startswith(("heapq.", "bisect.")):
            return False
    elif m.text(function) not in ("sorted", "insort", "insort_left", "insort_right", "heappush"):
        return False
    first = _first_argument(call)
    return first is not None and m.text(first) == receiver


def _needs_a_list(m: Match, scope: Node, receiver: str) -> str | None:
    """How the function uses ``receiver`` beyond its two ends, if it does.

    Sorting it makes a priority queue (``heapq``'s lesson, not deque's: a deque has no sort);
    ``queue[i]`` with an index other than 0 or -1 reads the middle, which is O(n) on a deque.
    """
    stack = [scope]
    while stack:
        node = stack.pop()
        stack.extend(node.named_children)
        if node.type == "call" and _sorts(m, node, receiver):
            return "sorted"
        if node.type == "subscript":
            value = node.child_by_field_name("value")
            index = node.child_by_field_name("subscript")
            if value is None or index is None or m.text(value) != receiver:
                continue
            if m.text(index).replace(" ", "") not in ("0", "-1"):
                return "indexed"
    return None


def _index_moves(m: Match, receiver: Node, loops: list[Node]) -> bool:
    """Whether the loop rebinds a name the receiver's index reads (``rows[i]``)."""
    index = receiver.child_by_field_name("subscript")
    if index is None:
        return False
    names = facts.names_in(index, m.file.source)
    return any(
        _rebound_in_loop(loop, name.encode(), m.file.source) for loop in loops for name in names
    )


def _rotates(m: Match, call: Node, receiver: str, loop: Node) -> bool:
    """``x = items.pop(0)`` and later ``items.append(x)`` in the same turn: a rotation.

    The list keeps its length; it never drains. (``collections.deque.rotate`` exists, but a
    list rotated a handful of times, as in a permutation generator, is no hint's business.)
    """
    statement = facts.statement_of(call)
    assignment = statement.named_children[0] if statement.named_children else None
    if assignment is None or assignment.type != "assignment":
        return False
    left = assignment.child_by_field_name("left")
    if left is None or left.type != "identifier":
        return False
    appended = f"{receiver}.append({m.text(left)})"
    return appended in m.text(loop).replace(" ", "")


def _list_front(m: Match) -> Hit | None:
    call = m.node("finding")
    receiver_node = m.node("receiver")
    receiver = m.text(receiver_node)
    loops = hotness.loops_around(call)
    if not loops:
        return None
    # `fields = line.split(); fields.pop(0)` pops a new short list on every turn; likewise
    # `for row in rows: row.cells.pop(0)`: the loop rebinds what the receiver starts from.
    base = _base_name(receiver_node)
    if base.type != "identifier":
        return None
    if any(_rebound_in_loop(loop, m.text(base).encode(), m.file.source) for loop in loops):
        return None
    if not hotness.plausibly_hot(m, loops) or hotness.cold_code(m, call):
        return None
    # `tokens = cls.__module__.split(".")` or `expected = [(1,)]`: a handful of items that
    # nothing adds to. (A queue that starts as `[start]` and is extended is not small.)
    if (
        receiver_node.type == "identifier"
        and hotness.iterable_is_small(m, receiver_node, call)
        and not any(hotness.grows_in(m, loop, receiver, unless_small=True) for loop in loops)
    ):
        return None
    # `rows[i].insert(0, x)` in `for i in ...` reaches another list on every turn.
    if receiver_node.type == "subscript" and _index_moves(m, receiver_node, loops):
        return None
    # pop(0) on a dict removes key 0; a str has neither method. Unknown may well be a list.
    if facts.known_kind(m, receiver, call) not in (None, "list"):
        return None
    if receiver_node.type == "identifier" and _front_friendly(m, receiver, call):
        return None
    if _needs_a_list(m, facts.enclosing_scope(call), receiver) is not None:
        return None
    if _rotates(m, call, receiver, loops[0]) or hotness.ends_loop_after(call):
        return None  # a rotation, or one item put back as the loop ends
    if m.text(m.node("method")) == "pop":
        message = (
            f"`{receiver}.pop(0)` shifts every remaining item, so draining the list is "
            "quadratic; a `collections.deque` takes from the front in O(1) with `popleft()`."
        )
    else:
        message = (
            f"`{receiver}.insert(0, ...)` shifts every item, so filling the list is quadratic; "
            "a `collections.deque` adds to the front in O(1) with `appendleft()`."
        )
    return Hit(span_of(call), message=message)


def _statements(block: Node) -> list[Node]:
    return [child for child in block.named_children if child.type != "comment"]


def _manual_count(m: Match) -> Hit | None:
    finding = m.node("finding")
    # `words_map[word][next] += 1`: counts in dicts nested in another, often loaded from JSON;
    # a Counter would not simply replace them.
    if m.node("mapping").type == "subscript":
        return None
    mapping = m.text(m.node("mapping"))
    key = m.text(m.node("key"))
    for name in ("mapping_1", "mapping_2"):
        node = m.get(name)
        if node is not None and m.text(node) != mapping:
            return None
    for name in ("key_1", "key_2"):
        node = m.get(name)
        if node is not None and m.text(node) != key:
            return None
    if m.text(m.node("step")) != "1":
        return None
    # `options["index"] += 1` keeps one named tally in a settings dict; nothing to count.
    if facts.is_literal(m.node("key")):
        return None
    # Counting over a handful of literal items, an input() menu or in a test is not worth it.
    if not hotness.hot_loop_context(m, finding):
        return None
    start = m.text(m.node("start"))

    if finding.type == "assignment":
        # d[k] = d.get(k, 0) + 1: only a hint in a loop, where it really is counting.
        if start != "0":
            return None
        return Hit(span_of(finding))

    consequence = finding.child_by_field_name("consequence")
    if consequence is None or len(_statements(consequence)) != 1:
        return None
    condition = finding.child_by_field_name("condition")
    span = span_of(finding, condition)
    if m.get("increment") is not None:
        # if k not in d: d[k] = 0, then d[k] += 1.
        return Hit(span) if start == "0" else None
    if start != "1" or any(child.type == "elif_clause" for child in finding.named_children):
        return None
    otherwise = finding.child_by_field_name("alternative")
    body = otherwise.child_by_field_name("body") if otherwise is not None else None
    if body is None or len(_statements(body)) != 1:
        return None
    return Hit(span)


RULES = [
    Rule(
        id="PY005",
        name="list-pop-front",
        language="python",
        query="PY005.scm",
        message="Taking items from the front of a list in a loop; use a collections.deque.",
        skill_id="python.collections",
        lesson_id="deque-queue",
        severity=Severity.INFORMATION,
        check=_list_front,
        doc="""
## What it does
Flags `xs.pop(0)` and `xs.insert(0, x)` inside a plausibly hot `for` or `while` loop, on a
name, an attribute (`self.queue.pop(0)`) or an item (`buckets[k].pop(0)`).

It stays silent when `xs` is known to be a dict (where `pop(0)` removes the key `0`), a
string, a deque, a `bytearray` or an `array.array`; when the loop binds `xs` afresh on every
turn (`fields = line.split(); fields.pop(0)`); when the function sorts `xs` (a priority
queue, where `heapq` is the answer and a deque, which has no `sort`, is not) or reads its
middle (`xs[i]`, slow on a deque); in loops over a literal or a constant `range`; and in tests.

## Why is this bad?
A list keeps its items in one contiguous array. Removing or inserting at the front moves every
other item by one place, so a loop that drains or fills a list from the front is quadratic. A
`collections.deque` adds and removes at both ends in constant time.

## Example
```python
queue = [start]
while queue:
    node = queue.pop(0)
    queue.extend(node.children)
```

## Use instead
```python
from collections import deque

queue = deque([start])
while queue:
    node = queue.popleft()
    queue.extend(node.children)
```
A deque is slow to index in the middle; keep a list if the loop also reads `xs[i]` a lot.

## References
- https://docs.python.org/3/library/collections.html#collections.deque
- https://docs.python.org/3/tutorial/datastructures.html#using-lists-as-queues
- https://wiki.python.org/moin/TimeComplexity
""",
    ),
    Rule(
        id="PY009",
        name="manual-counting",
        language="python",
        query="PY009.scm",
        message="Counting by hand; collections.Counter or defaultdict(int) does this for you.",
        skill_id="python.collections",
        lesson_id="counter",
        quiet_in_tests=True,
        severity=Severity.INFORMATION,
        check=_manual_count,
        doc="""
## What it does
Flags the hand-written counting idioms on a dict:
`if k in d: d[k] += 1 else: d[k] = 1`, its mirror with `not in`,
`if k not in d: d[k] = 0` followed by `d[k] += 1`, and `d[k] = d.get(k, 0) + 1` in a loop.

It stays silent when the dict or the key differ between the branches, when the step is not 1,
when the starting value does not match the step (`d[k] = 0` in the `else` form), for counts
kept in a dict nested in another (`table[a][b] += 1`), outside plausibly hot loops (over a
literal, a constant `range`, an `input()` menu), and in tests.

## Why is this bad?
Three or four lines say what `Counter` says in one, and every key is hashed two or three times.
`Counter(iterable)` counts a whole iterable with a loop written in C; `defaultdict(int)` keeps
the per-item form without the membership test.

## Example
```python
counts = {}
for word in words:
    if word in counts:
        counts[word] += 1
    else:
        counts[word] = 1
```

## Use instead
```python
from collections import Counter

counts = Counter(words)
```
`Counter` is a dict subclass, but a missing key reads as 0 instead of raising `KeyError`.

## References
- https://docs.python.org/3/library/collections.html#collections.Counter
- https://docs.python.org/3/library/collections.html#collections.defaultdict
""",
    ),
]
