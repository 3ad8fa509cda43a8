"""Facts about a Go file that rules share, computed once per file: imports and their names."""

from __future__ import annotations

from lessonlens.analyzers.match import Match
from lessonlens.analyzers.parsing import Node


def imports(m: Match) -> dict[str, str]:
    """Each name an import binds -> the import path (``re "regexp"`` binds ``re``)."""
    found: dict[str, str] | None = m.file.facts.get("go.imports")
    if found is not None:
        return found
    found = {}
    for child in m.file.root.named_children:
        if child.type == "package_clause" or child.type == "comment":
            continue
        if child.type != "import_declaration":
            break
        stack: list[Node] = [child]
        while stack:
            node = stack.pop()
            if node.type != "import_spec":
                stack.extend(node.named_children)
                continue
            path_node = node.child_by_field_name("path")
            if path_node is None:
                continue
            path = m.text(path_node).strip('"`')
            alias = node.child_by_field_name("name")
            name = m.text(alias) if alias is not None else path.rsplit("/", 1)[-1]
            found[name] = path
    m.file.facts["go.imports"] = found
    return found


def imports_package(m: Match, name: str, path: str) -> bool:
    """Whether ``name`` in this file is the standard package ``path`` (not a local shadow)."""
    return imports(m).get(name) == path


_FUNCTIONS = frozenset({"function_declaration", "method_declaration", "func_literal"})
SMALL_LITERAL = 16
SMALL_BOUND = 1000


def enclosing_function(node: Node) -> Node | None:
    parent = node.parent
    while parent is not None:
        if parent.type in _FUNCTIONS:
            return parent
        parent = parent.parent
    return None


def enclosing_loop(node: Node) -> Node | None:
    """The innermost ``for`` whose body, condition or post statement holds ``node``.

    The search stops at a function: a ``func`` literal's body runs when called, not per
    iteration.
    """
    child, parent = node, node.parent
    while parent is not None:
        if parent.type == "for_clause" and child == parent.child_by_field_name("initializer"):
            child, parent = parent, parent.parent
            continue
        if parent.type == "for_statement" and child.type != "range_clause":
            return parent
        if parent.type in _FUNCTIONS:
            return None
        child, parent = parent, parent.parent
    return None


def range_clause(loop: Node) -> Node | None:
    return next((c for c in loop.named_children if c.type == "range_clause"), None)


def trivial_loop(m: Match, loop: Node) -> bool:
    """A range over a short composite literal, or counting to a small constant: not hot."""
    clause = range_clause(loop)
    if clause is not None:
        right = clause.child_by_field_name("right")
        if right is not None and right.type == "composite_literal":
            body = right.child_by_field_name("body")
            return body is not None and len(body.named_children) <= SMALL_LITERAL
        if right is not None and right.type == "int_literal":
            return _small_number(m, right)
        return False
    clause = next((c for c in loop.named_children if c.type == "for_clause"), None)
    condition = clause.child_by_field_name("condition") if clause is not None else None
    bound = condition.child_by_field_name("right") if condition is not None else None
    return bound is not None and bound.type == "int_literal" and _small_number(m, bound)


def _small_number(m: Match, node: Node) -> bool:
    try:
        return int(m.text(node).replace("_", ""), 0) <= SMALL_BOUND
    except ValueError:
        return False


def function_name(m: Match, function: Node) -> str:
    name = function.child_by_field_name("name")
    return m.text(name) if name is not None else ""


def cold(m: Match, node: Node) -> bool:
    """Test code, benchmarks and examples, ``init``: performance advice is noise there."""
    if m.file.test_code:
        return True
    function = enclosing_function(node)
    while function is not None and function.type == "func_literal":
        function = enclosing_function(function)
    if function is None:
        return False
    name = function_name(m, function)
    return name == "init" or name.startswith(("Benchmark", "Example", "Test", "Fuzz"))


def hot_loop(m: Match, node: Node) -> Node | None:
    """The loop that repeats ``node``, when it is plausibly hot; None otherwise."""
    loop = enclosing_loop(node)
    if loop is None or trivial_loop(m, loop) or cold(m, node):
        return None
    return loop


