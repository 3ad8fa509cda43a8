"""Where a Go name is declared, and its type when the code says it for certain.

Types are read only from the function that uses a name (its parameters, ``var`` and ``:=``
declarations, ``range`` and ``for`` clauses, the functions around a ``func`` literal) and from
the file's package-level ``var`` and ``const`` declarations: a ``[]T`` parameter, ``make``, a
literal, a conversion, a call into the standard library whose result type is fixed. Anything
else (a field, a method's result, another file's function) is unknown, and a rule that needs
the type stays silent.
"""

from __future__ import annotations

from dataclasses import dataclass

from lessonlens.analyzers.go import facts
from lessonlens.analyzers.match import Match
from lessonlens.analyzers.parsing import Node

FUNCTIONS = frozenset({"function_declaration", "method_declaration", "func_literal"})
MAX_DEPTH = 8


@dataclass(frozen=True)
class Declaration:
    """One declaration of a name: the declaring node and what it says about the type.

    ``kind``: ``param``, ``var``, ``const``, ``short`` (``:=``), ``range`` or ``other`` (a
    type-switch alias, a ``select`` receive: nothing known). ``type``: a declared type node;
    ``value``: the expression assigned to this name alone; ``call``, ``index``: the one call
    on the right of ``a, b := f()`` and the name's position on the left. ``package``: declared
    at package level.
    """

    kind: str
    node: Node
    type: Node | None = None
    value: Node | None = None
    call: Node | None = None
    index: int = 0
    package: bool = False
    variadic: bool = False
    range_of: Node | None = None


def _names(node: Node | None) -> list[Node]:
    if node is None:
        return []
    if node.type == "identifier":
        return [node]
    return [c for c in node.named_children if c.type == "identifier"]


def _values(node: Node | None) -> list[Node]:
    if node is None:
        return []
    if node.type == "expression_list":
        return [c for c in node.named_children if c.type != "comment"]
    return [node]


def _assigned(
    kind: str, node: Node, names: list[Node], values: list[Node], m: Match, name: str
) -> Declaration | None:
    for index, ident in enumerate(names):
        if m.text(ident) != name:
            continue
        if len(values) == len(names):
            return Declaration(kind, node, value=values[index], index=index)
        if len(values) == 1 and values[0].type == "call_expression":
            return Declaration(kind, node, call=values[0], index=index)
        return Declaration(kind, node, index=index)
    return None


def _spec(m: Match, spec: Node, name: str, kind: str) -> Declaration | None:
    names = spec.children_by_field_name("name")
    found = _assigned(kind, spec, names, _values(spec.child_by_field_name("value")), m, name)
    if found is None:
        return None
    kind_node = spec.child_by_field_name("type")
    return Declaration(
        found.kind, spec, kind_node, found.value, found.call, found.index, range_of=None
    )


def declares(m: Match, statement: Node, name: str) -> Declaration | None:
    """The declaration of ``name`` that ``statement`` (one statement of a block) makes."""
    kind = statement.type
    if kind == "short_var_declaration":
        names = _names(statement.child_by_field_name("left"))
        values = _values(statement.child_by_field_name("right"))
        return _assigned("short", statement, names, values, m, name)
    if kind in ("var_declaration", "const_declaration"):
        spec_type = "var_spec" if kind == "var_declaration" else "const_spec"
        label = "var" if kind == "var_declaration" else "const"
        stack = list(statement.named_children)
        while stack:
            child = stack.pop(0)
            if child.type == spec_type:
                found = _spec(m, child, name, label)
                if found is not None:
                    return found
            elif child.type.endswith("_spec_list"):
                stack.extend(child.named_children)
    return None


def _parameters(m: Match, function: Node, name: str) -> Declaration | None:
    for field in ("receiver", "parameters", "result"):
        params = function.child_by_field_name(field)
        if params is None or params.type != "parameter_list":
            continue
        for param in params.named_children:
            if param.type not in ("parameter_declaration", "variadic_parameter_declaration"):
                continue
            if any(m.text(n) == name for n in param.children_by_field_name("name")):
                variadic = param.type == "variadic_parameter_declaration"
                return Declaration(
                    "param", param, param.child_by_field_name("type"), variadic=variadic
                )
    return None


def _defines(clause: Node) -> bool:
    return any(not c.is_named and c.type == ":=" for c in clause.children)


