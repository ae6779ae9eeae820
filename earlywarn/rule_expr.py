"""The condition language of rule files: restricted Python expressions in three-valued logic (pure).

A condition is parsed once with :mod:`ast`, vetted against a whitelist (boolean operators, comparisons,
arithmetic, constants, known names, ``in`` a constant tuple) and compiled into nested closures — never
``eval``. Closures rather than walking the tree at every call: a county check evaluates a few hundred
thousand conditions, and dispatching on node types each time cost seconds. ``None`` means "no data" and
spreads, except where it cannot change the result (``False and x`` is False, ``True or x`` is True); a
ratio over zero is no data too.
"""

from __future__ import annotations

import ast
import operator
from collections.abc import Callable, Mapping

Env = Mapping[str, object]
Condition = Callable[[Env], object]

_CMP = {ast.Eq: operator.eq, ast.NotEq: operator.ne, ast.Lt: operator.lt, ast.LtE: operator.le,
        ast.Gt: operator.gt, ast.GtE: operator.ge}
_ARITH = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv}
_FORBIDDEN_NAMES = {"Call": "函数调用", "Attribute": "属性访问（.）", "Subscript": "下标（[]）", "Lambda": "lambda",
                    "ListComp": "推导式", "SetComp": "推导式", "DictComp": "推导式", "GeneratorExp": "推导式",
                    "IfExp": "条件表达式（if … else）", "NamedExpr": "赋值（:=）", "Dict": "字典", "Set": "集合",
                    "JoinedStr": "f 字符串", "Starred": "星号展开", "Await": "await", "Yield": "yield",
                    "Mod": "取余（%）", "Pow": "乘方（**）", "FloorDiv": "整除（//）", "Is": "is", "IsNot": "is not"}


def _forbidden(node: ast.AST) -> str:
    if isinstance(node, ast.Constant):  # None above all: "no data" is what the three-valued logic is for
        return f"条件中不允许使用常量 {node.value!r}，只能用数字、True/False 和文字"
    name = type(node).__name__
    return f"条件中不允许使用{_FORBIDDEN_NAMES.get(name, name)}"


def _is_constant(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and type(node.value) in (int, float, bool, str)


def parse_condition(text: str, allowed: set[str]) -> tuple[ast.Expression, frozenset[str]]:
    """Parse and vet a condition; returns the tree and the names it uses. Raises ValueError (Chinese)."""
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except (SyntaxError, ValueError, RecursionError) as e:
        raise ValueError(f"条件无法解析：{text!r}（{getattr(e, 'msg', e)}）") from None
    names: set[str] = set()
    stack: list[ast.AST] = [tree.body]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.BoolOp):
            stack.extend(node.values)
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not | ast.USub | ast.UAdd):
            stack.append(node.operand)
        elif isinstance(node, ast.BinOp):
            if type(node.op) not in _ARITH:
                raise ValueError(_forbidden(node.op))
            stack += [node.left, node.right]
        elif isinstance(node, ast.Compare):
            stack.append(node.left)
            for op, right in zip(node.ops, node.comparators, strict=True):
                if isinstance(op, ast.In | ast.NotIn):
                    if not (isinstance(right, ast.Tuple | ast.List) and all(map(_is_constant, right.elts))):
                        raise ValueError("in / not in 的右边只能是常量组成的元组或列表，如 (1, 2)")
                elif type(op) in _CMP:
                    stack.append(right)
                else:
                    raise ValueError(_forbidden(op))
        elif isinstance(node, ast.Name):
            if node.id not in allowed:
                raise LookupError(node.id)
            names.add(node.id)
        elif not _is_constant(node):
            raise ValueError(_forbidden(node))
    return tree, frozenset(names)


def compile_condition(tree: ast.Expression, constants: Mapping[str, object] | None = None) -> Condition:
    """A vetted tree (from :func:`parse_condition`) as a closure over the features; names in ``constants``
    (a rule's parameters) are folded in, so evaluation reads the feature mapping directly."""
    return _compile(tree.body, dict(constants or {}))


def _compile(node: ast.AST, constants: dict[str, object]) -> Condition:
    if isinstance(node, ast.Constant):
        value = node.value
        return lambda env: value
    if isinstance(node, ast.Name):
        name = node.id
        if name in constants:
            value = constants[name]
            return lambda env: value
        return lambda env: env.get(name)
    if isinstance(node, ast.BoolOp):
        parts = [_compile(v, constants) for v in node.values]
        is_and = isinstance(node.op, ast.And)

        def bool_op(env: Env) -> object:
            missing = False
            for part in parts:
                v = part(env)
                if v is None:
                    missing = True
                elif bool(v) != is_and:
                    return not is_and
            return None if missing else is_and

        return bool_op
    if isinstance(node, ast.UnaryOp):
        operand = _compile(node.operand, constants)
        op = node.op
        if isinstance(op, ast.Not):
            return lambda env: None if (v := operand(env)) is None else not v
        if isinstance(op, ast.USub):
            return lambda env: None if (v := operand(env)) is None else -v
        return lambda env: None if (v := operand(env)) is None else +v
    if isinstance(node, ast.BinOp):
        left, right, fn = _compile(node.left, constants), _compile(node.right, constants), _ARITH[type(node.op)]
        is_div = isinstance(node.op, ast.Div)

        def bin_op(env: Env) -> object:
            a, b = left(env), right(env)
            if a is None or b is None or (is_div and b == 0):
                return None
            return fn(a, b)

        return bin_op
    assert isinstance(node, ast.Compare)
    first = _compile(node.left, constants)
    steps: list[tuple[bool, object, object]] = []  # (is_membership, test, right)
    for op, comp in zip(node.ops, node.comparators, strict=True):
        if isinstance(op, ast.In | ast.NotIn):
            members = tuple(e.value for e in comp.elts)
            steps.append((True, isinstance(op, ast.In), members))
        else:
            steps.append((False, _CMP[type(op)], _compile(comp, constants)))

    def compare(env: Env) -> object:
        left, missing = first(env), False
        for membership, test, right in steps:
            if membership:
                if left is None:
                    missing = True
                elif (left in right) != test:
                    return False
                continue
            value = right(env)
            if left is None or value is None:
                missing = True
            elif not test(left, value):
                return False
            left = value
        return None if missing else True

    return compare