# Declared types, as far as one function (and the file's package-level `var`s) shows them.
# Types are compared as text with the blanks taken out (`[]string`, `map[string]int`); a name
# declared more than once with different or unknown types has no known type.

_STRING_SLICE_CALLS = frozenset(
    {"Split", "SplitN", "SplitAfter", "SplitAfterN", "Fields", "FieldsFunc"}
)
_STRING_CALLS = {
    "strings": frozenset(
        {"Join", "Repeat", "Replace", "ReplaceAll", "ToLower", "ToUpper", "TrimSpace", "Trim"}
    ),
    "strconv": frozenset({"Itoa", "FormatInt", "FormatUint", "FormatFloat", "Quote"}),
    "fmt": frozenset({"Sprintf", "Sprint", "Sprintln"}),
}
_ERROR_CALLS = {"errors": frozenset({"New"}), "fmt": frozenset({"Errorf"})}
_DECLARING_PARENTS = frozenset({"function_declaration", "method_declaration", "func_literal"})
# Declarations whose types this module does not work out: the field that holds their names.
_UNTYPED_DECLARATIONS = {
    "range_clause": "left",
    "type_switch_statement": "alias",
    "receive_statement": "left",
    "const_spec": "name",
}


def type_text(m: Match, node: Node) -> str:
    """A type's text without blanks: ``[] string`` and ``[]string`` compare equal."""
    return "".join(m.text(node).split())


def outermost_function(node: Node) -> Node | None:
    """The top-level function or method holding ``node`` (through any ``func`` literals)."""
    found = None
    parent = node.parent
    while parent is not None:
        if parent.type in _FUNCTIONS:
            found = parent
        parent = parent.parent
    return found


def expression_type(m: Match, node: Node) -> str | None:
    """The type of an expression when its own text shows it; None when unsure."""
    kind = node.type
    if kind == "composite_literal":
        literal_type = node.child_by_field_name("type")
        return type_text(m, literal_type) if literal_type is not None else None
    if kind == "type_conversion_expression":
        converted = node.child_by_field_name("type")
        return type_text(m, converted) if converted is not None else None
    if kind in ("interpreted_string_literal", "raw_string_literal"):
        return "string"
    if kind == "unary_expression":
        operand = node.child_by_field_name("operand")
        if m.text(node).startswith("&") and operand is not None:
            inner = expression_type(m, operand) if operand.type == "composite_literal" else None
            return "*" + inner if inner is not None else None
        return None
    if kind != "call_expression":
        return None
    function = node.child_by_field_name("function")
    arguments = node.child_by_field_name("arguments")
    if function is None or arguments is None:
        return None
    if function.type == "identifier":
        first = arguments.named_children[0] if arguments.named_children else None
        if m.text(function) in ("make", "new") and first is not None and first.is_named:
            made = type_text(m, first)
            return made if m.text(function) == "make" else "*" + made
        return None
    if function.type != "selector_expression":
        return None
    package = function.child_by_field_name("operand")
    field = function.child_by_field_name("field")
    if package is None or field is None or package.type != "identifier":
        return None
    name, called = m.text(package), m.text(field)
    if name == "strings" and called in _STRING_SLICE_CALLS:
        return "[]string" if imports_package(m, "strings", "strings") else None
    for table, result in ((_STRING_CALLS, "string"), (_ERROR_CALLS, "error")):
        if called in table.get(name, ()) and imports_package(m, name, name):
            return result
    return None