def _in(node: Node, outer: Node | None) -> bool:
    return outer is not None and outer.start_byte <= node.start_byte < outer.end_byte


def resolve(m: Match, at: Node, name: str | None = None) -> Declaration | None:
    """The declaration of ``name`` (by default the identifier ``at``) visible at ``at``.

    Block by block outwards, then the function's parameters (through ``func`` literals to the
    functions around them), then the file's package-level ``var``/``const``. ``None`` when
    nothing in the file declares it (another file of the package, an import, a builtin).
    """
    name = m.text(at) if name is None else name
    child, node = at, at.parent
    while node is not None:
        kind = node.type
        if kind == "statement_list":
            for statement in reversed(node.named_children):
                if statement.start_byte >= child.start_byte:
                    continue
                found = declares(m, statement, name)
                if found is not None:
                    return found
        elif kind in ("if_statement", "expression_switch_statement", "type_switch_statement"):
            init = node.child_by_field_name("initializer")
            if init is not None and child != init:
                found = declares(m, init, name)
                if found is not None:
                    return found
            in_case = child.type in ("type_case", "default_case")
            alias = _names(node.child_by_field_name("alias")) if in_case else []
            if any(m.text(n) == name for n in alias):
                return Declaration("other", node)
        elif kind == "for_statement":
            found = _loop_declares(m, node, child, at, name)
            if found is not None:
                return found
        elif kind == "communication_case":
            receive = node.child_by_field_name("communication")
            if (
                receive is not None
                and child != receive
                and receive.type == "receive_statement"
                and _defines(receive)
                and any(m.text(n) == name for n in _names(receive.child_by_field_name("left")))
            ):
                return Declaration("other", receive)
        elif kind in FUNCTIONS:
            found = _parameters(m, node, name)
            if found is not None:
                return found
            if kind != "func_literal":
                break
        child, node = node, node.parent
    return package_declaration(m, name)


def _loop_declares(m: Match, loop: Node, child: Node, at: Node, name: str) -> Declaration | None:
    for clause in loop.named_children:
        if clause.type == "range_clause" and child != clause and _defines(clause):
            names = _names(clause.child_by_field_name("left"))
            for index, ident in enumerate(names):
                if m.text(ident) == name:
                    return Declaration(
                        "range", clause, index=index, range_of=clause.child_by_field_name("right")
                    )
        if clause.type == "for_clause":
            init = clause.child_by_field_name("initializer")
            if init is not None and not _in(at, init):
                found = declares(m, init, name)
                if found is not None:
                    return found
    return None


def package_declaration(m: Match, name: str) -> Declaration | None:
    """The file's package-level ``var`` or ``const`` declaring ``name``."""
    table: dict[str, Declaration | None] | None = m.file.facts.get("go.declared.package")
    if table is None:
        table = {}
        m.file.facts["go.declared.package"] = table
    if name in table:
        return table[name]
    found = None
    for child in m.file.root.named_children:
        if child.type in ("var_declaration", "const_declaration"):
            found = declares(m, child, name)
            if found is not None:
                found = Declaration(
                    found.kind,
                    found.node,
                    found.type,
                    found.value,
                    found.call,
                    found.index,
                    package=True,
                )
                break
    table[name] = found
    return found


def declared_in_function(m: Match, function: Node, name: str) -> bool:
    """Whether anything in ``function`` (nested literals too) declares ``name``."""
    stack = [function]
    while stack:
        node = stack.pop()
        kind = node.type
        if kind in ("short_var_declaration", "var_declaration", "const_declaration"):
            if declares(m, node, name) is not None:
                return True
        elif kind == "range_clause" and _defines(node):
            if any(m.text(n) == name for n in _names(node.child_by_field_name("left"))):
                return True
        elif kind in FUNCTIONS and _parameters(m, node, name) is not None:
            return True
        stack.extend(node.named_children)
    return False


# ------------------------------------------------------------------------------ types

