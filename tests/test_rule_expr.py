"""The vectorised evaluator agrees with the scalar one on every shipped rule and on hand-made conditions."""

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from earlywarn.check_features import FEATURES
from earlywarn.rule_expr import compile_condition, compile_vector, parse_condition
from earlywarn.rules import load_rules

RULES = load_rules(Path(__file__).resolve().parents[1] / "rules")
VALUE = st.one_of(st.none(), st.booleans(), st.integers(-5, 200_000), st.floats(-2, 2, allow_nan=False))


def _columns(rows: list[dict], names) -> dict:
    cols = {}
    for name in names:
        values = [row.get(name) for row in rows]
        cols[name] = (np.array([0.0 if v is None else float(v) for v in values]),
                      np.array([v is None for v in values]))
    return cols


def _vector_verdicts(rule_or_fn, rows, names, n):
    fired, missing = rule_or_fn(_columns(rows, names), n)
    return [None if m else bool(f) for f, m in zip(fired, missing, strict=True)]


@pytest.mark.parametrize("subject", list(FEATURES))
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_every_shipped_rule_agrees_with_its_scalar_form(subject, data):
    names = list(FEATURES[subject])
    rows = data.draw(st.lists(st.fixed_dictionaries({n: VALUE for n in names}), min_size=1, max_size=8))
    for rule in RULES.for_subject(subject):
        scalar = [rule.evaluate(row) for row in rows]
        fired, missing = rule.evaluate_columns(_columns(rows, names), len(rows))
        vector = [None if m else bool(f) for f, m in zip(fired, missing, strict=True)]
        assert vector == scalar, (rule.id, rows)


CONDITIONS = ["a and b", "a or b", "not a", "a > 1 and (b < 2 or c == 0)", "a / b > 0.5", "-a < b",
              "a in (1, 2, 3)", "a not in (0,)", "0 < a < b", "a + b * c >= 10", "a - b != c", "not (a or b)"]


@pytest.mark.parametrize("text", CONDITIONS)
@settings(max_examples=80, deadline=None)
@given(rows=st.lists(st.fixed_dictionaries({n: VALUE for n in "abc"}), min_size=1, max_size=10))
def test_hand_made_conditions_agree(text, rows):
    tree, _names = parse_condition(text, {"a", "b", "c"})
    scalar_fn, vector_fn = compile_condition(tree), compile_vector(tree)
    scalar = [None if (v := scalar_fn(row)) is None else bool(v) for row in rows]
    assert _vector_verdicts(vector_fn, rows, "abc", len(rows)) == scalar


def test_params_are_folded_in_and_requires_is_never_checked():
    rule = RULES.get("workers.over_age")
    cols = _columns([{"age_at_last_day": 61, "is_female": False}, {"age_at_last_day": 59, "is_female": False},
                     {"age_at_last_day": None, "is_female": True}], FEATURES["worker"])
    fired, missing = rule.evaluate_columns(cols, 3)
    assert fired.tolist() == [True, False, False] and missing.tolist() == [False, False, True]
    blind = RULES.get("workers.no_contract")
    fired, missing = blind.evaluate_columns(cols, 3)
    assert not fired.any() and missing.all()