def _declared(m: Match, node: Node, found: dict[str, list[str | None]]) -> None:
    """Record the names ``node`` declares (if it is a declaration) with their types."""
    kind = node.type
    if kind in ("parameter_declaration", "variadic_parameter_declaration"):
        owner = node.parent.parent if node.parent is not None else None
        if owner is None or owner.type not in _DECLARING_PARENTS:
            return  # a function type's or an interface method's parameters declare nothing
        declared = node.child_by_field_name("type")
        parameter = type_text(m, declared) if declared is not None else None
        if parameter is not None and kind == "variadic_parameter_declaration":
            parameter = "[]" + parameter
        for name in node.children_by_field_name("name"):
            found.setdefault(m.text(name), []).append(parameter)
    elif kind == "var_spec":
        declared = node.child_by_field_name("type")
        value = node.child_by_field_name("value")
        names = node.children_by_field_name("name")
        values = value.named_children if value is not None else []
        for index, name in enumerate(names):
            if declared is not None:
                text: str | None = type_text(m, declared)
            elif len(values) == len(names):
                text = expression_type(m, values[index])
            else:
                text = None
            found.setdefault(m.text(name), []).append(text)
    elif kind == "short_var_declaration":
        left = node.child_by_field_name("left")
        right = node.child_by_field_name("right")
        names = left.named_children if left is not None else []
        values = right.named_children if right is not None else []
        for index, name in enumerate(names):
            if name.type != "identifier":
                continue
            same = len(values) == len(names)
            text = expression_type(m, values[index]) if same else None
            found.setdefault(m.text(name), []).append(text)
    else:
        holder_field = _UNTYPED_DECLARATIONS.get(kind)
        if holder_field is None:
            return
        if kind == "const_spec":
            names = node.children_by_field_name("name")
        else:
            holder = node.child_by_field_name(holder_field)
            names = holder.named_children if holder is not None else []
        for name in names:
            if name.type == "identifier":
                found.setdefault(m.text(name), []).append(None)


def _declarations(m: Match, scope: Node) -> dict[str, list[str | None]]:
    key = f"go.declarations.{scope.id}"
    cached: dict[str, list[str | None]] | None = m.file.facts.get(key)
    if cached is not None:
        return cached
    found: dict[str, list[str | None]] = {}
    stack = [scope]
    while stack:
        node = stack.pop()
        _declared(m, node, found)
        if node.type == "source_file":
            # Package level: only the `var` declarations, not the functions' bodies.
            stack.extend(c for c in node.named_children if c.type == "var_declaration")
        else:
            stack.extend(node.named_children)
    m.file.facts[key] = found
    return found


def declared_type(m: Match, name: str, at: Node) -> str | None:
    """The type of ``name`` where ``at`` uses it, from its declarations; None when unknown.

    Every declaration of the name in the top-level function around ``at`` counts (shadowing
    is not resolved: two declarations must agree); a name the function never declares is
    looked up among the file's package-level ``var``s.
    """
    function = outermost_function(at)
    local = _declarations(m, function).get(name) if function is not None else None
    types = local if local else _declarations(m, m.file.root).get(name)
    if not types or any(t is None for t in types) or len(set(types)) != 1:
        return None
    return types[0]


def declared_in_function(m: Match, name: str, at: Node) -> bool:
    """Whether the top-level function around ``at`` declares ``name`` anywhere."""
    function = outermost_function(at)
    return function is not None and name in _declarations(m, function)


def package_var_value(m: Match, name: str) -> Node | None:
    """The value a package-level ``var name = value`` in this file gives, if exactly one."""
    values: list[Node] = []
    for declaration in m.file.root.named_children:
        if declaration.type != "var_declaration":
            continue
        stack = list(declaration.named_children)
        while stack:
            spec = stack.pop()
            if spec.type == "var_spec_list":
                stack.extend(spec.named_children)
                continue
            if spec.type != "var_spec":
                continue
            names = [m.text(n) for n in spec.children_by_field_name("name")]
            value = spec.child_by_field_name("value")
            if name in names and value is not None and len(value.named_children) == len(names):
                values.append(value.named_children[names.index(name)])
    return values[0] if len(values) == 1 else None


def descendants(node: Node, *, into_functions: bool = True) -> list[Node]:
    """Every named node under ``node`` (not ``node`` itself), depth first.

    With ``into_functions=False`` the walk does not enter ``func`` literals.
    """
    found: list[Node] = []
    stack = list(reversed(node.named_children))
    while stack:
        current = stack.pop()
        found.append(current)
        if into_functions or current.type != "func_literal":
            stack.extend(reversed(current.named_children))
    return found


def inside(node: Node, kinds: frozenset[str] | set[str], stop: Node) -> bool:
    """Whether an ancestor of ``node`` below ``stop`` has one of the ``kinds``."""
    parent = node.parent
    while parent is not None and parent.id != stop.id:
        if parent.type in kinds:
            return True
        parent = parent.parent
    return False