_STRING_FUNCTIONS = {
    "strings": {
        "Join",
        "Repeat",
        "Replace",
        "ReplaceAll",
        "ToLower",
        "ToUpper",
        "ToTitle",
        "Title",
        "TrimSpace",
        "Trim",
        "TrimLeft",
        "TrimRight",
        "TrimPrefix",
        "TrimSuffix",
        "TrimFunc",
        "Map",
        "ToValidUTF8",
    },
    "fmt": {"Sprint", "Sprintf", "Sprintln"},
    "strconv": {
        "Itoa",
        "FormatInt",
        "FormatUint",
        "FormatFloat",
        "FormatBool",
        "Quote",
        "QuoteToASCII",
    },
    "path": {"Join", "Base", "Dir", "Ext", "Clean"},
    "path/filepath": {"Join", "Base", "Dir", "Ext", "Clean", "ToSlash", "FromSlash"},
    "os": {"Getenv"},
}
_RESULTS: dict[tuple[str, str], tuple[str, ...]] = {
    ("strings", "Split"): ("[]string",),
    ("strings", "SplitN"): ("[]string",),
    ("strings", "SplitAfter"): ("[]string",),
    ("strings", "Fields"): ("[]string",),
    ("strings", "FieldsFunc"): ("[]string",),
    ("strings", "Index"): ("int",),
    ("strings", "Count"): ("int",),
    ("strings", "Cut"): ("string", "string", "bool"),
    ("strconv", "Atoi"): ("int", "error"),
    ("strconv", "ParseInt"): ("int64", "error"),
    ("strconv", "ParseBool"): ("bool", "error"),
    ("strconv", "Unquote"): ("string", "error"),
    ("os", "ReadFile"): ("[]byte", "error"),
    ("os", "ReadDir"): ("[]os.DirEntry", "error"),
    ("os", "Getwd"): ("string", "error"),
    ("os", "LookupEnv"): ("string", "bool"),
    ("io", "ReadAll"): ("[]byte", "error"),
    ("path/filepath", "Glob"): ("[]string", "error"),
    ("path/filepath", "Abs"): ("string", "error"),
    ("path/filepath", "Rel"): ("string", "error"),
}
for _path, _functions in _STRING_FUNCTIONS.items():
    for _function in _functions:
        _RESULTS[(_path, _function)] = ("string",)
_ARITHMETIC = frozenset({"+", "-", "*", "/", "%", "&", "|", "^", "&^"})
_BUILTIN_LENGTH = frozenset({"len", "cap", "copy"})
_BASIC = frozenset(
    {
        "string",
        "int",
        "int8",
        "int16",
        "int32",
        "int64",
        "uint",
        "uint8",
        "uint16",
        "uint32",
        "uint64",
        "byte",
        "rune",
        "bool",
        "float32",
        "float64",
    }
)


def type_text(m: Match, node: Node | None) -> str | None:
    """A type node's text without spaces (``[]string``, ``map[string]int``)."""
    if node is None:
        return None
    return "".join(m.text(node).split())


def std_call(m: Match, call: Node) -> tuple[str, str] | None:
    """``(import path, function)`` when ``call`` calls a function of an imported package."""
    function = call.child_by_field_name("function")
    if function is None or function.type != "selector_expression":
        return None
    operand = function.child_by_field_name("operand")
    field = function.child_by_field_name("field")
    if operand is None or field is None or operand.type != "identifier":
        return None
    path = facts.imports(m).get(m.text(operand))
    if path is None or resolve(m, operand) is not None:
        return None
    return path, m.text(field)


def results(m: Match, call: Node) -> tuple[str, ...] | None:
    """The result types of a call whose results are certain (builtins, the standard library)."""
    function = call.child_by_field_name("function")
    if function is None:
        return None
    if function.type == "identifier":
        name = m.text(function)
        if resolve(m, function) is not None:
            return None
        arguments = call.child_by_field_name("arguments")
        first = arguments.named_children[0] if arguments and arguments.named_children else None
        if name in _BUILTIN_LENGTH:
            return ("int",)
        if name == "make" and first is not None:
            return (type_text(m, first) or "",)
        if name in _BASIC:
            return (name,)
        if name == "append" and first is not None:
            found = expression_type(m, first)
            return (found,) if found else None
        return None
    target = std_call(m, call)
    return _RESULTS.get(target) if target is not None else None


