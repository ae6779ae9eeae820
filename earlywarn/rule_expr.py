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

import numpy as np

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


# ----------------------------------------------------------------------------- vectorised evaluation
#
# The same conditions over whole columns at once (numpy), for checks of thousands of subjects: a column is
# (values as float64, missing mask). Semantics match the closures above exactly — a property test holds
# the two together.

Column = tuple[np.ndarray, np.ndarray]
VectorCondition = Callable[[Mapping[str, Column], int], Column]


def compile_vector(tree: ast.Expression, constants: Mapping[str, object] | None = None) -> VectorCondition:
    fn = _vec(tree.body, dict(constants or {}))

    def condition(cols: Mapping[str, Column], n: int) -> Column:
        values, missing = fn(cols, n)
        return (values != 0) & ~missing, missing

    return condition


def _truth(col: Column) -> tuple[np.ndarray, np.ndarray]:
    values, missing = col
    return (values != 0) & ~missing, ~(values != 0) & ~missing  # (known true, known false)


def _vec(node: ast.AST, constants: dict[str, object]) -> Callable[[Mapping[str, Column], int], Column]:
    if isinstance(node, ast.Constant) or (isinstance(node, ast.Name) and node.id in constants):
        value = node.value if isinstance(node, ast.Constant) else constants[node.id]
        number = float(value) if isinstance(value, bool | int | float) else np.nan
        return lambda cols, n: (np.full(n, number), np.zeros(n, dtype=bool))
    if isinstance(node, ast.Name):
        name = node.id
        return lambda cols, n: cols[name] if name in cols else (np.zeros(n), np.ones(n, dtype=bool))
    if isinstance(node, ast.BoolOp):
        parts = [_vec(v, constants) for v in node.values]
        is_and = isinstance(node.op, ast.And)

        def bool_op(cols, n):
            truths = [_truth(p(cols, n)) for p in parts]
            if is_and:
                decided_false = np.logical_or.reduce([f for _, f in truths])
                all_true = np.logical_and.reduce([t for t, _ in truths])
                return all_true.astype(float), ~decided_false & ~all_true
            decided_true = np.logical_or.reduce([t for t, _ in truths])
            all_false = np.logical_and.reduce([f for _, f in truths])
            return decided_true.astype(float), ~decided_true & ~all_false

        return bool_op
    if isinstance(node, ast.UnaryOp):
        operand = _vec(node.operand, constants)
        if isinstance(node.op, ast.Not):
            def not_op(cols, n):
                values, missing = operand(cols, n)
                return (values == 0).astype(float), missing
            return not_op
        sign = -1.0 if isinstance(node.op, ast.USub) else 1.0
        return lambda cols, n: (lambda c: (sign * c[0], c[1]))(operand(cols, n))
    if isinstance(node, ast.BinOp):
        left, right, fn = _vec(node.left, constants), _vec(node.right, constants), _ARITH[type(node.op)]
        is_div = isinstance(node.op, ast.Div)

        def bin_op(cols, n):
            (a, ma), (b, mb) = left(cols, n), right(cols, n)
            missing = ma | mb | ((b == 0) if is_div else False)
            # A quotient past the float range is inf, as Python's own division gives it on the scalar path.
            with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
                values = fn(a, np.where(missing, 1.0, b) if is_div else b)
            return np.where(missing, 0.0, values), missing

        return bin_op
    assert isinstance(node, ast.Compare)
    first = _vec(node.left, constants)
    steps = []
    for op, comp in zip(node.ops, node.comparators, strict=True):
        if isinstance(op, ast.In | ast.NotIn):
            members = np.array([float(e.value) for e in comp.elts if isinstance(e.value, bool | int | float)])
            steps.append((True, isinstance(op, ast.In), members))
        else:
            steps.append((False, _CMP[type(op)], _vec(comp, constants)))

    def compare(cols, n):
        left, left_missing = first(cols, n)
        false_any = np.zeros(n, dtype=bool)
        missing_any = np.zeros(n, dtype=bool)
        for membership, test, right in steps:
            if membership:
                inside = np.isin(left, right)
                false_any |= ~left_missing & (inside != test)
                missing_any |= left_missing
                continue
            value, value_missing = right(cols, n)
            step_missing = left_missing | value_missing
            false_any |= ~step_missing & ~test(left, value)
            missing_any |= step_missing
            left, left_missing = value, value_missing
        return (~false_any & ~missing_any).astype(float), ~false_any & missing_any

    return compare