def expression_type(m: Match, node: Node, depth: int = 0) -> str | None:
    """The certain type of an expression, or ``None``."""
    if depth > MAX_DEPTH:
        return None
    kind = node.type
    if kind in ("interpreted_string_literal", "raw_string_literal"):
        return "string"
    if kind == "int_literal":
        return "int"
    if kind == "float_literal":
        return "float64"
    if kind in ("true", "false"):
        return "bool"
    if kind == "parenthesized_expression" and node.named_children:
        return expression_type(m, node.named_children[0], depth + 1)
    if kind == "composite_literal":
        literal_type = node.child_by_field_name("type")
        if literal_type is not None and literal_type.type in (
            "slice_type",
            "array_type",
            "implicit_length_array_type",
            "map_type",
        ):
            return type_text(m, literal_type)
        return None
    if kind == "type_conversion_expression":
        return type_text(m, node.child_by_field_name("type"))
    if kind == "call_expression":
        found = results(m, node)
        return found[0] if found and len(found) == 1 else None
    if kind == "binary_expression":
        operator = node.child_by_field_name("operator")
        op = m.text(operator) if operator is not None else ""
        if op in ("==", "!=", "<", "<=", ">", ">=", "&&", "||"):
            return "bool"
        left = node.child_by_field_name("left")
        right = node.child_by_field_name("right")
        if left is None or right is None or op not in _ARITHMETIC:
            return None
        left_type = expression_type(m, left, depth + 1)
        right_type = expression_type(m, right, depth + 1)
        if op == "+" and "string" in (left_type, right_type):
            return "string"
        # An untyped constant takes the other side's type: `n + 1` is `n`'s.
        if left.type == "int_literal":
            return right_type
        if right.type == "int_literal":
            return left_type
        return left_type if left_type == right_type else None
    if kind == "unary_expression":
        operator = node.child_by_field_name("operator")
        if operator is not None and m.text(operator) == "!":
            return "bool"
        return None
    if kind == "identifier":
        declaration = resolve(m, node)
        return declared_type(m, declaration, depth + 1) if declaration is not None else None
    return None


def declared_type(m: Match, declaration: Declaration, depth: int = 0) -> str | None:
    """The certain type a declaration gives its name, or ``None``."""
    if depth > MAX_DEPTH:
        return None
    if declaration.kind == "param":
        found = type_text(m, declaration.type)
        return f"[]{found}" if found and declaration.variadic else found
    if declaration.kind in ("var", "const", "short"):
        if declaration.type is not None:
            return type_text(m, declaration.type)
        if declaration.value is not None:
            return expression_type(m, declaration.value, depth + 1)
        if declaration.call is not None:
            types = results(m, declaration.call)
            if types is not None and declaration.index < len(types):
                return types[declaration.index]
        return None
    if declaration.kind == "range" and declaration.range_of is not None:
        ranged = expression_type(m, declaration.range_of, depth + 1)
        return _range_type(ranged, declaration.index)
    return None


def _range_type(ranged: str | None, index: int) -> str | None:
    if ranged is None:
        return None
    if ranged == "string":
        return ("int", "rune")[index] if index < 2 else None
    if ranged.startswith("[]"):
        return ("int", ranged[2:])[index] if index < 2 else None
    if ranged.startswith("[") and "]" in ranged:
        return ("int", ranged.split("]", 1)[1])[index] if index < 2 else None
    if ranged.startswith("map["):
        key, value = _map_parts(ranged)
        return (key, value)[index] if index < 2 and key else None
    return None


def _map_parts(text: str) -> tuple[str | None, str | None]:
    depth = 0
    for position in range(3, len(text)):
        if text[position] == "[":
            depth += 1
        elif text[position] == "]":
            depth -= 1
            if depth == 0:
                return text[4:position], text[position + 1 :]
    return None, None


def collection(kind: str | None) -> bool:
    """Whether a type is certainly a slice, an array or a map (``len`` is its item count)."""
    return kind is not None and (kind.startswith("[") or kind.startswith("map["))


def constant_string(m: Match, node: Node, depth: int = 0) -> bool:
    """A string literal, a ``const`` holding one, or ``+`` of such."""
    if depth > MAX_DEPTH:
        return False
    kind = node.type
    if kind in ("interpreted_string_literal", "raw_string_literal"):
        return True
    if kind == "parenthesized_expression" and node.named_children:
        return constant_string(m, node.named_children[0], depth + 1)
    if kind == "binary_expression":
        operator = node.child_by_field_name("operator")
        left = node.child_by_field_name("left")
        right = node.child_by_field_name("right")
        return (
            operator is not None
            and m.text(operator) == "+"
            and left is not None
            and right is not None
            and constant_string(m, left, depth + 1)
            and constant_string(m, right, depth + 1)
        )
    if kind == "identifier":
        declaration = resolve(m, node)
        return (
            declaration is not None
            and declaration.kind == "const"
            and declaration.value is not None
            and constant_string(m, declaration.value, depth + 1)
        )
    return False
